"""The official openai SDK through the local stack: chat, streams, tools, images, stops and errors."""

from __future__ import annotations

import base64
import uuid
from typing import Any, cast

import httpx
import openai
import orjson
import pytest
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)

from codegateway.dev.emulator_script import DEFAULT_TEXT
from codegateway.proxy.chat_completions import translate_chat_request
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller
from tests.support.stack import RunningStack
from tests.support.windows import wait_for_fresh_minute

# A 1x1 PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()


def _client(stack: RunningStack, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=api_key, max_retries=0)


@pytest.fixture
def caller(store: Store, stack_settings: Settings) -> ApiCaller:
    return new_caller(store, stack_settings)


def test_plain_chat(stack: RunningStack, caller: ApiCaller) -> None:
    completion = _client(stack, caller.api_key).chat.completions.create(
        model="claude-sonnet-4-6",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "say hi"}],
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_streaming_with_usage(stack: RunningStack, caller: ApiCaller) -> None:
    stream = _client(stack, caller.api_key).chat.completions.create(
        model="claude-haiku-4-5",
        messages=[{"role": "user", "content": "say hi"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-emulator-usage": "input=321,output=9"},
    )
    chunks = list(stream)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == DEFAULT_TEXT
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (321, 9)


def test_tool_call_round_trip(stack: RunningStack, caller: ApiCaller) -> None:
    client = _client(stack, caller.api_key)
    tools: list[ChatCompletionFunctionToolParam] = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    call = {"name": "get_weather", "input": {"city": "Lisbon"}}
    first = client.chat.completions.create(
        model="claude-sonnet-4-6",
        tools=tools,
        messages=[{"role": "user", "content": "weather in Lisbon?"}],
        extra_headers={"x-emulator-tool-call": orjson.dumps(call).decode()},
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (tool_call,) = choice.message.tool_calls or []
    assert isinstance(tool_call, ChatCompletionMessageFunctionToolCall)
    assert tool_call.function.name == "get_weather"
    assert orjson.loads(tool_call.function.arguments) == {"city": "Lisbon"}
    second = client.chat.completions.create(
        model="claude-sonnet-4-6",
        tools=tools,
        messages=[
            {"role": "user", "content": "weather in Lisbon?"},
            cast(ChatCompletionAssistantMessageParam, choice.message.model_dump(exclude_none=True)),
            {"role": "tool", "tool_call_id": tool_call.id, "content": "22 C and sunny"},
        ],
    )
    assert second.choices[0].message.content == DEFAULT_TEXT
    assert second.choices[0].finish_reason == "stop"


def test_image_part(stack: RunningStack, caller: ApiCaller) -> None:
    completion = _client(stack, caller.api_key).chat.completions.create(
        model="claude-sonnet-4-6",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                ],
            }
        ],
    )
    assert completion.choices[0].message.content == DEFAULT_TEXT


def test_stop_sequence(stack: RunningStack, caller: ApiCaller) -> None:
    completion = _client(stack, caller.api_key).chat.completions.create(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}], stop=["emulator"]
    )
    assert completion.choices[0].message.content == DEFAULT_TEXT.split("emulator")[0]
    assert completion.choices[0].finish_reason == "stop"


def test_models_list_in_openai_shape(stack: RunningStack, caller: ApiCaller) -> None:
    models = list(_client(stack, caller.api_key).models.list())
    assert "claude-sonnet-4-6" in {model.id for model in models}
    assert all(model.object == "model" and model.owned_by == "anthropic" for model in models)


def test_error_statuses_in_openai_shape(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    hi: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
    bad_key = _client(stack, "sk-cg-0000000000000000_" + "x" * 43)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad_key.chat.completions.create(model="claude-sonnet-4-6", messages=hi)
    assert caught.value.code == "invalid_api_key"
    # Validation errors (400, 413, 422) are refused before the rate limit counts the request.
    client = _client(stack, new_caller(store, stack_settings, rpm_limit=2).api_key)
    wait_for_fresh_minute()
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="claude-sonnet-4-6", messages=hi, n=2)
    with pytest.raises(openai.UnprocessableEntityError) as unknown:
        client.chat.completions.create(model="claude-sonnet-4.6", messages=hi)
    assert unknown.value.code == "model_not_found" and "claude-sonnet-4-6" in unknown.value.message
    with pytest.raises(openai.APIStatusError) as too_large:
        client.chat.completions.create(
            model="claude-sonnet-4-6", messages=[{"role": "user", "content": "x" * 6_300_000}]
        )
    assert too_large.value.status_code == 413
    with pytest.raises(openai.InternalServerError) as overloaded:
        client.chat.completions.create(
            model="claude-sonnet-4-6", messages=hi, extra_headers={"x-emulator-status": "529"}
        )
    assert overloaded.value.status_code == 529
    client.chat.completions.create(model="claude-sonnet-4-6", messages=hi)
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="claude-sonnet-4-6", messages=hi)
    assert limited.value.response.headers["retry-after"].isdigit()
    broke = new_caller(store, stack_settings.model_copy(update={"starter_credit_nano": 1}))
    with pytest.raises(openai.APIStatusError) as unpaid:
        _client(stack, broke.api_key).chat.completions.create(model="claude-sonnet-4-6", messages=hi)
    assert unpaid.value.status_code == 402 and unpaid.value.code == "insufficient_quota"


def test_translated_request_is_metered_like_the_same_native_one(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    chat: dict[str, Any] = {
        "model": "claude-opus-4-8",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": "compare"}],
    }
    knobs = {"x-emulator-usage": "input=2000,output=150,cache_read=5000,cache_write_1h=700"}
    via_openai, native = new_caller(store, stack_settings), new_caller(store, stack_settings)
    _client(stack, via_openai.api_key).chat.completions.create(**chat, extra_headers=knobs)
    native_body = translate_chat_request(chat).messages_body
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=native_body,
        headers={"x-api-key": native.api_key, **knobs, "x-emulator-scenario": uuid.uuid4().hex},
    )
    assert response.status_code == 200
    (translated_row,) = store.usage.requests(account_id=via_openai.account.account_id).records
    (native_row,) = store.usage.requests(account_id=native.account.account_id).records
    metered = (
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_write_1h_tokens",
        "base_nano",
        "markup_bp",
        "billed_nano",
        "status",
        "ended",
    )
    assert {field: getattr(translated_row, field) for field in metered} == {
        field: getattr(native_row, field) for field in metered
    }
    assert (translated_row.source, native_row.source) == ("openai", "anthropic")
    assert translated_row.billed_nano > 0
