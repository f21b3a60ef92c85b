"""Whole Messages responses become chat.completion objects: content, tool calls, finish reasons, usage."""

from __future__ import annotations

from typing import Any

import pytest

from codegateway.openai_compat import to_openai_response

USAGE = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


def _message(content: list[dict[str, Any]], stop_reason: str = "end_turn", **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": USAGE,
        **extra,
    }


def _convert(message: dict[str, Any]) -> dict[str, Any]:
    return to_openai_response(message, created=1_790_000_000, model="claude-sonnet-4-6")


def test_a_text_answer_has_openai_s_exact_shape() -> None:
    assert _convert(_message([{"type": "text", "text": "Hello!"}])) == {
        "id": "chatcmpl-01XFDUDYJgAACzvnptvVoYEL",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": "claude-sonnet-4-6",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        },
        "system_fingerprint": None,
    }


TOOL_USE = {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}
WEATHER_CALL = {
    "id": "toolu_01A",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}

CONTENT_CASES = [
    pytest.param(
        [{"type": "text", "text": "The capital "}, {"type": "text", "text": "is Paris."}],
        {"content": "The capital is Paris."},
        id="text-blocks-concatenated",
    ),
    pytest.param([TOOL_USE], {"content": None, "tool_calls": [WEATHER_CALL]}, id="only-a-tool-call-null-content"),
    pytest.param(
        [{"type": "text", "text": "Checking."}, TOOL_USE],
        {"content": "Checking.", "tool_calls": [WEATHER_CALL]},
        id="text-and-tool-call",
    ),
    pytest.param(
        [TOOL_USE, {"type": "tool_use", "id": "toolu_01B", "name": "now", "input": {}}],
        {
            "content": None,
            "tool_calls": [
                WEATHER_CALL,
                {"id": "toolu_01B", "type": "function", "function": {"name": "now", "arguments": "{}"}},
            ],
        },
        id="two-tool-calls-empty-input-is-an-empty-object",
    ),
    pytest.param(
        [{"type": "thinking", "thinking": "Hmm.", "signature": "sig"}, {"type": "text", "text": "42"}],
        {"content": "42"},
        id="thinking-dropped",
    ),
    pytest.param([], {"content": ""}, id="empty-answer-is-an-empty-string"),
]


@pytest.mark.parametrize(("content", "expected_message"), CONTENT_CASES)
def test_content_becomes_the_assistant_message(content: list[dict[str, Any]], expected_message: dict[str, Any]) -> None:
    message = _convert(_message(content))["choices"][0]["message"]
    assert message == {"role": "assistant", "refusal": None, **expected_message}


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        (None, "stop"),
        ("some_future_reason", "stop"),
    ],
)
def test_stop_reasons_map_to_finish_reasons(stop_reason: str | None, finish_reason: str) -> None:
    answer = _convert(_message([{"type": "text", "text": "x"}], stop_reason=stop_reason))  # type: ignore[arg-type]
    assert answer["choices"][0]["finish_reason"] == finish_reason


def test_prompt_tokens_count_cache_reads_and_writes() -> None:
    usage = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 10000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 300,
        "service_tier": "standard",
    }
    answer = _convert(_message([{"type": "text", "text": "x"}], usage=usage))
    assert answer["usage"] == {
        "prompt_tokens": 12012,
        "completion_tokens": 300,
        "total_tokens": 12312,
        "prompt_tokens_details": {"cached_tokens": 10000, "cache_write_tokens": 2000},
    }


def test_an_id_without_the_msg_prefix_is_kept_whole() -> None:
    assert _convert(_message([], id="emu_123"))["id"] == "chatcmpl-emu_123"
