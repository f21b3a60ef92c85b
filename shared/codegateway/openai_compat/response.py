"""A non-streamed Messages API response -> an OpenAI `chat.completion` object. No I/O.

Text blocks are concatenated (citations split one answer into many text blocks), tool_use blocks
become `tool_calls` with their input as a JSON string, and thinking blocks are dropped: Chat
Completions has no field for them. The pieces shared with the stream translator live here too.
"""

from __future__ import annotations

from typing import Any

import orjson

from codegateway.domain.usage import Usage

# Anthropic stop_reason -> OpenAI finish_reason ("stop", "length", "tool_calls", "content_filter").
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    # A server-tool loop hit its limit; the client cannot resume it through Chat Completions.
    "pause_turn": "stop",
}


def finish_reason(stop_reason: str | None) -> str:
    return FINISH_REASONS.get(stop_reason or "", "stop")


def completion_id(message_id: str) -> str:
    return "chatcmpl-" + message_id.removeprefix("msg_")


def openai_usage(usage: Usage) -> dict[str, Any]:
    """OpenAI counts every prompt token in prompt_tokens; Anthropic reports cache reads and writes apart."""
    prompt_tokens = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cache_read_input_tokens,
            "cache_write_tokens": usage.cache_creation_input_tokens,
        },
    }


def to_openai_response(anthropic_message: dict[str, Any], *, created: int, model: str) -> dict[str, Any]:
    blocks = anthropic_message.get("content") or []
    text = "".join(block.get("text", "") for block in blocks if block.get("type") == "text")
    tool_calls = [
        {
            "id": block["id"],
            "type": "function",
            "function": {"name": block["name"], "arguments": orjson.dumps(block.get("input", {})).decode()},
        }
        for block in blocks
        if block.get("type") == "tool_use"
    ]
    message: dict[str, Any] = {
        "role": "assistant",
        # OpenAI sends null content beside tool calls, and a string otherwise, even an empty one.
        "content": text if text or not tool_calls else None,
        "refusal": None,
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    usage = Usage()
    usage.merge(anthropic_message.get("usage"))
    return {
        "id": completion_id(str(anthropic_message.get("id", ""))),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(anthropic_message.get("stop_reason")),
            }
        ],
        "usage": openai_usage(usage),
        "system_fingerprint": None,
    }
