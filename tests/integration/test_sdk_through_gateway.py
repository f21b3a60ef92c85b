"""The official anthropic SDK, through the real local stack, to the bundled emulator."""

from __future__ import annotations

import anthropic
import pytest

from codegateway.dev.emulator_script import DEFAULT_TEXT
from tests.support.stack import RunningStack


@pytest.fixture
def client(stack: RunningStack) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.base_url, api_key=stack.api_key, max_retries=0)


def test_streamed_message_arrives_whole_through_the_sdk(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=200, messages=[{"role": "user", "content": "say hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == DEFAULT_TEXT
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0
    assert final.usage.input_tokens > 0


def test_plain_message_arrives_through_the_sdk(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "say hi"}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == DEFAULT_TEXT
    assert message.model == "claude-haiku-4-5"


def test_count_tokens_through_the_sdk(client: anthropic.Anthropic) -> None:
    counted = client.messages.count_tokens(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "count these words please"}]
    )
    assert counted.input_tokens > 0


def test_models_list_is_todays_lineup_newest_first_without_retired_models(client: anthropic.Anthropic) -> None:
    models = list(client.models.list())
    ids = [model.id for model in models]
    assert ids[:5] == [
        "claude-fable-5-2",
        "claude-mythos-5-2",
        "claude-haiku-5-5",
        "claude-sonnet-5-5",
        "claude-opus-5-5",
    ]
    assert {"claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-5"} <= set(ids)
    assert "claude-3-5-haiku-20241022" not in ids and "claude-sonnet-4-5" not in ids  # retired
    assert all(model_id.startswith("claude") for model_id in ids)
    assert client.models.retrieve("claude-opus-5-5").display_name == "Claude Opus 5.5"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-opus-4-1")


def test_sdk_sees_the_gateway_error_as_a_typed_exception(stack: RunningStack) -> None:
    bad = anthropic.Anthropic(base_url=stack.base_url, api_key="sk-cg-0000000000000000_" + "x" * 43, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        bad.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.response.headers["request-id"].startswith("req_cg_")
