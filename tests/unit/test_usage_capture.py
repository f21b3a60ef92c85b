"""Usage read from streams and bodies: field-by-field merge, cache classes, server tools, errors."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from codegateway.dev.emulator_script import Knobs, compose_answer, message_json, stream_events
from codegateway.proxy.metering import UsageCapture

PAYLOAD = {"model": "claude-sonnet-4-6", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def _knobs(usage: str) -> Knobs:
    return Knobs.from_headers({"x-emulator-usage": usage})


def test_stream_usage_takes_input_from_start_and_output_from_the_last_delta() -> None:
    answer = compose_answer(
        PAYLOAD, _knobs("input=1000,output=500,cache_write_5m=2000,cache_write_1h=300,cache_read=10000")
    )
    capture = UsageCapture(streaming=True)
    for event in stream_events(answer, deltas=4):
        capture.feed(event)
    capture.finish()
    usage = capture.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens) == (1000, 500, 10000)
    assert usage.cache_writes_by_ttl == (2000, 300)
    assert capture.message_stopped and capture.stop_reason == "end_turn"


def test_last_reported_value_wins_and_values_are_never_added() -> None:
    capture = UsageCapture(streaming=True)
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 10, "output_tokens": 1}}}
    capture.feed(b"event: message_start\ndata: " + orjson.dumps(start) + b"\n\n")
    delta = {
        "type": "message_delta",
        "delta": {},
        "usage": {"output_tokens": 7, "cache_read_input_tokens": 40},
    }
    capture.feed(b"event: message_delta\ndata: " + orjson.dumps(delta) + b"\n\n")
    assert (capture.usage.input_tokens, capture.usage.output_tokens) == (10, 7)
    assert capture.usage.cache_read_input_tokens == 40  # reported only in message_delta


def test_unsplit_cache_writes_count_at_the_five_minute_rate() -> None:
    capture = UsageCapture(streaming=False)
    capture.feed(orjson.dumps({"type": "message", "usage": {"input_tokens": 1, "cache_creation_input_tokens": 99}}))
    capture.finish()
    assert capture.usage.cache_writes_by_ttl == (99, 0)


def test_plain_body_usage_server_tools_and_speed() -> None:
    answer = compose_answer(PAYLOAD, _knobs("input=5,output=6,web_search=2,speed=fast"))
    capture = UsageCapture(streaming=False)
    body = orjson.dumps(message_json(answer))
    capture.feed(body[:10])
    capture.feed(body[10:])
    capture.finish()
    assert capture.usage.web_search_requests == 2
    assert capture.usage.speed == "fast"
    assert capture.message_stopped


def test_stream_error_event_is_noted() -> None:
    capture = UsageCapture(streaming=True)
    capture.feed(
        b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    )
    assert capture.upstream_error_type == "overloaded_error"


def test_a_stream_cut_before_message_delta_is_billed_for_the_content_relayed() -> None:
    capture = UsageCapture(streaming=True)
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 50, "output_tokens": 1}}}
    capture.feed(b"event: message_start\ndata: " + orjson.dumps(start) + b"\n\n")
    for piece in ("a" * 300, "b" * 300):
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        capture.feed(b"event: content_block_delta\ndata: " + orjson.dumps(delta) + b"\n\n")
    tool = {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "c" * 90}}
    capture.feed(b"event: content_block_delta\ndata: " + orjson.dumps(tool) + b"\n\n")
    capture.finish()
    assert capture.usage.output_tokens == 230  # 690 characters / 3, rounded up
    assert capture.usage.input_tokens == 50


def test_a_complete_stream_is_billed_what_the_upstream_reported() -> None:
    answer = compose_answer(PAYLOAD, _knobs("input=10,output=2"))
    capture = UsageCapture(streaming=True)
    for event in stream_events(answer, deltas=3):
        capture.feed(event)
    capture.finish()
    assert capture.usage.output_tokens == 2  # message_delta's count, not the estimate


def test_odd_shapes_do_not_break_metering() -> None:
    capture = UsageCapture(streaming=True)
    capture.feed(b'event: message_start\ndata: {"type": "message_start", "message": "text"}\n\n')
    capture.feed(b'event: message_delta\ndata: {"usage": [1, 2]}\n\n')
    capture.feed(b"event: content_block_delta\ndata: [1]\n\n")
    capture.finish()
    assert capture.usage.input_tokens == 0


def test_speed_and_data_residency_are_read_from_the_response() -> None:
    request = {**PAYLOAD, "speed": "fast"}
    answer = compose_answer(request, _knobs("input=5,output=6,speed=standard,inference_geo=us"))
    capture = UsageCapture(streaming=True)
    for event in stream_events(answer, deltas=2):
        capture.feed(event)
    capture.finish()
    # The request asked for fast; the response says it was served at standard, in the US.
    assert (capture.usage.speed, capture.usage.inference_geo) == ("standard", "us")


def test_the_emulator_echoes_a_requested_speed_like_the_api() -> None:
    answer = compose_answer({**PAYLOAD, "speed": "fast"}, _knobs("input=5"))
    assert answer.usage["speed"] == "fast"


def _sse(name: str, data: Mapping[str, object]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def test_a_stream_refused_before_any_output_is_marked_so() -> None:
    capture = UsageCapture(streaming=True)
    capture.feed(_sse("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 900}}}))
    delta = {"type": "message_delta", "delta": {"stop_reason": "refusal"}, "usage": {"output_tokens": 3}}
    capture.feed(_sse("message_delta", delta))
    capture.finish()
    assert capture.usage.refused_before_output


def test_a_stream_refused_after_output_began_is_not_a_refusal_before_output() -> None:
    capture = UsageCapture(streaming=True)
    capture.feed(_sse("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 900}}}))
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    capture.feed(_sse("content_block_start", block))
    delta = {"type": "message_delta", "delta": {"stop_reason": "refusal"}, "usage": {"output_tokens": 30}}
    capture.feed(_sse("message_delta", delta))
    capture.finish()
    assert capture.usage.stop_reason == "refusal" and not capture.usage.refused_before_output


def test_a_plain_refusal_with_empty_content_is_marked_so() -> None:
    capture = UsageCapture(streaming=False)
    body = {"type": "message", "content": [], "stop_reason": "refusal", "usage": {"input_tokens": 900}}
    capture.feed(orjson.dumps(body))
    capture.finish()
    assert capture.usage.refused_before_output


def test_iterations_are_read_from_the_last_message_delta() -> None:
    capture = UsageCapture(streaming=True)
    capture.feed(_sse("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 23_000}}}))
    iterations = [
        {"type": "compaction", "input_tokens": 180_000, "output_tokens": 3_500},
        {"type": "advisor_message", "model": "claude-opus-5-5", "input_tokens": 10, "output_tokens": 2},
    ]
    delta = {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 1_000, "iterations": iterations}}
    capture.feed(_sse("message_delta", delta))
    capture.finish()
    got = [(it.type, it.model, it.usage.input_tokens, it.usage.output_tokens) for it in capture.usage.iterations]
    assert got == [("compaction", None, 180_000, 3_500), ("advisor_message", "claude-opus-5-5", 10, 2)]
