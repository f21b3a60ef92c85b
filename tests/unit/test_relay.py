"""The relay loop on its own: pings only between events, errors instead of silent cuts, one settle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import Message

from codegateway.domain.outcomes import Ended
from codegateway.domain.sse import SseParser
from codegateway.proxy.metering import UsageCapture
from codegateway.proxy.relay import RelayOutcome, relay
from codegateway.proxy.upstream import UpstreamResponse

START = b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":7}}}\n\n'
STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


class ScriptedUpstream(UpstreamResponse):
    """Yields bytes, pausing where the script says `float` seconds, failing where it says Exception
    (the upstream's interface without an httpx response: UpstreamResponse.__init__ is not called)."""

    def __init__(self, script: list[object], log: list[str] | None = None) -> None:
        self.status = 200
        self.headers = []
        self.script = script
        self.closed = False
        self.log = log if log is not None else []

    async def _chunks(self) -> AsyncIterator[bytes]:
        for step in self.script:
            if isinstance(step, float):
                await asyncio.sleep(step)
            elif isinstance(step, Exception):
                raise step
            else:
                self.log.append("upstream chunk read")
                yield step  # type: ignore[misc]

    def chunks(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def aclose(self) -> None:
        self.closed = True


def _run(
    script: list[object],
    *,
    keepalive: float = 0.05,
    total: float = 5.0,
    disconnect_after: float | None = None,
    send_delay: float = 0.0,
    capture: UsageCapture | None = None,
    log: list[str] | None = None,
) -> tuple[RelayOutcome, bytes]:
    sent: list[bytes] = []
    settled: list[RelayOutcome] = []
    upstream = ScriptedUpstream(script, log)

    async def send(message: Message) -> None:
        if send_delay:
            await asyncio.sleep(send_delay)
        if message["type"] == "http.response.body":
            sent.append(message["body"])
            upstream.log.append("client write")

    async def receive() -> dict[str, Any]:
        if disconnect_after is None:
            await asyncio.Event().wait()
        await asyncio.sleep(disconnect_after)  # type: ignore[arg-type]
        return {"type": "http.disconnect"}

    async def settle(outcome: RelayOutcome) -> None:
        settled.append(outcome)

    async def go() -> RelayOutcome:
        started = time.monotonic()
        return await relay(
            send,
            receive,
            upstream,
            capture or UsageCapture(streaming=True),
            response_headers=[],
            started=started,
            deadline=started + total,
            keepalive_interval_s=keepalive,
            settle=settle,
        )

    outcome = asyncio.run(go())
    assert settled == [outcome]  # settled exactly once, before the response ended
    assert upstream.closed
    return outcome, b"".join(sent)


def test_silence_inside_an_event_gets_no_ping_until_the_event_ends() -> None:
    outcome, body = _run([START, b"event: content_block_delta\ndata: {", 0.3, b'"x": 1}\n\n', 0.2, STOP])
    assert outcome.ended == Ended.COMPLETED
    half_event = body.index(b"data: {")
    assert b"ping" not in body[half_event : body.index(b'"x": 1}')]
    assert outcome.keepalives_sent >= 1  # the pings came in the silence between events
    events = SseParser().feed(body)
    assert [event.name for event in events if event.name != "ping"] == [
        "message_start",
        "content_block_delta",
        "message_stop",
    ]


def test_upstream_failure_mid_stream_is_an_error_event_not_a_silent_cut() -> None:
    outcome, body = _run([START, ConnectionResetError("peer reset")])
    assert outcome.ended == Ended.UPSTREAM_RESET
    assert SseParser().feed(body)[-1].name == "error"


def test_a_stream_that_ends_before_message_stop_is_reported() -> None:
    outcome, body = _run([START])
    assert outcome.ended == Ended.UPSTREAM_RESET
    assert b'"api_error"' in SseParser().feed(body)[-1].data


def test_total_deadline_ends_the_stream_with_a_timeout_event() -> None:
    outcome, body = _run([START, 5.0, STOP], keepalive=1.0, total=0.3)
    assert outcome.ended == Ended.TIMEOUT
    assert b'"timeout_error"' in SseParser().feed(body)[-1].data


def test_client_disconnect_stops_relaying_and_still_settles() -> None:
    outcome, body = _run([START, 2.0, STOP], keepalive=1.0, disconnect_after=0.1)
    assert outcome.ended == Ended.CLIENT_DISCONNECTED
    assert STOP not in body


def test_a_slow_client_cannot_hold_the_response_past_the_deadline() -> None:
    delta = b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"x"}}\n\n'
    began = time.monotonic()
    outcome, _ = _run([START, *[delta] * 200, STOP], keepalive=1.0, total=0.5, send_delay=0.05)
    assert outcome.ended == Ended.TIMEOUT
    assert time.monotonic() - began < 2.5  # the deadline, plus the bounded error write and settle


def test_a_client_gone_before_any_chunk_still_leaves_the_input_tokens_known() -> None:
    capture = UsageCapture(streaming=True)
    outcome, body = _run([0.2, START, 5.0, STOP], keepalive=1.0, disconnect_after=0.0, capture=capture)
    assert outcome.ended == Ended.CLIENT_DISCONNECTED
    assert capture.usage.input_tokens == 7  # read on after the client left, sent to nobody
    assert body == b""


def test_a_chunk_goes_to_the_client_before_the_relay_reads_on_through_a_buffered_burst() -> None:
    # Three chunks already buffered: the first byte must not wait while the later ones are read.
    log: list[str] = []
    outcome, _ = _run([START, b"event: ping\ndata: {}\n\n", STOP], log=log)
    assert outcome.ended == Ended.COMPLETED
    assert log[:3] == ["upstream chunk read", "client write", "upstream chunk read"]
