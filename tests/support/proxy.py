"""Calls through the running proxy, as a key holder's client makes them."""

from __future__ import annotations

import time

import httpx

from tests.support.requests import message_body
from tests.support.stack import RunningStack


def send_message(stack: RunningStack, api_key: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body(stream=False, max_tokens=16),
        headers={"x-api-key": api_key, "content-type": "application/json", "anthropic-version": "2023-06-01"},
        timeout=30,
    )


def request_id_of_message(stack: RunningStack, api_key: str) -> str:
    """One billed request with this key; its gateway request id (the `request-id` header)."""
    response = send_message(stack, api_key)
    assert response.status_code == 200, response.text
    return response.headers["request-id"]


def requests_until_refused(stack: RunningStack, api_key: str, limit_s: float = 1.0) -> list[str]:
    """Keep using a key just revoked until the proxy answers 401, which must come within `limit_s`.
    Returns the request ids it still accepted meanwhile (a process may trust a key record for up to
    CGW_RECORD_MAX_AGE_S): they are billed like any other."""
    started = time.monotonic()
    accepted: list[str] = []
    while True:
        response = send_message(stack, api_key)
        elapsed = time.monotonic() - started
        if response.status_code == 401:
            return accepted
        assert elapsed < limit_s, f"key still accepted {elapsed:.2f} s after revocation ({response.status_code})"
        assert response.status_code == 200, response.text
        accepted.append(response.headers["request-id"])


def first_answer_with_status(stack: RunningStack, api_key: str, status: int, limit_s: float = 1.0) -> httpx.Response:
    """Send messages until one gets `status`, which must happen within `limit_s` (records a process
    read may be trusted for up to CGW_RECORD_MAX_AGE_S)."""
    started = time.monotonic()
    while True:
        response = send_message(stack, api_key)
        if response.status_code == status:
            return response
        assert time.monotonic() - started < limit_s, f"still {response.status_code} after {limit_s} s"
