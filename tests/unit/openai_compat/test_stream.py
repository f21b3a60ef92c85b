"""The stream translation: exact chunk sequences, one answer per upstream event, keepalives and failures."""

from __future__ import annotations

from typing import Any

import pytest

from codegateway.errors import sse_error_event
from codegateway.openai_compat import ChatCompletionStreamTranslator
from tests.unit.openai_compat.anthropic_stream import (
    CREATED,
    MESSAGE_STOP,
    MODEL,
    PING,
    TEXT_AND_TWO_TOOL_CALLS,
    TEXT_ANSWER,
    block_stop,
    chunk,
    error,
    frames,
    message_delta,
    message_start,
    signature_delta,
    text_delta,
    text_start,
    thinking_delta,
    thinking_start,
    tool_start,
)

ROLE = {"role": "assistant", "content": ""}


def _translator(include_usage: bool = False) -> ChatCompletionStreamTranslator:
    return ChatCompletionStreamTranslator(model=MODEL, created=CREATED, include_usage=include_usage)


def _translate(events: list[bytes], include_usage: bool = False) -> list[Any]:
    translator = _translator(include_usage)
    return frames(b"".join(translator.feed(event) for event in events) + translator.close())


def _tool_call(index: int, **fields: Any) -> dict[str, Any]:
    return {"tool_calls": [{"index": index, **fields}]}


def test_a_text_answer_streams_role_content_finish_and_done() -> None:
    assert _translate(TEXT_ANSWER) == [
        chunk(ROLE),
        ": ping",
        chunk({"content": "Hello"}),
        chunk({"content": ", world."}),
        chunk({}, "stop"),
        "[DONE]",
    ]


def test_the_wire_format_is_data_lines_and_a_done_sentinel() -> None:
    translator = _translator()
    translator.feed(TEXT_ANSWER[0])
    assert translator.feed(TEXT_ANSWER[3]) == (
        b'data: {"id":"chatcmpl-01Stream","object":"chat.completion.chunk","created":1790000000,'
        b'"model":"claude-sonnet-4-6","system_fingerprint":null,'
        b'"choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}\n\n'
    )
    assert translator.feed(b"".join(TEXT_ANSWER[4:])).endswith(b"\n\ndata: [DONE]\n\n")


def test_with_include_usage_every_chunk_has_usage_null_and_a_usage_chunk_ends_the_stream() -> None:
    events = [message_start(input_tokens=40, cache_read=1000, cache_write=200), *TEXT_ANSWER[1:]]
    translated = _translate(events, include_usage=True)
    assert translated[:-2] == [
        chunk(ROLE, with_usage_field=True),
        ": ping",
        chunk({"content": "Hello"}, with_usage_field=True),
        chunk({"content": ", world."}, with_usage_field=True),
        chunk({}, "stop", with_usage_field=True),
    ]
    usage_chunk = {**chunk({}), "choices": []}
    usage_chunk["usage"] = {
        "prompt_tokens": 1240,
        "completion_tokens": 12,
        "total_tokens": 1252,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 200},
    }
    assert translated[-2:] == [usage_chunk, "[DONE]"]


def test_text_and_two_tool_calls_number_the_calls_not_the_blocks() -> None:
    assert _translate(TEXT_AND_TWO_TOOL_CALLS) == [
        chunk(ROLE),
        chunk({"content": "Checking both."}),
        chunk(_tool_call(0, id="toolu_01A", type="function", function={"name": "get_weather", "arguments": ""})),
        chunk(_tool_call(0, function={"arguments": '{"city": "Par'})),
        chunk(_tool_call(0, function={"arguments": 'is"}'})),
        chunk(_tool_call(1, id="toolu_01B", type="function", function={"name": "get_weather", "arguments": ""})),
        chunk(_tool_call(1, function={"arguments": '{"city": "Rome"}'})),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]


def test_a_tool_call_that_streams_no_input_gets_empty_object_arguments() -> None:
    events = [message_start(), tool_start(0, "toolu_01N", "now"), block_stop(0), message_delta("tool_use", 9)]
    assert _translate([*events, MESSAGE_STOP])[1:3] == [
        chunk(_tool_call(0, id="toolu_01N", type="function", function={"name": "now", "arguments": ""})),
        chunk(_tool_call(0, function={"arguments": "{}"})),
    ]


def test_max_tokens_cut_finishes_with_length() -> None:
    events = [message_start(), text_start(0), text_delta(0, "Once upon a"), message_delta("max_tokens", 3)]
    assert _translate([*events, MESSAGE_STOP]) == [
        chunk(ROLE),
        chunk({"content": "Once upon a"}),
        chunk({}, "length"),
        "[DONE]",
    ]


def test_thinking_is_dropped_but_keeps_the_connection_busy() -> None:
    events = [
        message_start(),
        thinking_start(0),
        thinking_delta(0, "The user wants"),
        signature_delta(0),
        block_stop(0),
        text_start(1),
        text_delta(1, "42."),
        block_stop(1),
        tool_start(2, "toolu_01T", "record"),
        message_delta("end_turn", 50),
        MESSAGE_STOP,
    ]
    translated = _translate(events)
    assert translated[:5] == [chunk(ROLE), ": thinking", ": thinking", ": thinking", chunk({"content": "42."})]
    assert translated[5]["choices"][0]["delta"]["tool_calls"][0]["index"] == 0


def test_an_error_mid_stream_becomes_an_openai_error_payload_and_ends_the_stream() -> None:
    events = [message_start(), text_start(0), text_delta(0, "Part"), error("overloaded_error", "Overloaded")]
    error_payload = {
        "error": {"message": "Overloaded", "type": "server_error", "param": None, "code": "server_is_overloaded"}
    }
    later = [text_delta(0, "never shown"), message_delta("end_turn", 3), MESSAGE_STOP]
    assert _translate([*events, *later]) == [chunk(ROLE), chunk({"content": "Part"}), error_payload]


def test_a_relay_error_written_mid_event_still_reaches_the_client() -> None:
    translator = _translator()
    translator.feed(message_start())
    assert translator.feed(text_delta(0, "cut here")[:40]) == b""
    out = translator.feed(b"\n\n" + sse_error_event("api_error", "The connection broke mid-response."))
    assert frames(out) == [
        {
            "error": {
                "message": "The connection broke mid-response.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
    ]
    assert translator.finished and translator.close() == b""


def test_a_stream_that_ends_before_message_stop_ends_with_an_error() -> None:
    translated = _translate([message_start(), text_start(0), text_delta(0, "Hel")])
    assert translated[-1] == {
        "error": {"message": "The stream ended early.", "type": "server_error", "param": None, "code": None}
    }


def test_each_text_delta_is_answered_before_the_next_event_arrives() -> None:
    translator = _translator()
    assert frames(translator.feed(message_start())) == [chunk(ROLE)]
    assert translator.feed(text_start(0)) == b""
    for piece in ("One", " two", " three"):
        assert frames(translator.feed(text_delta(0, piece))) == [chunk({"content": piece})]
    assert frames(translator.feed(PING)) == [": ping"]
    assert frames(translator.feed(message_delta("end_turn", 4))) == [chunk({}, "stop")]
    assert frames(translator.feed(MESSAGE_STOP)) == ["[DONE]"]


def test_half_an_event_produces_nothing_until_it_is_complete() -> None:
    translator = _translator()
    translator.feed(message_start())
    delta = text_delta(0, "whole")
    assert translator.feed(delta[:-1]) == b""
    assert frames(translator.feed(delta[-1:])) == [chunk({"content": "whole"})]


@pytest.mark.parametrize("events", [TEXT_ANSWER, TEXT_AND_TWO_TOOL_CALLS], ids=["text", "tools"])
def test_any_chunking_of_the_upstream_bytes_gives_the_same_output(events: list[bytes]) -> None:
    stream = b"".join(events)
    whole = _translate([stream])
    assert _translate([bytes([byte]) for byte in stream]) == whole
    for cut in range(0, len(stream), 7):
        assert _translate([stream[:cut], stream[cut:]]) == whole


def test_parsed_events_can_be_fed_directly() -> None:
    translator = _translator()
    translator.translate_event("message_start", {"type": "message_start", "message": {"id": "msg_01Stream"}})
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}}
    assert frames(translator.translate_event("content_block_delta", delta)) == [chunk({"content": "hi"})]
