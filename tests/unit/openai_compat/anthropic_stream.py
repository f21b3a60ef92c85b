"""Realistic Anthropic Messages stream events (the API's order and fields) and OpenAI SSE decoding for tests."""

from __future__ import annotations

from typing import Any

import orjson

MODEL = "claude-sonnet-4-6"
CREATED = 1_790_000_000


def event(name: str, **data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) + b"\n\n"


def message_start(input_tokens: int = 472, cache_read: int = 0, cache_write: int = 0) -> bytes:
    usage = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": 2,
    }
    message: dict[str, Any] = {
        "id": "msg_01Stream",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return event("message_start", message=message)


PING = event("ping")


def text_start(index: int) -> bytes:
    return event("content_block_start", index=index, content_block={"type": "text", "text": ""})


def text_delta(index: int, text: str) -> bytes:
    return event("content_block_delta", index=index, delta={"type": "text_delta", "text": text})


def tool_start(index: int, tool_id: str, name: str) -> bytes:
    block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
    return event("content_block_start", index=index, content_block=block)


def json_delta(index: int, partial_json: str) -> bytes:
    return event("content_block_delta", index=index, delta={"type": "input_json_delta", "partial_json": partial_json})


def thinking_start(index: int) -> bytes:
    block = {"type": "thinking", "thinking": "", "signature": ""}
    return event("content_block_start", index=index, content_block=block)


def thinking_delta(index: int, thinking: str) -> bytes:
    return event("content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": thinking})


def signature_delta(index: int) -> bytes:
    return event("content_block_delta", index=index, delta={"type": "signature_delta", "signature": "EqQBCgIYAhIM"})


def block_stop(index: int) -> bytes:
    return event("content_block_stop", index=index)


def message_delta(stop_reason: str, output_tokens: int) -> bytes:
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    return event("message_delta", delta=delta, usage={"output_tokens": output_tokens})


MESSAGE_STOP = event("message_stop")


def error(error_type: str, message: str) -> bytes:
    return event("error", error={"type": error_type, "message": message})


TEXT_ANSWER = [
    message_start(),
    text_start(0),
    PING,
    text_delta(0, "Hello"),
    text_delta(0, ", world."),
    block_stop(0),
    message_delta("end_turn", 12),
    MESSAGE_STOP,
]

TEXT_AND_TWO_TOOL_CALLS = [
    message_start(),
    text_start(0),
    text_delta(0, "Checking both."),
    block_stop(0),
    tool_start(1, "toolu_01A", "get_weather"),
    json_delta(1, ""),
    json_delta(1, '{"city": "Par'),
    json_delta(1, 'is"}'),
    block_stop(1),
    tool_start(2, "toolu_01B", "get_weather"),
    json_delta(2, '{"city": "Rome"}'),
    block_stop(2),
    message_delta("tool_use", 89),
    MESSAGE_STOP,
]


def frames(sse: bytes) -> list[Any]:
    """OpenAI SSE bytes -> [chunk dict | "[DONE]" | ": comment"], one entry per frame."""
    decoded: list[Any] = []
    for frame in sse.split(b"\n\n")[:-1]:
        if frame.startswith(b": "):
            decoded.append(frame.decode())
        elif frame == b"data: [DONE]":
            decoded.append("[DONE]")
        else:
            assert frame.startswith(b"data: ") and b"\n" not in frame, frame
            decoded.append(orjson.loads(frame[6:]))
    assert sse.endswith(b"\n\n") or not sse
    return decoded


def chunk(delta: dict[str, Any], finish_reason: str | None = None, *, with_usage_field: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-01Stream",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if with_usage_field:
        body["usage"] = None
    return body
