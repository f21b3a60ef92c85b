"""Request parameters: tokens, sampling, stop, tools, tool_choice, streaming, user, formats and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from codegateway.openai_compat import (
    DEFAULT_MAX_TOKENS,
    InvalidChatRequest,
    stream_includes_usage,
    to_anthropic_request,
)

MESSAGES = [{"role": "user", "content": "Hi"}]
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Current weather", "parameters": WEATHER_SCHEMA},
}
ANTHROPIC_WEATHER_TOOL = {"name": "get_weather", "description": "Current weather", "input_schema": WEATHER_SCHEMA}


def _extra_fields(openai_fields: dict[str, Any], **options: Any) -> dict[str, Any]:
    """What the translation adds beyond model, max_tokens and messages."""
    request = to_anthropic_request({"model": "claude-sonnet-4-6", "messages": MESSAGES, **openai_fields}, **options)
    return {key: value for key, value in request.items() if key not in ("model", "messages", "max_tokens")}


def _max_tokens(openai_fields: dict[str, Any]) -> int:
    max_tokens: int = to_anthropic_request({"model": "m", "messages": MESSAGES, **openai_fields})["max_tokens"]
    return max_tokens


@pytest.mark.parametrize(
    ("openai_fields", "max_tokens"),
    [
        ({}, DEFAULT_MAX_TOKENS),
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 200}, 200),
        ({"max_completion_tokens": 200, "max_tokens": 100}, 200),
        ({"max_completion_tokens": None, "max_tokens": 100}, 100),
    ],
)
def test_max_tokens_prefers_max_completion_tokens_then_the_default(
    openai_fields: dict[str, Any], max_tokens: int
) -> None:
    assert _max_tokens(openai_fields) == max_tokens


def test_the_default_max_tokens_is_a_parameter() -> None:
    request = to_anthropic_request({"model": "m", "messages": MESSAGES}, default_max_tokens=1024)
    assert request["max_tokens"] == 1024


CASES = [
    pytest.param({}, {}, id="nothing-extra"),
    pytest.param({"temperature": 0}, {"temperature": 0}, id="temperature-0"),
    pytest.param({"temperature": 0.7}, {"temperature": 0.7}, id="temperature-kept-below-1"),
    pytest.param({"temperature": 1}, {}, id="temperature-1-is-the-default"),
    pytest.param({"temperature": 1.8}, {}, id="temperature-above-1-clamped-to-the-default"),
    pytest.param({"top_p": 0.9}, {"top_p": 0.9}, id="top-p"),
    pytest.param({"top_p": 1}, {}, id="top-p-1-is-the-default"),
    pytest.param(
        {"temperature": 0.2, "top_p": 1.0}, {"temperature": 0.2}, id="default-top-p-not-sent-beside-temperature"
    ),
    pytest.param({"stop": "END"}, {"stop_sequences": ["END"]}, id="stop-string"),
    pytest.param({"stop": ["END", "", "STOP"]}, {"stop_sequences": ["END", "STOP"]}, id="stop-list-empty-dropped"),
    pytest.param({"stop": None}, {}, id="stop-null"),
    pytest.param({"stream": True}, {"stream": True}, id="stream"),
    pytest.param({"stream": False}, {}, id="stream-false"),
    pytest.param({"user": "user-42"}, {"metadata": {"user_id": "user-42"}}, id="user"),
    pytest.param(
        {"user": "old", "safety_identifier": "new"}, {"metadata": {"user_id": "new"}}, id="safety-identifier-wins"
    ),
    pytest.param({"n": 1}, {}, id="n-1"),
    pytest.param({"response_format": {"type": "text"}}, {}, id="response-format-text"),
    pytest.param(
        {"response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": WEATHER_SCHEMA}}},
        {"output_config": {"format": {"type": "json_schema", "schema": WEATHER_SCHEMA}}},
        id="response-format-json-schema",
    ),
    pytest.param(
        {"frequency_penalty": 0.5, "presence_penalty": 0.1, "logit_bias": {"1": 2}, "logprobs": True, "seed": 7},
        {},
        id="ignored-sampling-fields",
    ),
    pytest.param(
        {
            "store": True,
            "metadata": {"k": "v"},
            "service_tier": "auto",
            "reasoning_effort": "high",
            "modalities": ["text"],
        },
        {},
        id="ignored-platform-fields",
    ),
    pytest.param({"tools": [WEATHER_TOOL]}, {"tools": [ANTHROPIC_WEATHER_TOOL]}, id="tools"),
    pytest.param(
        {"tools": [{"type": "function", "function": {"name": "now"}}]},
        {"tools": [{"name": "now", "input_schema": {"type": "object", "properties": {}}}]},
        id="tool-without-parameters-gets-an-empty-object-schema",
    ),
    pytest.param(
        {"tools": [{"type": "function", "function": {"name": "now", "parameters": WEATHER_SCHEMA, "strict": True}}]},
        {"tools": [{"name": "now", "input_schema": WEATHER_SCHEMA, "strict": True}]},
        id="strict-tool",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": "auto"},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "auto"}},
        id="tool-choice-auto",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": "none"},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "none"}},
        id="tool-choice-none",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": "required"},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "any"}},
        id="tool-choice-required",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "tool", "name": "get_weather"}},
        id="tool-choice-named",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "parallel_tool_calls": False},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
        id="no-parallel-calls-without-tool-choice",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": "required", "parallel_tool_calls": False},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "any", "disable_parallel_tool_use": True}},
        id="no-parallel-calls-with-required",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": "none", "parallel_tool_calls": False},
        {"tools": [ANTHROPIC_WEATHER_TOOL], "tool_choice": {"type": "none"}},
        id="no-parallel-calls-with-none",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "parallel_tool_calls": True},
        {"tools": [ANTHROPIC_WEATHER_TOOL]},
        id="parallel-calls-is-the-default",
    ),
    pytest.param({"tool_choice": "auto", "parallel_tool_calls": False}, {}, id="tool-settings-without-tools-dropped"),
    pytest.param({"tools": []}, {}, id="empty-tools"),
]


@pytest.mark.parametrize(("openai_fields", "anthropic_fields"), CASES)
def test_parameters_translate(openai_fields: dict[str, Any], anthropic_fields: dict[str, Any]) -> None:
    assert _extra_fields(openai_fields) == anthropic_fields


def test_sampling_parameters_can_be_left_out_for_models_that_refuse_them() -> None:
    assert _extra_fields({"temperature": 0.2, "top_p": 0.5}, forward_sampling_parameters=False) == {}
    with pytest.raises(InvalidChatRequest):
        _extra_fields({"temperature": 3}, forward_sampling_parameters=False)


REFUSED = [
    pytest.param({"n": 2}, "n", id="n-above-1"),
    pytest.param({"functions": [{"name": "f"}]}, "functions", id="deprecated-functions"),
    pytest.param({"function_call": "auto"}, "function_call", id="deprecated-function-call"),
    pytest.param({"audio": {"voice": "alloy", "format": "mp3"}}, "audio", id="audio-output"),
    pytest.param({"modalities": ["text", "audio"]}, "audio", id="audio-modality"),
    pytest.param({"model": ""}, "model", id="empty-model"),
    pytest.param({"model": None}, "model", id="missing-model"),
    pytest.param({"max_tokens": 0}, "max_tokens", id="max-tokens-zero"),
    pytest.param({"max_completion_tokens": "100"}, "max_completion_tokens", id="max-tokens-string"),
    pytest.param({"max_tokens": True}, "max_tokens", id="max-tokens-bool"),
    pytest.param({"temperature": 2.5}, "temperature", id="temperature-above-2"),
    pytest.param({"temperature": -0.1}, "temperature", id="temperature-negative"),
    pytest.param({"temperature": "hot"}, "temperature", id="temperature-string"),
    pytest.param({"top_p": 1.5}, "top_p", id="top-p-above-1"),
    pytest.param({"stop": ["END", 3]}, "stop", id="stop-not-strings"),
    pytest.param({"response_format": {"type": "json_object"}}, "response_format", id="json-object"),
    pytest.param(
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, "response_format", id="no-schema"
    ),
    pytest.param({"response_format": {"type": "yaml"}}, "response_format", id="unknown-format"),
    pytest.param({"tools": {"type": "function"}}, "tools", id="tools-not-a-list"),
    pytest.param({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0]", id="custom-tool"),
    pytest.param({"tools": [{"type": "function", "function": {}}]}, "tools[0].function", id="tool-without-name"),
    pytest.param(
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": [1]}}]}, "tools[0]", id="bad-schema"
    ),
    pytest.param({"tool_choice": "required"}, "tool_choice", id="required-without-tools"),
    pytest.param({"tools": [WEATHER_TOOL], "tool_choice": "sometimes"}, "tool_choice", id="unknown-tool-choice"),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": {"type": "allowed_tools", "allowed_tools": {}}},
        "tool_choice",
        id="allowed-tools-choice",
    ),
    pytest.param(
        {"tools": [WEATHER_TOOL], "tool_choice": {"type": "function"}}, "tool_choice", id="named-without-name"
    ),
]


@pytest.mark.parametrize(("openai_fields", "param"), REFUSED)
def test_unsupported_or_malformed_parameters_are_a_400(openai_fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidChatRequest) as refused:
        _extra_fields(openai_fields)
    assert refused.value.status == 400
    assert refused.value.param == param


def test_a_body_that_is_not_an_object_is_a_400() -> None:
    with pytest.raises(InvalidChatRequest):
        to_anthropic_request([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("openai_fields", "includes_usage"),
    [
        ({"stream": True, "stream_options": {"include_usage": True}}, True),
        ({"stream": True, "stream_options": {"include_usage": False}}, False),
        ({"stream": True}, False),
        ({"stream": False, "stream_options": {"include_usage": True}}, False),
    ],
)
def test_stream_usage_is_included_only_when_asked_for_on_a_stream(
    openai_fields: dict[str, Any], includes_usage: bool
) -> None:
    assert stream_includes_usage({"model": "m", "messages": MESSAGES, **openai_fields}) is includes_usage
