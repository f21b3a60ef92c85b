"""Chat Completions messages become Messages API turns: roles, merging, parts, tool calls and results."""

from __future__ import annotations

from typing import Any

import pytest

from codegateway.openai_compat import InvalidChatRequest, to_anthropic_request


def _translate(messages: list[dict[str, Any]]) -> dict[str, Any]:
    request = to_anthropic_request({"model": "claude-sonnet-4-6", "messages": messages})
    return {key: request[key] for key in ("system", "messages") if key in request}


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def _call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


CASES = [
    pytest.param([{"role": "user", "content": "Hi"}], {"messages": [{"role": "user", "content": "Hi"}]}, id="plain"),
    pytest.param(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [_text("Use British spelling."), _text("No emoji.")]},
            {"role": "user", "content": "Hi"},
            {"role": "system", "content": "Late instruction."},
        ],
        {
            "system": [
                _text("Be brief."),
                _text("Use British spelling."),
                _text("No emoji."),
                _text("Late instruction."),
            ],
            "messages": [{"role": "user", "content": "Hi"}],
        },
        id="system-and-developer-joined-in-order-wherever-they-stand",
    ),
    pytest.param(
        [{"role": "system", "content": "Write a haiku about rain."}],
        {"messages": [{"role": "user", "content": "Write a haiku about rain."}]},
        id="system-only-becomes-the-user-turn",
    ),
    pytest.param(
        [{"role": "user", "content": "One."}, {"role": "user", "content": [_text("Two."), _text("Three.")]}],
        {"messages": [{"role": "user", "content": [_text("One."), _text("Two."), _text("Three.")]}]},
        id="consecutive-user-messages-merged",
    ),
    pytest.param(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]},
            {"role": "user", "content": "Why?"},
        ],
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": [_text("Hello."), _text("I can't.")]},
                {"role": "user", "content": "Why?"},
            ]
        },
        id="consecutive-assistant-messages-merged-refusal-kept-as-text",
    ),
    pytest.param(
        [
            {"role": "user", "content": ""},
            {"role": "user", "content": [_text(" \n")]},
            {"role": "user", "content": "x"},
        ],
        {"messages": [{"role": "user", "content": "x"}]},
        id="empty-and-whitespace-content-dropped",
    ),
    pytest.param(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None}, {"role": "user", "content": "?"}],
        {"messages": [{"role": "user", "content": [_text("Hi"), _text("?")]}]},
        id="empty-assistant-dropped-and-neighbours-merged",
    ),
    pytest.param(
        [{"role": "user", "content": "Pick A or B."}, {"role": "assistant", "content": "The answer is (  \n"}],
        {
            "messages": [
                {"role": "user", "content": "Pick A or B."},
                {"role": "assistant", "content": "The answer is ("},
            ]
        },
        id="assistant-prefill-kept-without-trailing-whitespace",
    ),
    pytest.param(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "  "}],
        {"messages": [{"role": "user", "content": "Hi"}]},
        id="whitespace-only-prefill-dropped",
    ),
    pytest.param(
        [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    _call("toolu_01", "get_weather", '{"city": "Paris"}'),
                    _call("toolu_02", "get_weather", '{"city": "Rome"}'),
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_01", "content": "18C"},
            {"role": "tool", "tool_call_id": "toolu_02", "content": [_text("21C")]},
        ],
        {
            "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {
                    "role": "assistant",
                    "content": [
                        _text("Checking."),
                        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
                        {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {"city": "Rome"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18C"},
                        {"type": "tool_result", "tool_use_id": "toolu_02", "content": [_text("21C")]},
                    ],
                },
            ]
        },
        id="tool-calls-and-consecutive-results-in-one-user-turn",
    ),
    pytest.param(
        [
            {"role": "assistant", "content": "", "tool_calls": [_call("toolu_01", "now", "")]},
            {"role": "user", "content": "(tool is slow)"},
            {"role": "tool", "tool_call_id": "toolu_01", "content": ""},
        ],
        {
            "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01", "name": "now", "input": {}}]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_01"}, _text("(tool is slow)")],
                },
            ]
        },
        id="empty-arguments-and-result-and-tool-results-put-first",
    ),
]


@pytest.mark.parametrize(("openai_messages", "expected"), CASES)
def test_messages_translate(openai_messages: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert _translate(openai_messages) == expected


REFUSED = [
    pytest.param([], "messages", id="no-messages"),
    pytest.param([{"role": "user", "content": ""}], "messages", id="nothing-with-content"),
    pytest.param(["hi"], "messages[0]", id="message-not-an-object"),
    pytest.param([{"role": "robot", "content": "x"}], "messages[0].role", id="unknown-role"),
    pytest.param([{"role": "function", "name": "f", "content": "x"}], "messages[0].role", id="function-role"),
    pytest.param([{"role": "user", "content": None}], "messages[0].content", id="user-without-content"),
    pytest.param([{"role": "user", "content": 42}], "messages[0]", id="content-not-string-or-list"),
    pytest.param([{"role": "system", "content": [{"type": "image_url"}]}], "messages[0].content[0]", id="system-image"),
    pytest.param(
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
        "messages[0].content[0]",
        id="audio-part",
    ),
    pytest.param(
        [{"role": "user", "content": [{"type": "file", "file": {}}]}], "messages[0].content[0]", id="file-part"
    ),
    pytest.param([{"role": "user", "content": [{"type": "video"}]}], "messages[0].content[0]", id="unknown-part"),
    pytest.param(
        [{"role": "assistant", "tool_calls": [_call("toolu_1", "f", "{not json")]}],
        "messages[0].tool_calls[0].function.arguments",
        id="arguments-invalid-json",
    ),
    pytest.param(
        [{"role": "assistant", "tool_calls": [_call("toolu_1", "f", "[1, 2]")]}],
        "messages[0].tool_calls[0].function.arguments",
        id="arguments-not-an-object",
    ),
    pytest.param(
        [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f"}}]}],
        "messages[0].tool_calls[0]",
        id="tool-call-without-id",
    ),
    pytest.param(
        [{"role": "assistant", "tool_calls": [{"id": "c", "type": "custom", "custom": {}}]}],
        "messages[0].tool_calls[0]",
        id="custom-tool-call",
    ),
    pytest.param(
        [{"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}],
        "messages[0].function_call",
        id="deprecated-function-call",
    ),
    pytest.param([{"role": "tool", "content": "42"}], "messages[0]", id="tool-result-without-call-id"),
]


@pytest.mark.parametrize(("openai_messages", "param"), REFUSED)
def test_untranslatable_messages_are_a_400_naming_the_field(openai_messages: list[Any], param: str) -> None:
    with pytest.raises(InvalidChatRequest) as refused:
        _translate(openai_messages)
    assert refused.value.status == 400
    assert refused.value.param == param
