"""The official openai SDK (3.57, no network) reads what the translation writes: objects, chunks, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import openai
import orjson
import pytest
from openai.types import Model
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
)

from codegateway.openai_compat import (
    ChatCompletionStreamTranslator,
    stream_includes_usage,
    to_anthropic_request,
    to_openai_error,
    to_openai_model_list,
    to_openai_response,
)
from tests.unit.openai_compat.anthropic_stream import (
    CREATED,
    MODEL,
    PING,
    TEXT_AND_TWO_TOOL_CALLS,
    TEXT_ANSWER,
    error,
    message_start,
    text_delta,
    text_start,
    thinking_delta,
    thinking_start,
)

WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ANTHROPIC_ANSWER = {
    "id": "msg_01Whole",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 30, "output_tokens": 20, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 0},
}
Handler = Callable[[dict[str, Any]], httpx2.Response]


@pytest.fixture
def client_answering() -> Iterator[Callable[[Handler], openai.OpenAI]]:
    """An OpenAI client whose HTTP requests are answered in-process by a gateway stand-in."""
    clients: list[openai.OpenAI] = []

    def build(answer: Handler) -> openai.OpenAI:
        def handle(request: httpx2.Request) -> httpx2.Response:
            return answer(orjson.loads(request.content))

        http_client = httpx2.Client(transport=httpx2.MockTransport(handle))
        client = openai.OpenAI(api_key="sk-cg-test", base_url="http://gateway.test/v1", http_client=http_client)
        clients.append(client.with_options(max_retries=0))
        return clients[-1]

    yield build
    for client in clients:
        client.close()


def _stream_response(openai_body: dict[str, Any], events: list[bytes]) -> httpx2.Response:
    anthropic_body = to_anthropic_request(openai_body)
    assert anthropic_body["stream"] is True
    translator = ChatCompletionStreamTranslator(
        model=openai_body["model"], created=CREATED, include_usage=stream_includes_usage(openai_body)
    )
    sse = b"".join(translator.feed(event) for event in events) + translator.close()
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)


def test_the_sdk_validates_a_translated_completion() -> None:
    completion = ChatCompletion.model_validate(to_openai_response(ANTHROPIC_ANSWER, created=CREATED, model=MODEL))
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.prompt_tokens == 35


@pytest.mark.parametrize("events", [TEXT_ANSWER, TEXT_AND_TWO_TOOL_CALLS], ids=["text", "tools"])
def test_the_sdk_validates_every_translated_chunk(events: list[bytes]) -> None:
    translator = ChatCompletionStreamTranslator(model=MODEL, created=CREATED, include_usage=True)
    sse = b"".join(translator.feed(event) for event in events)
    data_frames = [frame[6:] for frame in sse.split(b"\n\n") if frame.startswith(b"data: {")]
    chunks = [ChatCompletionChunk.model_validate(orjson.loads(frame)) for frame in data_frames]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_the_sdk_validates_the_model_list() -> None:
    listing = to_openai_model_list([("claude-sonnet-4-6", "2026-02-17T00:00:00Z"), ("claude-haiku-3-5", "2024-10-22")])
    models = [Model.model_validate(entry) for entry in listing["data"]]
    assert listing["object"] == "list"
    assert [(model.id, model.created, model.owned_by) for model in models] == [
        ("claude-sonnet-4-6", 1771286400, "anthropic"),
        ("claude-haiku-3-5", 1729555200, "anthropic"),
    ]


def test_a_tool_call_round_trip_through_the_sdk(client_answering: Callable[[Handler], openai.OpenAI]) -> None:
    seen: list[dict[str, Any]] = []

    def gateway(openai_body: dict[str, Any]) -> httpx2.Response:
        seen.append(to_anthropic_request(openai_body))
        answer = to_openai_response(ANTHROPIC_ANSWER, created=CREATED, model=openai_body["model"])
        return httpx2.Response(200, json=answer)

    client = client_answering(gateway)
    first = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL]
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert orjson.loads(call.function.arguments) == {"city": "Paris"}
    client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert seen[1]["messages"][1:] == [
        {"role": "assistant", "content": ANTHROPIC_ANSWER["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18C and sunny"}]},
    ]


def test_the_sdk_streams_text_with_usage_and_skips_keepalive_comments(
    client_answering: Callable[[Handler], openai.OpenAI],
) -> None:
    events = [message_start(), thinking_start(0), thinking_delta(0, "Hmm"), PING, *TEXT_ANSWER[1:]]
    client = client_answering(lambda body: _stream_response(body, events))
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "Hello, world."
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 12


def test_the_sdk_stream_helper_assembles_two_tool_calls(client_answering: Callable[[Handler], openai.OpenAI]) -> None:
    client = client_answering(lambda body: _stream_response(body, TEXT_AND_TWO_TOOL_CALLS))
    with client.chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "Paris and Rome?"}], tools=[WEATHER_TOOL]
    ) as stream:
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == "Checking both."
    calls = [call for call in message.tool_calls or [] if isinstance(call, ChatCompletionMessageFunctionToolCall)]
    assert [(call.id, call.function.arguments) for call in calls] == [
        ("toolu_01A", '{"city": "Paris"}'),
        ("toolu_01B", '{"city": "Rome"}'),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_an_error_mid_stream_raises_in_the_sdk(client_answering: Callable[[Handler], openai.OpenAI]) -> None:
    events = [message_start(), text_start(0), text_delta(0, "Par"), error("overloaded_error", "Overloaded")]
    client = client_answering(lambda body: _stream_response(body, events))
    stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True)
    with pytest.raises(openai.APIError) as raised:
        list(stream)
    assert raised.value.message == "Overloaded"
    assert raised.value.code == "server_is_overloaded"


@pytest.mark.parametrize(
    ("status", "anthropic_type", "exception", "code"),
    [
        (400, "invalid_request_error", openai.BadRequestError, None),
        (401, "authentication_error", openai.AuthenticationError, "invalid_api_key"),
        (402, "billing_error", openai.APIStatusError, "insufficient_quota"),
        (403, "permission_error", openai.PermissionDeniedError, "permission_denied"),
        (413, "request_too_large", openai.APIStatusError, "request_too_large"),
        (422, "invalid_request_error", openai.UnprocessableEntityError, "model_not_found"),
        (429, "rate_limit_error", openai.RateLimitError, "rate_limit_exceeded"),
        (500, "api_error", openai.InternalServerError, None),
        (504, "timeout_error", openai.InternalServerError, "timeout"),
        (529, "overloaded_error", openai.InternalServerError, "server_is_overloaded"),
    ],
)
def test_each_error_status_reaches_the_sdk_as_its_exception_with_message_and_code(
    client_answering: Callable[[Handler], openai.OpenAI],
    status: int,
    anthropic_type: str,
    exception: type[openai.APIStatusError],
    code: str | None,
) -> None:
    anthropic_body = orjson.dumps({"type": "error", "error": {"type": anthropic_type, "message": "Said upstream."}})
    body = to_openai_error(status, anthropic_body)
    client = client_answering(lambda _: httpx2.Response(status, content=body))
    with pytest.raises(exception) as raised:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
    assert raised.value.status_code == status
    assert raised.value.code == code
    assert raised.value.body == orjson.loads(body)["error"]
    assert "Said upstream." in raised.value.message
