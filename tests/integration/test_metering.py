"""Metering and prepaid billing through the real local stack: exact charges, one record per request."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller
from tests.support.requests import message_body
from tests.support.stack import RunningStack

USAGE_KNOB = "input=1000,output=500,cache_write_5m=2000,cache_read=10000"


def _account(stack: RunningStack, caller: ApiCaller) -> dict[str, Any]:
    account: dict[str, Any] = httpx.get(f"{stack.base_url}/v1/account", headers={"x-api-key": caller.api_key}).json()
    return account


def _usage(stack: RunningStack, caller: ApiCaller, **params: str) -> dict[str, Any]:
    usage: dict[str, Any] = httpx.get(
        f"{stack.base_url}/v1/account/usage", params=params, headers={"x-api-key": caller.api_key}
    ).json()
    return usage


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "plain"])
def test_known_usage_moves_the_balance_by_exactly_its_cost(
    stack: RunningStack, store: Store, stack_settings: Settings, stream: bool
) -> None:
    caller = new_caller(store, stack_settings)
    assert _account(stack, caller)["balance_usd"] == "2.00"
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-sonnet-4-6", stream=stream),
        headers={"x-api-key": caller.api_key, "x-emulator-usage": USAGE_KNOB},
    )
    assert response.status_code == 200
    account = _account(stack, caller)
    # (1000 x $3 + 500 x $15 + 2000 x $3.75 + 10000 x $0.30) / 1M = $0.021, x 1.5 = $0.0315
    assert account["balance_usd"] == "1.9685"
    assert account["available_usd"] == "1.9685"  # the admission hold is gone
    (row,) = _usage(stack, caller)["data"]
    assert (row["input_tokens"], row["output_tokens"]) == (1000, 500)
    assert (row["cache_creation_input_tokens"], row["cache_read_input_tokens"]) == (2000, 10000)
    assert row["cost_usd"] == "0.0315"
    assert row["model"] == "claude-sonnet-4-6" and row["key_id"] == caller.key_id
    assert row["status"] == 200 and row["ended"] == "completed" and row["stream"] is stream
    assert row["request_id"] == response.headers["request-id"]


def test_account_endpoint_shows_balance_markup_and_tier(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    account = _account(stack, caller)
    assert account["id"] == caller.account.account_id
    assert (account["balance_usd"], account["markup"], account["tier"], account["spend_90d_usd"]) == (
        "2.00",
        "1.5",
        "starter",
        "0.00",
    )


def test_one_hour_cache_writes_are_priced_at_the_one_hour_rate(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-sonnet-4-6"),
        headers={"x-api-key": caller.api_key, "x-emulator-usage": "input=0,output=0,cache_write_1h=100000"},
    )
    # 100,000 x $6/MTok = $0.60, x 1.5 = $0.90
    assert _usage(stack, caller)["data"][0]["cost_usd"] == "0.90"


def test_fifty_concurrent_requests_leave_fifty_rows_and_an_exact_balance(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, top_up_usd=100)
    before = store.accounts.get(caller.account.account_id)
    assert before is not None

    async def one(client: httpx.AsyncClient, index: int) -> int:
        response = await client.post(
            "/v1/messages",
            content=message_body("claude-haiku-4-5", stream=index % 2 == 0),
            headers={"x-api-key": caller.api_key, "x-emulator-usage": f"input={100 + index},output={10 + index}"},
        )
        return response.status_code

    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
            return await asyncio.gather(*(one(client, index) for index in range(50)))

    assert asyncio.run(run()) == [200] * 50
    rows = store.usage.requests(account_id=caller.account.account_id, limit=1000).records
    assert len(rows) == 50
    after = store.accounts.get(caller.account.account_id)
    assert after is not None
    assert before.balance_nano - after.balance_nano == sum(row.billed_nano for row in rows)
    assert after.available_nano == after.balance_nano  # every hold released
    (rollup,) = store.usage.daily_rollups(caller.account.account_id, "2000-01-01", "2999-12-31")
    assert rollup.requests == 50 and rollup.billed_nano == sum(row.billed_nano for row in rows)


def test_concurrent_requests_cannot_overdraw_the_balance(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    # $0.10 available; each request is estimated at, and costs, exactly $0.03 (claude-opus-4-5 at 1.5x:
    # 1500 input tokens from a 6000-byte body + 500 output tokens = $0.02 base).
    ten_cents = stack_settings.model_copy(update={"starter_credit_nano": 100_000_000})
    caller = new_caller(store, ten_cents)
    body = message_body("claude-opus-4-5", max_tokens=500, size=6000)

    async def one(client: httpx.AsyncClient) -> int:
        response = await client.post(
            "/v1/messages",
            content=body,
            headers={"x-api-key": caller.api_key, "x-emulator-usage": "input=1500,output=500"},
        )
        return response.status_code

    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
            return await asyncio.gather(*(one(client) for _ in range(50)))

    statuses = asyncio.run(run())
    assert statuses.count(200) == 3, statuses
    assert statuses.count(402) == 47
    assert _account(stack, caller)["balance_usd"] == "0.01"
    assert len(_usage(stack, caller)["data"]) == 3


def test_spent_balance_gets_402_saying_how_to_top_up(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings.model_copy(update={"starter_credit_nano": 50_000_000}))
    headers = {"x-api-key": caller.api_key}
    # Estimated $0.03, but the answer turns out to cost $0.045: the balance may dip by the difference.
    first = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-opus-4-5", max_tokens=500, size=6000),
        headers={**headers, "x-emulator-usage": "input=1500,output=900"},
    )
    assert first.status_code == 200
    assert _account(stack, caller)["balance_usd"] == "0.005"
    second = httpx.post(
        f"{stack.base_url}/v1/messages", content=message_body("claude-opus-4-5", max_tokens=500), headers=headers
    )
    assert second.status_code == 402
    error = second.json()["error"]
    assert error["type"] == "billing_error"
    assert "top up" in error["message"] and "$0.005 is available" in error["message"]
    assert second.headers["x-should-retry"] == "false"


def test_client_that_drops_mid_stream_is_billed_for_what_was_relayed(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    seen_deltas = 0
    with httpx.stream(
        "POST",
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-sonnet-4-6", max_tokens=1000),
        headers={
            "x-api-key": caller.api_key,
            "x-emulator-usage": "input=1234,output=400",
            "x-emulator-text": "z" * 1200,
            "x-emulator-deltas": "12",
            "x-emulator-event-delay-ms": "300",
        },
    ) as response:
        for chunk in response.iter_raw():
            seen_deltas += chunk.count(b"event: content_block_delta")
            if seen_deltas >= 3:
                break  # the user pressed Esc: 300 of the 1200 characters arrived
    row = _wait_for_row(stack, caller)
    assert row["input_tokens"] == 1234
    assert row["ended"] == "client_disconnected"
    # Output never reported (no message_delta): estimated at 3 characters a token from what was
    # relayed: 3 or 4 deltas of 100 characters.
    assert 100 <= row["output_tokens"] <= 134


def test_client_that_leaves_before_the_first_byte_is_billed_the_input(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{stack.base_url}/v1/messages",
            content=message_body("claude-sonnet-4-6", stream=False),
            headers={
                "x-api-key": caller.api_key,
                "x-emulator-usage": "input=2222,output=333",
                "x-emulator-first-byte-delay-ms": "1500",
            },
            timeout=0.5,
        )
    row = _wait_for_row(stack, caller)
    # The upstream did the work: the whole plain answer is read (for nobody) and billed.
    assert (row["input_tokens"], row["output_tokens"], row["ended"]) == (2222, 333, "client_disconnected")


def test_upstream_reset_mid_stream_is_metered_and_says_how_it_ended(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body("claude-sonnet-4-6"),
        headers={
            "x-api-key": caller.api_key,
            "x-emulator-usage": "input=777,output=50",
            "x-emulator-reset-after-events": "4",
        },
    )
    assert response.status_code == 200
    assert b"event: error" in response.content
    (row,) = _usage(stack, caller)["data"]
    assert row["input_tokens"] == 777 and row["ended"] == "upstream_reset" and row["error_type"] == "api_error"


def test_count_tokens_is_free(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    caller = new_caller(store, stack_settings)
    for _ in range(3):
        response = httpx.post(
            f"{stack.base_url}/v1/messages/count_tokens",
            content=b'{"model":"claude-opus-4-8","messages":[{"role":"user","content":"hi"}]}',
            headers={"x-api-key": caller.api_key},
        )
        assert response.status_code == 200 and response.json()["input_tokens"] > 0
    assert _account(stack, caller)["balance_usd"] == "2.00"
    assert _usage(stack, caller)["data"] == []


def test_claude_code_session_id_is_recorded(stack: RunningStack, store: Store, stack_settings: Settings) -> None:
    caller = new_caller(store, stack_settings)
    session = str(uuid.uuid4())
    httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body(),
        headers={"x-api-key": caller.api_key, "x-claude-code-session-id": session},
    )
    assert _usage(stack, caller)["data"][0]["session_id"] == session


@pytest.mark.parametrize(
    "session", ['=HYPERLINK("http://x","y")', "x" * 129, "not an id"], ids=["formula", "too-long", "spaces"]
)
def test_a_session_id_that_is_not_an_id_is_not_stored_but_the_request_is_billed(
    stack: RunningStack, store: Store, stack_settings: Settings, session: str
) -> None:
    caller = new_caller(store, stack_settings)
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body(),
        headers={"x-api-key": caller.api_key, "x-claude-code-session-id": session},
    )
    assert response.status_code == 200
    (row,) = _usage(stack, caller)["data"]
    assert row["session_id"] is None
    assert row["cost_usd"] != "0.00"


def test_usage_is_newest_first_paginated_and_filtered(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings)
    ids = []
    for _ in range(5):
        response = httpx.post(
            f"{stack.base_url}/v1/messages", content=message_body(), headers={"x-api-key": caller.api_key}
        )
        ids.append(response.headers["request-id"])
    first = _usage(stack, caller, limit="2")
    assert [row["request_id"] for row in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True
    second = _usage(stack, caller, limit="2", page=first["next_page"])
    assert [row["request_id"] for row in second["data"]] == ids[::-1][2:4]
    cutoff = _usage(stack, caller)["data"][1]["created_at"]
    assert [row["request_id"] for row in _usage(stack, caller, since=cutoff)["data"]] == ids[::-1][:2]
    assert _usage(stack, caller, since="yesterday")["error"]["type"] == "invalid_request_error"


def _wait_for_row(stack: RunningStack, caller: ApiCaller, timeout_s: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows: list[dict[str, Any]] = _usage(stack, caller)["data"]
        if rows:
            return rows[0]
        time.sleep(0.1)
    raise AssertionError("no usage row appeared")
