"""Request validation: what is 400, what is 422, and the suggestions for near-miss model ids."""

from __future__ import annotations

import orjson
import pytest

from codegateway.domain.catalog import Catalog
from codegateway.domain.message_request import parse_message_request
from codegateway.errors import InvalidRequest, UnknownModel

CATALOG = Catalog.load()


def test_valid_request_is_routed_by_model_and_stream_flag() -> None:
    parsed = parse_message_request(
        b'{"model":"claude-opus-4-8","max_tokens":4096,"stream":true,"messages":[]}', CATALOG
    )
    assert parsed.model.model_id == "claude-opus-4-8"
    assert parsed.stream is True and parsed.max_tokens == 4096


@pytest.mark.parametrize(
    ("asked", "first_suggestion"),
    [
        ("claude-sonnet-4.6", "claude-sonnet-4-6"),
        ("Claude-Opus-4.8", "claude-opus-4-8"),
        ("claude-haiku-4-5-2025100", "claude-haiku-4-5-20251001"),
        ("claude-sonet-4-6", "claude-sonnet-4-6"),
    ],
)
def test_unknown_model_suggests_the_nearest_catalog_id_first(asked: str, first_suggestion: str) -> None:
    body = orjson.dumps({"model": asked, "messages": []})
    with pytest.raises(UnknownModel) as caught:
        parse_message_request(body, CATALOG)
    assert caught.value.status == 422
    assert caught.value.message.split("Did you mean ")[1].startswith(f"'{first_suggestion}'")


def test_unrelated_model_gets_no_suggestion_but_a_pointer_to_the_list() -> None:
    with pytest.raises(UnknownModel) as caught:
        parse_message_request(b'{"model":"gpt-4o","messages":[]}', CATALOG)
    assert "Did you mean" not in caught.value.message
    assert "/v1/models" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  ",
        b"{",
        b"null",
        b"[]",
        b'{"messages":[]}',
        b'{"model":7,"messages":[]}',
        b'{"model":"claude-sonnet-4-6"}',
    ],
)
def test_malformed_requests_are_400(body: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_message_request(body, CATALOG)


def test_retired_models_are_not_suggested() -> None:
    with pytest.raises(UnknownModel) as caught:
        parse_message_request(b'{"model":"claude-sonet-4-5","messages":[]}', CATALOG)
    assert "claude-sonnet-4-5" not in caught.value.message


@pytest.mark.parametrize(
    ("asked", "priced_as"),
    [
        ("claude-opus-6", "claude-opus-5-5"),
        ("claude-sonnet-6-1-20270101", "claude-sonnet-5-5"),
        ("claude-haiku-6", "claude-haiku-5-5"),
        ("claude-fable-5-3", "claude-fable-5-2"),
        ("claude-mythos-6", "claude-mythos-5-2"),
    ],
)
def test_a_new_model_of_a_known_family_is_priced_as_its_newest_model(asked: str, priced_as: str) -> None:
    parsed = parse_message_request(orjson.dumps({"model": asked, "max_tokens": 1, "messages": []}), CATALOG)
    assert (parsed.model_id, parsed.model.model_id, parsed.priced_as) == (asked, priced_as, priced_as)
    assert parsed.priced_by_family


def test_the_refuse_policy_keeps_the_422_for_a_new_model() -> None:
    with pytest.raises(UnknownModel):
        parse_message_request(b'{"model":"claude-opus-6","messages":[]}', CATALOG, "refuse")


@pytest.mark.parametrize("policy", ["family", "refuse"])
def test_a_context_suffix_is_priced_as_its_base_model(policy: str) -> None:
    parsed = parse_message_request(b'{"model":"claude-opus-4-8[1m]","max_tokens":1,"messages":[]}', CATALOG, policy)
    assert (parsed.model_id, parsed.priced_as) == ("claude-opus-4-8[1m]", "claude-opus-4-8")
    assert not parsed.priced_by_family


@pytest.mark.parametrize("asked", ["gpt-5", "claude-foo-1", "gemini-3-pro", "claude-opus-4.8", "claude-opus"])
def test_ids_of_no_known_family_or_malformed_stay_a_422(asked: str) -> None:
    with pytest.raises(UnknownModel):
        parse_message_request(orjson.dumps({"model": asked, "messages": []}), CATALOG)


def test_claude_codes_default_and_aliases_are_catalog_ids() -> None:
    for model_id in (
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-4-5",
        "claude-haiku-5-5",
        "claude-fable-5-2",
    ):
        parsed = parse_message_request(orjson.dumps({"model": model_id, "max_tokens": 1, "messages": []}), CATALOG)
        assert parsed.model.model_id == model_id and parsed.priced_as is None
