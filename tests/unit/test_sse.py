"""The incremental SSE parser: same events whatever the chunking, and exact event boundaries."""

from __future__ import annotations

import pytest

from codegateway.domain.sse import SseEvent, SseParser

STREAM = (
    b'event: message_start\ndata: {"a": 1}\n\n'
    b": a comment line\n\n"
    b'event: ping\ndata: {"type": "ping"}\n\n'
    b"data: line one\ndata: line two\n\n"
    b"event: message_stop\ndata: {}\n\n"
)
EXPECTED = [
    SseEvent("message_start", b'{"a": 1}'),
    SseEvent("ping", b'{"type": "ping"}'),
    SseEvent("message", b"line one\nline two"),
    SseEvent("message_stop", b"{}"),
]


def _parse(chunks: list[bytes]) -> list[SseEvent]:
    parser = SseParser()
    return [event for chunk in chunks for event in parser.feed(chunk)] + parser.close()


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_every_split_point_gives_the_same_events(line_end: bytes) -> None:
    stream = STREAM.replace(b"\n", line_end)
    for cut in range(len(stream) + 1):
        assert _parse([stream[:cut], stream[cut:]]) == EXPECTED, cut


def test_byte_by_byte_feeding_gives_the_same_events() -> None:
    assert _parse([bytes([byte]) for byte in STREAM]) == EXPECTED


def test_boundary_is_known_only_between_events() -> None:
    parser = SseParser()
    assert parser.at_event_boundary
    parser.feed(b'event: content_block_delta\ndata: {"par')
    assert not parser.at_event_boundary
    parser.feed(b'tial": true}\n')
    assert not parser.at_event_boundary  # the blank line that ends the event has not come
    parser.feed(b"\n")
    assert parser.at_event_boundary
    parser.feed(b"\r")
    assert not parser.at_event_boundary  # might be the start of CRLF
