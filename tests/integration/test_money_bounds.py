"""Issue 13, on the real local stack: bad input never moves money, and the overdraft bound holds
under concurrency (holds grow while streams run; a refused growth ends the stream with billing_error).

Every test prints its figures (run with -s to see them)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anthropic
import httpx
import orjson
import pytest

from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
from tests.support.money import money, sse_events, usage_records, usd
from tests.support.stack import RunningStack

MODEL = "claude-opus-4-8"
OVERDRAFT_NANO = 500_000_000  # Settings.default_overdraft_nano


def _body(**fields: Any) -> bytes:
    payload: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    }
    payload.update(fields)
    return orjson.dumps(payload)


BAD_BODIES = {
    "max_tokens=-1": (_body(max_tokens=-1), "max_tokens"),
    "max_tokens=0": (_body(max_tokens=0), "max_tokens"),
    'max_tokens="64"': (_body(max_tokens="64"), "max_tokens"),
    "max_tokens=1.5": (_body(max_tokens=1.5), "max_tokens"),
    "max_tokens=true": (_body(max_tokens=True), "max_tokens"),
    'stream="yes"': (_body(stream="yes"), "stream"),
    "model=6MB": (_body(model="claude-" + "x" * 6_000_000), "model"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_invalid_request_is_a_fast_anthropic_400_naming_the_field_and_moves_no_money(
    stack: RunningStack, store: Store, stack_settings: Settings, name: str
) -> None:
    body, field = BAD_BODIES[name]
    caller = new_caller(store, stack_settings)
    before = money(store, caller.account.account_id)
    started = time.monotonic()
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=body,
        headers={"x-api-key": caller.api_key, "content-type": "application/json", "anthropic-version": "2023-06-01"},
        timeout=30,
    )
    elapsed = time.monotonic() - started
    after = money(store, caller.account.account_id)
    print(f"{name}: {response.status_code} in {elapsed * 1000:.0f} ms, {response.text[:160]!r}")
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(field + ":"), error
    # The 0.8 s near-id search of a 6 MB model id is gone: a refusal is cheap (the 6 MB upload on
    # loopback included).
    assert elapsed < 0.5, f"{elapsed:.2f} s"
    assert before == after
    assert (after.balance_nano, after.available_nano, after.hold_count) == (2_000_000_000, 2_000_000_000, 0)
    assert usage_records(store, caller.account.account_id) == []


# --- 20 concurrent long streams on a $2 account -------------------------------------------------

LONG_TEXT = ("All work and no play makes Jack a dull boy. " * 1_100)[:48_000]


def _long_stream_headers(api_key: str, event_delay_ms: int) -> dict[str, str]:
    return {
        "x-api-key": api_key,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
        "x-emulator-text": LONG_TEXT,
        "x-emulator-deltas": "1000",
        "x-emulator-usage": "input=20,output=16000",
        "x-emulator-event-delay-ms": str(event_delay_ms),
    }


async def _one_stream(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    body = orjson.dumps(
        {"model": MODEL, "max_tokens": 16_000, "stream": True, "messages": [{"role": "user", "content": "write"}]}
    )
    async with client.stream("POST", url, content=body, headers=headers) as response:
        return response.status_code, await response.aread()


async def _concurrent_streams(
    stack: RunningStack, store: Store, account_id: str, api_key: str, count: int, event_delay_ms: int
) -> tuple[list[tuple[int, bytes]], int, int]:
    """Run `count` streams at once while watching the account; (answers, lowest balance, lowest
    available) seen."""
    lowest = {"balance": 2_000_000_000, "available": 2_000_000_000}
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            account = await asyncio.to_thread(store.accounts.get, account_id)
            assert account is not None
            lowest["balance"] = min(lowest["balance"], account.balance_nano)
            lowest["available"] = min(lowest["available"], account.available_nano)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    limits = httpx.Limits(max_connections=count + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        headers = _long_stream_headers(api_key, event_delay_ms)
        answers = await asyncio.gather(
            *(_one_stream(client, f"{stack.base_url}/v1/messages", headers) for _ in range(count))
        )
    done.set()
    await watcher
    return list(answers), lowest["balance"], lowest["available"]


def _classify(answers: list[tuple[int, bytes]]) -> dict[str, list[dict[str, Any]]]:
    outcome: dict[str, list[dict[str, Any]]] = {"completed": [], "cut": [], "refused": [], "other": []}
    for status, body in answers:
        if status == 402:
            outcome["refused"].append(orjson.loads(body))
            continue
        events = sse_events(body)
        names = [name for name, _ in events]
        errors = [data for name, data in events if name == "error"]
        if status == 200 and "message_stop" in names and not errors:
            outcome["completed"].append({})
        elif status == 200 and errors and errors[-1]["error"]["type"] == "billing_error":
            outcome["cut"].append(errors[-1])
        else:
            outcome["other"].append({"status": status, "events": names[-3:], "errors": errors})
    return outcome


@pytest.mark.parametrize("event_delay_ms", [1, 0], ids=["paced", "burst"])
def test_twenty_concurrent_long_streams_stay_within_the_overdraft_limit(
    stack: RunningStack, store: Store, stack_settings: Settings, event_delay_ms: int
) -> None:
    caller = new_caller(store, stack_settings)
    account_id = caller.account.account_id
    started = time.monotonic()
    answers, lowest_balance, lowest_available = asyncio.run(
        _concurrent_streams(stack, store, account_id, caller.api_key, 20, event_delay_ms)
    )
    elapsed = time.monotonic() - started
    outcome = _classify(answers)
    records = usage_records(store, account_id)
    final = money(store, account_id)
    billed = sum(record.billed_nano for record in records)
    print(
        f"\n20 streams x 16,000 output tokens on {MODEL}, $2 starter credit, event delay {event_delay_ms} ms "
        f"({elapsed:.1f} s): completed {len(outcome['completed'])}, cut {len(outcome['cut'])}, "
        f"refused 402 {len(outcome['refused'])}, other {len(outcome['other'])}; lowest balance "
        f"{usd(lowest_balance)}, lowest available {usd(lowest_available)}, final balance {usd(final.balance_nano)}, "
        f"records {len(records)} billing {usd(billed)}; billed per record "
        f"{sorted(usd(record.billed_nano) for record in records)}"
    )
    if outcome["cut"]:
        print("billing_error message:", outcome["cut"][0]["error"]["message"])
    assert not outcome["other"], outcome["other"]
    admitted = len(outcome["completed"]) + len(outcome["cut"])
    # Exactly one record per admitted request, and the money adds up to the records.
    assert len(records) == admitted
    assert len({record.request_id for record in records}) == admitted
    assert final.balance_nano == 2_000_000_000 - billed
    assert final.available_nano == final.balance_nano and final.hold_count == 0
    # The stated bound: never below minus the overdraft limit, at any time.
    assert min(lowest_balance, final.balance_nano) >= -OVERDRAFT_NANO
    assert lowest_available >= -OVERDRAFT_NANO
    # $2.50 of room, $0.60 a stream: most streams are cut, and each cut one says why.
    assert outcome["cut"], "no stream was cut for balance"
    for error in outcome["cut"]:
        assert "balance" in error["error"]["message"]
    assert len(outcome["completed"]) <= 4


def test_a_stream_cut_for_balance_is_a_readable_sdk_error(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    small = stack_settings.model_copy(update={"starter_credit_nano": 100_000_000})  # $0.10
    caller = new_caller(store, small)
    account_id = caller.account.account_id
    client = anthropic.Anthropic(
        base_url=stack.base_url,
        api_key=caller.api_key,
        max_retries=0,
        default_headers={
            "x-emulator-text": LONG_TEXT,
            "x-emulator-deltas": "1000",
            "x-emulator-usage": "input=20,output=16000",
            "x-emulator-event-delay-ms": "1",
        },
    )
    received: list[str] = []
    with (
        pytest.raises(anthropic.APIError) as raised,
        client.messages.stream(
            model=MODEL, max_tokens=16_000, messages=[{"role": "user", "content": "write"}]
        ) as stream,
    ):
        for text in stream.text_stream:
            received.append(text)
    error = raised.value
    final = money(store, account_id)
    (record,) = usage_records(store, account_id)
    print(
        f"\nSDK raised {type(error).__name__}: {error}\nafter {len(''.join(received))} characters; "
        f"record: ended={record.ended} output_tokens={record.output_tokens} billed {usd(record.billed_nano)}; "
        f"balance {usd(final.balance_nano)} available {usd(final.available_nano)}"
    )
    assert "balance" in str(error) and "top up" in str(error)
    assert isinstance(error.body, dict) and error.body["error"]["type"] == "billing_error", error.body
    assert record.ended == "balance_exhausted"
    assert final.balance_nano == 100_000_000 - record.billed_nano >= -OVERDRAFT_NANO
    assert final.available_nano == final.balance_nano and final.hold_count == 0
    # What the client was shown is what the account was charged for (3 characters a token).
    assert record.output_tokens >= len("".join(received)) // 3
