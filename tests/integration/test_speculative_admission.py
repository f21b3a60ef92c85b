"""Issue 16: a request goes upstream beside admission when the caller's cached records show headroom.
Every way admission can refuse such a request: the client gets the refusal and not one upstream
byte, the emulator sees its request closed, the account pays nothing (a $0 record, `ended:
speculation_refused`), and the refusal is counted (SpeculativeSendsRefused). With thin headroom
admission answers first: a refusal then sends nothing upstream at all.

Each refusal is set up the way it happens in production: this gateway's cached records (at most a
second old) are stale because something else - another instance's requests, an operator - changed
the store right after this gateway read them."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from codegateway.accounts.accounts import suspend_account
from codegateway.accounts.caps import set_key_cap
from codegateway.domain.clock import window_of
from codegateway.domain.records import Hold
from codegateway.domain.spend_caps import windows_for
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller
from tests.support.lossy_proxy import LossyProxy
from tests.support.money import Money, money, usage_records
from tests.support.stack import RunningStack, start_stack
from tests.support.windows import wait_for_fresh_minute

SPECULATION_REFUSED = "speculation_refused"
# Long enough that the refusal always comes while the upstream is still "thinking".
FIRST_BYTE_DELAY_MS = 3_000


@pytest.fixture(scope="module")
def dynamodb(stack_settings: Settings) -> Iterator[LossyProxy]:
    """The gateway's road to the stack's DynamoDB, which a test can cut (DynamoDB stopped)."""
    assert stack_settings.dynamodb_endpoint
    proxy = LossyProxy(stack_settings.dynamodb_endpoint).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def gateway(dynamodb: LossyProxy) -> Iterator[RunningStack]:
    """A proxy with its own emulator, metrics on, and records kept the longest allowed (1 s)."""
    running = start_stack(
        extra_env={
            "CGW_EMIT_METRICS": "true",
            "CGW_RECORD_REFRESH_AFTER_S": "1.0",
            "CGW_RECORD_MAX_AGE_S": "1.0",
            "CGW_DYNAMODB_TIMEOUT_S": "1",
        },
        args=["--dynamodb-endpoint", dynamodb.url],
    )
    yield running
    running.stop()


def _post(
    gateway: RunningStack,
    caller: ApiCaller,
    scenario: str | None = None,
    *,
    chat: bool = False,
    max_tokens: int = 64,
    stream: bool = True,
    delay_ms: int = 0,
) -> httpx.Response:
    headers = {"x-api-key": caller.api_key, "anthropic-version": "2023-06-01", "x-emulator-usage": "input=40,output=9"}
    if scenario:
        headers["x-emulator-scenario"] = scenario
    if delay_ms:
        headers["x-emulator-first-byte-delay-ms"] = str(delay_ms)
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": max_tokens,
        "stream": stream,
        "messages": [{"role": "user", "content": "hi"}],
    }
    path = "/v1/chat/completions" if chat else "/v1/messages"
    return httpx.post(f"{gateway.base_url}{path}", content=orjson.dumps(body), headers=headers, timeout=30)


def _log_line(gateway: RunningStack, request_id: str) -> dict[str, Any]:
    return gateway.request_log_line(request_id, timeout_s=3)


def _refused_metrics(gateway: RunningStack) -> int:
    total = 0
    for line in list(gateway.output):
        if line.startswith("{") and "SpeculativeSendsRefused" in line:
            blob = json.loads(line)
            if "_aws" in blob:
                value = blob["SpeculativeSendsRefused"]
                total += sum(value) if isinstance(value, list) else int(value)
    return total


def _warm(gateway: RunningStack, caller: ApiCaller, *, stream: bool = True) -> dict[str, Any]:
    """One admitted request: this gateway now holds the caller's records (and what it saw)."""
    response = _post(gateway, caller, stream=stream)
    assert response.status_code == 200, response.text
    return _log_line(gateway, response.headers["request-id"])


def _assert_refused_speculation(
    gateway: RunningStack,
    store: Store,
    caller: ApiCaller,
    response: httpx.Response,
    scenario: str,
    *,
    status: int,
    error_type: str,
    money_before: Money,
    metrics_before: int,
    chat: bool = False,
) -> None:
    account_id = caller.account.account_id
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if not chat:
        assert error["type"] == error_type
    # Not one upstream byte: the answer is the gateway's refusal, nothing of a message.
    assert b"event:" not in response.content and b"msg_" not in response.content
    (seen,) = gateway.emulator_requests(scenario)
    assert seen["closed_at"] is not None, "the upstream request was not closed"
    line = _log_line(gateway, response.headers["request-id"])
    assert line["speculative"] is True and line["speculation_refused"] is True
    closed_ms = (seen["closed_at"] - line["speculation_refused_at"]) * 1000
    print(
        f"\n{status} {error_type} under speculation: upstream closed {closed_ms:.1f} ms after the refusal "
        f"(emulator clock; gateway-side close {line['speculation_close_ms']} ms), "
        f"{(seen['closed_at'] - seen['at']) * 1000:.1f} ms after it arrived"
    )
    assert seen["closed_at"] - seen["at"] < FIRST_BYTE_DELAY_MS / 1000
    assert money(store, account_id) == money_before
    (record,) = [record for record in usage_records(store, account_id) if record.request_id == line["request_id"]]
    assert (record.ended, record.status, record.billed_nano, record.input_tokens) == (
        SPECULATION_REFUSED,
        status,
        0,
        0,
    )
    assert record.error_type == error_type
    assert record.source == ("openai" if chat else "anthropic")
    deadline = time.monotonic() + 3
    while _refused_metrics(gateway) < metrics_before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _refused_metrics(gateway) == metrics_before + 1


def _scenario() -> str:
    return "spec-" + secrets.token_hex(6)


def _hold_elsewhere(store: Store, account_id: str, nano: int, counters: tuple[str, ...] = ()) -> Hold:
    """What another instance's request in flight does: a hold this gateway's cached record does not show."""
    hold = Hold("req_elsewhere_" + secrets.token_hex(6), nano, int(time.time()) + 900, counters)
    store.ledger.reserve(account_id, hold, must_cover_nano=0, overdraft_nano=0)
    return hold


@pytest.mark.parametrize("chat", [False, True], ids=["messages", "chat_completions"])
def test_balance_gone_since_the_cached_read_is_refused_402_at_no_cost(
    gateway: RunningStack, store: Store, stack_settings: Settings, chat: bool
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    account_id = caller.account.account_id
    _warm(gateway, caller)
    _hold_elsewhere(store, account_id, money(store, account_id).available_nano)
    before, metrics = money(store, account_id), _refused_metrics(gateway)
    scenario = _scenario()
    response = _post(gateway, caller, scenario, chat=chat, delay_ms=FIRST_BYTE_DELAY_MS)
    _assert_refused_speculation(
        gateway, store, caller, response, scenario, status=402, error_type="billing_error",
        money_before=before, metrics_before=metrics, chat=chat,
    )  # fmt: skip


def test_a_full_rpm_window_is_refused_429_at_no_cost(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    wait_for_fresh_minute()
    caller = new_caller(store, stack_settings, rpm_limit=4)
    _warm(gateway, caller)  # this gateway saw the window at 1 of 4
    window_start, _ = window_of(time.time())
    for _ in range(3):  # other instances fill it
        assert store.rate_limits.take(caller.key_id, window_start, 4, window_start + 120)
    before, metrics = money(store, caller.account.account_id), _refused_metrics(gateway)
    scenario = _scenario()
    response = _post(gateway, caller, scenario, delay_ms=FIRST_BYTE_DELAY_MS)
    assert response.headers.get("retry-after")
    _assert_refused_speculation(
        gateway, store, caller, response, scenario, status=429, error_type="rate_limit_error",
        money_before=before, metrics_before=metrics,
    )  # fmt: skip


def test_a_spend_cap_reached_since_the_cached_read_is_refused_429_at_no_cost(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    account_id = caller.account.account_id
    limit = 1_000_000_000
    set_key_cap(store, caller.key_id, "day", limit)
    _warm(gateway, caller)  # this gateway read the cap's use: a few micro-dollars of $1
    (window,) = windows_for(caller.key_id, {"day": limit}, account_id, {}, datetime.now(UTC))
    used = store.ledger.cap_use(account_id, [window.counter_id])[window.counter_id]
    other = Hold("req_elsewhere_" + secrets.token_hex(6), limit - used, int(time.time()) + 900, (window.counter_id,))
    store.ledger.reserve(account_id, other, must_cover_nano=0, caps=[window])
    before, metrics = money(store, account_id), _refused_metrics(gateway)
    scenario = _scenario()
    response = _post(gateway, caller, scenario, delay_ms=FIRST_BYTE_DELAY_MS)
    _assert_refused_speculation(
        gateway, store, caller, response, scenario, status=429, error_type="billing_error",
        money_before=before, metrics_before=metrics,
    )  # fmt: skip


def test_an_account_suspended_since_the_cached_read_is_refused_403_at_no_cost(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    _warm(gateway, caller)
    suspend_account(store, caller.account.account_id)
    before, metrics = money(store, caller.account.account_id), _refused_metrics(gateway)
    scenario = _scenario()
    response = _post(gateway, caller, scenario, delay_ms=FIRST_BYTE_DELAY_MS)
    _assert_refused_speculation(
        gateway, store, caller, response, scenario, status=403, error_type="permission_error",
        money_before=before, metrics_before=metrics,
    )  # fmt: skip


def test_dynamodb_stopped_under_speculation_is_503_at_no_cost(
    gateway: RunningStack, store: Store, stack_settings: Settings, dynamodb: LossyProxy
) -> None:
    """DynamoDB stops between the cached read and admission: 503, the upstream request closed. The $0
    record is written once DynamoDB is back (settlement retries for about a second)."""
    caller = new_caller(store, stack_settings, rpm_limit=0)
    _warm(gateway, caller)
    before, metrics = money(store, caller.account.account_id), _refused_metrics(gateway)
    scenario = _scenario()

    def back_once_the_upstream_was_closed() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = gateway.emulator_requests(scenario)
            if rows and rows[0]["closed_at"] is not None:
                break
            time.sleep(0.02)
        dynamodb.down = False

    dynamodb.down = True
    restorer = threading.Thread(target=back_once_the_upstream_was_closed, daemon=True)
    restorer.start()
    try:
        response = _post(gateway, caller, scenario, delay_ms=FIRST_BYTE_DELAY_MS)
    finally:
        restorer.join(timeout=25)
        dynamodb.down = False
    _assert_refused_speculation(
        gateway, store, caller, response, scenario, status=503, error_type="api_error",
        money_before=before, metrics_before=metrics,
    )  # fmt: skip


def test_with_thin_headroom_admission_answers_first_and_a_refusal_sends_nothing(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    account_id = caller.account.account_id
    # Plain answers: their hold is whole from the start (a stream's grows), so the log shows it.
    hold_nano = int(_warm(gateway, caller, stream=False)["hold_nano"])
    # Leave 2 holds' worth: under the 4x rule. Past the record's age, so the gateway reads it again.
    drained = _hold_elsewhere(store, account_id, money(store, account_id).available_nano - 2 * hold_nano)
    time.sleep(1.2)
    thin = _post(gateway, caller, _scenario(), stream=False)
    assert thin.status_code == 200
    assert "speculative" not in _log_line(gateway, thin.headers["request-id"])
    # Now the balance goes (the cached record still shows 2 holds' worth): admitted first, refused,
    # and nothing went upstream.
    store.ledger.release_hold(account_id, drained)
    _hold_elsewhere(store, account_id, money(store, account_id).available_nano)
    before = money(store, account_id)
    scenario = _scenario()
    refused = _post(gateway, caller, scenario, stream=False, delay_ms=FIRST_BYTE_DELAY_MS)
    assert refused.status_code == 402, refused.text
    assert gateway.emulator_requests(scenario) == []
    line = _log_line(gateway, refused.headers["request-id"])
    assert "speculative" not in line and "speculation_refused" not in line
    assert money(store, account_id) == before
    assert all(record.ended != SPECULATION_REFUSED for record in usage_records(store, account_id))


def test_a_speculative_request_is_billed_exactly_as_an_admitted_first_one(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    wait_for_fresh_minute()
    caller = new_caller(store, stack_settings)  # the default RPM cap: the first of a minute admits first
    account_id = caller.account.account_id
    start = money(store, account_id)
    first, second = _post(gateway, caller), _post(gateway, caller)
    for response in (first, second):
        assert response.status_code == 200 and b"event: message_stop" in response.content
    first_line = _log_line(gateway, first.headers["request-id"])
    second_line = _log_line(gateway, second.headers["request-id"])
    assert "speculative" not in first_line and second_line["speculative"] is True
    records = {record.request_id: record for record in usage_records(store, account_id)}
    admitted_first, speculated = records[first_line["request_id"]], records[second_line["request_id"]]
    print(f"\nbilled: admitted first {admitted_first.billed_nano} nano, speculative {speculated.billed_nano} nano")
    assert speculated.ended == admitted_first.ended == "completed"
    assert (speculated.input_tokens, speculated.output_tokens) == (40, 9)
    assert speculated.billed_nano == admitted_first.billed_nano > 0
    billed = admitted_first.billed_nano + speculated.billed_nano
    assert money(store, account_id) == Money(start.balance_nano - billed, start.balance_nano - billed, 0, 0)


def test_an_upstream_answer_that_came_before_the_refusal_is_never_relayed(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    """The upstream answers at once (its headers and first events arrive before admission's refusal):
    the client still gets only the refusal, and the account pays nothing."""
    caller = new_caller(store, stack_settings, rpm_limit=0)
    account_id = caller.account.account_id
    _warm(gateway, caller)
    suspend_account(store, account_id)
    before = money(store, account_id)
    response = _post(gateway, caller, _scenario())
    assert response.status_code == 403, response.text
    assert response.json()["error"]["type"] == "permission_error"
    assert b"event:" not in response.content and b"msg_" not in response.content
    assert money(store, account_id) == before
    line = _log_line(gateway, response.headers["request-id"])
    assert line["speculation_refused"] is True
    (record,) = [record for record in usage_records(store, account_id) if record.request_id == line["request_id"]]
    assert (record.ended, record.billed_nano) == (SPECULATION_REFUSED, 0)


def test_the_retry_before_the_first_byte_does_not_admit_twice(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    """A speculative request whose first upstream attempt gets a 529 is retried once by the upstream
    client; admission ran once: one RPM count, one hold, one charge."""
    wait_for_fresh_minute()
    caller = new_caller(store, stack_settings, rpm_limit=10)
    account_id = caller.account.account_id
    _warm(gateway, caller)
    scenario = _scenario()
    headers = {
        "x-api-key": caller.api_key,
        "x-emulator-status": "529",
        "x-emulator-fail-times": "1",
        "x-emulator-scenario": scenario,
        "x-emulator-usage": "input=40,output=9",
    }
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = httpx.post(f"{gateway.base_url}/v1/messages", content=orjson.dumps(body), headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    line = _log_line(gateway, response.headers["request-id"])
    assert line["speculative"] is True and line["attempts"] == 2
    assert len(gateway.emulator_requests(scenario)) == 2
    window_start, _ = window_of(time.time())
    assert store.rate_limits.count(caller.key_id, window_start) == 2  # the warm-up and this one
    (record,) = [record for record in usage_records(store, account_id) if record.request_id == line["request_id"]]
    records = usage_records(store, account_id)
    after = money(store, account_id)
    assert (record.ended, record.attempts) == ("completed", 2) and record.billed_nano > 0
    assert after.balance_nano == caller.account.balance_nano - sum(r.billed_nano for r in records)
    assert after.available_nano == after.balance_nano and after.hold_count == 0


def test_a_later_turn_sent_speculatively_is_still_held_at_the_cache_read_price(
    gateway: RunningStack, store: Store, stack_settings: Settings
) -> None:
    # The send goes before the prompt is hashed (its worst-case hold had headroom); the hold admission
    # then reserves is the real one, with the part the first turn cached priced as a cache read.
    caller = new_caller(store, stack_settings, top_up_usd=50)
    system = [
        {
            "type": "text",
            "text": f"Session {secrets.token_hex(8)}. Careful agent. " * 400,
            "cache_control": {"type": "ephemeral"},
        }
    ]
    body = orjson.dumps(
        {"model": "claude-sonnet-4-6", "max_tokens": 64, "stream": True, "system": system,
         "messages": [{"role": "user", "content": "list the files"}]}
    )  # fmt: skip
    headers = {"x-api-key": caller.api_key, "anthropic-version": "2023-06-01"}
    lines = []
    for _ in range(3):  # the first turn writes the cache (and warms this gateway's records)
        response = httpx.post(f"{gateway.base_url}/v1/messages", content=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        lines.append(_log_line(gateway, response.headers["request-id"]))
    last = lines[-1]
    assert last["speculative"] is True
    assert last["hold_cached_tokens"] > 0 and last["hold_cached_tokens"] >= last["hold_prompt_tokens"] * 0.9
    assert lines[0]["hold_cached_tokens"] == 0
    assert last["hold_nano"] < lines[0]["hold_nano"]
