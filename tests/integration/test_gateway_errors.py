"""Each gateway-made error: its status, its Anthropic-shaped body, and nothing sent upstream."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from codegateway.accounts.keys import revoke_key
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.stack import RunningStack

GOOD_BODY = b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
AUTH_MESSAGE = "Invalid API key. Send a CodeGateway key (sk-cg-...) in x-api-key or Authorization: Bearer."


def _post(stack: RunningStack, body: bytes, headers: dict[str, str]) -> tuple[httpx.Response, list[dict[str, Any]]]:
    scenario = uuid.uuid4().hex
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=body,
        headers={**headers, "x-emulator-scenario": scenario},
        timeout=30,
    )
    return response, stack.emulator_requests(scenario)


def _assert_error(response: httpx.Response, status: int, error_type: str) -> str:
    assert response.status_code == status
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert response.headers["request-id"].startswith("req_cg_")
    # Clients obey x-should-retry: retrying a bad key or body only delays the message for minutes.
    assert response.headers["x-should-retry"] == ("true" if status == 429 or status >= 500 else "false")
    message: str = body["error"]["message"]
    return message


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "not-a-key"},
        {"x-api-key": "sk-cg-ffffffffffffffff_" + "A" * 43},
        {"authorization": "Bearer sk-cg-0123456789abcdef_" + "B" * 43},
        {"authorization": "Basic Zm9vOmJhcg=="},
    ],
    ids=["missing", "malformed", "unknown-id", "unknown-bearer", "not-bearer"],
)
def test_every_auth_failure_is_the_same_401_and_nothing_goes_upstream(
    stack: RunningStack, headers: dict[str, str]
) -> None:
    response, upstream_saw = _post(stack, GOOD_BODY, headers)
    assert _assert_error(response, 401, "authentication_error") == AUTH_MESSAGE
    assert upstream_saw == []


def test_wrong_secret_for_a_real_key_id_is_the_same_401(stack: RunningStack) -> None:
    key_id_part = stack.api_key.split("_")[0]
    response, upstream_saw = _post(stack, GOOD_BODY, {"x-api-key": key_id_part + "_" + "C" * 43})
    assert _assert_error(response, 401, "authentication_error") == AUTH_MESSAGE
    assert upstream_saw == []


@pytest.mark.parametrize("secret_chars", [44, 60, 200, 1024 * 1024], ids=["44", "past-bcrypt-72", "200", "1mb"])
def test_a_real_key_id_with_a_secret_of_the_wrong_length_is_a_401_never_a_5xx(
    stack: RunningStack, store: Store, stack_settings: Settings, secret_chars: int
) -> None:
    # A fresh key, so the first try is cold (nothing remembered); the second comes after the real key warmed it.
    caller = new_caller(store, stack_settings)
    forged = caller.api_key.split("_")[0] + "_" + "D" * secret_chars
    for _ in ("cold", "warm"):
        response, upstream_saw = _post(stack, GOOD_BODY, {"x-api-key": forged})
        assert _assert_error(response, 401, "authentication_error") == AUTH_MESSAGE
        assert upstream_saw == []
        assert _post(stack, GOOD_BODY, {"x-api-key": caller.api_key})[0].status_code == 200


def test_a_trailing_slash_is_a_404_and_never_a_redirect(stack: RunningStack) -> None:
    for path in ("/v1/messages/", "/v1/messages/count_tokens/"):
        response = httpx.post(f"{stack.base_url}{path}", content=GOOD_BODY, headers={"x-api-key": stack.api_key})
        assert "location" not in response.headers
        _assert_error(response, 404, "not_found_error")


def test_revoked_key_is_refused_within_one_second(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    caller = new_caller(store, stack_settings)
    headers = {"x-api-key": caller.api_key}
    assert _post(stack, GOOD_BODY, headers)[0].status_code == 200
    assert revoke_key(store, caller.key_id)
    revoked_at = time.monotonic()
    while True:
        response, upstream_saw = _post(stack, GOOD_BODY, headers)
        if response.status_code == 401:
            break
        assert time.monotonic() - revoked_at < 1.0, "revoked key still accepted after 1 s"
    assert time.monotonic() - revoked_at < 1.0
    assert _assert_error(response, 401, "authentication_error") == AUTH_MESSAGE
    assert upstream_saw == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"model": "claude-sonnet-4-6", "messages": [', "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}', "model: Field required"),
        (b'{"model": "claude-sonnet-4-6", "max_tokens": 5}', "messages: Field required"),
    ],
    ids=["truncated-json", "empty", "not-object", "no-model", "no-messages"],
)
def test_bad_bodies_get_400_and_nothing_goes_upstream(stack: RunningStack, body: bytes, needle: str) -> None:
    response, upstream_saw = _post(stack, body, {"x-api-key": stack.api_key})
    assert needle in _assert_error(response, 400, "invalid_request_error")
    assert upstream_saw == []


def test_unknown_model_gets_422_naming_the_nearest_catalog_id(stack: RunningStack) -> None:
    body = b'{"model":"claude-sonnet-4.6","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
    response, upstream_saw = _post(stack, body, {"x-api-key": stack.api_key})
    message = _assert_error(response, 422, "invalid_request_error")
    assert message.split("Did you mean ")[1].startswith("'claude-sonnet-4-6'")
    assert upstream_saw == []


def test_body_over_the_limit_gets_413_saying_why(stack: RunningStack) -> None:
    padding = b"x" * (6 * 1024 * 1024)
    body = b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"' + padding + b'"}]}'
    response, upstream_saw = _post(stack, body, {"x-api-key": stack.api_key})
    message = _assert_error(response, 413, "request_too_large")
    assert "6291456 bytes" in message and "Lambda Function URL" in message
    assert upstream_saw == []


def test_body_just_under_the_limit_is_forwarded(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    # ~1.6 M estimated input tokens: the admission hold needs a funded account (see estimate.py).
    caller = new_caller(store, stack_settings, top_up_usd=20)
    head = b'{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"'
    tail = b'"}]}'
    padding = b"y" * (6 * 1024 * 1024 - len(head) - len(tail))
    response, upstream_saw = _post(stack, head + padding + tail, {"x-api-key": caller.api_key})
    assert response.status_code == 200
    assert upstream_saw[0]["body_bytes"] == 6 * 1024 * 1024


def test_unknown_route_and_wrong_method_are_anthropic_shaped(stack: RunningStack) -> None:
    _assert_error(httpx.get(f"{stack.base_url}/v2/everything"), 404, "not_found_error")
    _assert_error(httpx.get(f"{stack.base_url}/v1/messages"), 405, "invalid_request_error")
