"""Request validation: what is 400, what is 422, and the suggestions for near-miss model ids."""

from __future__ import annotations

import orjson
import pytest

from codegateway.errors import InvalidRequest, UnknownModel
from codegateway.message_request import parse_message_request
from codegateway.catalog import Catalog

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
        ("claude-sonet-4-5", "claude-sonnet-4-5"),
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
