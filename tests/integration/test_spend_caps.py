"""Spend caps on the real local stack: a key's daily cap stops it on the request that passes it, the
account's other keys go on, the answer says which cap and when it resets, concurrent requests cannot
jointly pass a cap by more than the overdraft limit, and a raised cap lets the key through within a
second. Each request here costs exactly $0.027 on claude-sonnet-4-6 at 1.5x: (1,000 input x 3,000 +
1,000 output x 15,000) nano x 1.5 = 27,000,000 nano."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from codegateway.domain.spend_caps import counter_id, period_end
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller
from tests.support.cli import Cgw
from tests.support.requests import message_body
from tests.support.stack import RunningStack

COST_NANO = 27_000_000
PRICED = {"x-emulator-usage": "input=1000,output=1000"}


def _send(stack: RunningStack, caller: ApiCaller) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/v1/messages",
        content=message_body(stream=True, max_tokens=1000),
        headers={"x-api-key": caller.api_key, "anthropic-version": "2023-06-01", **PRICED},
        timeout=30,
    )


@pytest.fixture(scope="module")
def cgw(stack: RunningStack) -> Cgw:
    return Cgw(stack.dynamodb_endpoint)


def test_a_daily_key_cap_stops_the_key_on_the_request_that_passes_it(
    stack: RunningStack, store: Store, stack_settings: Settings, cgw: Cgw
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    cgw.ok("caps", "set", "--key", caller.key_id, "--period", "day", "--usd", "0.05")
    time.sleep(1.0)  # the proxy's key record is at most a second old

    first, second, third = (_send(stack, caller) for _ in range(3))
    assert (first.status_code, second.status_code) == (200, 200)  # $0.027, then $0.054: passes $0.05
    assert third.status_code == 429
    assert third.headers["x-should-retry"] == "false"
    now = datetime.now(UTC)
    seconds_to_midnight = (period_end("day", now) - now).total_seconds()
    assert abs(int(third.headers["retry-after"]) - seconds_to_midnight) <= 2
    error = third.json()["error"]
    assert error["type"] == "billing_error"
    assert "This key's daily spend cap of $0.05 is reached ($0.054 spent" in error["message"]
    assert "resets at " + period_end("day", now).strftime("%Y-%m-%d 00:00 UTC") in error["message"]
    # The key's use (spent and in flight, this request's hold included) rode on the answers.
    shown = re.fullmatch(r"used=([0-9.]+); limit=0\.05; resets=(\S+)", second.headers["cgw-spend-cap-day"])
    assert shown is not None and 0.027 < float(shown[1]) <= 0.05
    assert shown[2] == period_end("day", now).strftime("%Y-%m-%dT00:00:00Z")

    # The account's other keys are not this key's cap.
    other = cgw.json("keys", "create", caller.account.account_id)
    assert _send(stack, ApiCaller(caller.account, other["id"], other["key"])).status_code == 200

    listed = cgw.json("caps", "list", "--account", caller.account.account_id)["data"]
    assert [(cap["scope"], cap["id"], cap["period"], cap["limit_usd"], cap["used_usd"]) for cap in listed] == [
        ("key", caller.key_id, "day", "0.05", "0.054")
    ]


def test_a_raised_cap_lets_the_key_through_within_a_second(
    stack: RunningStack, store: Store, stack_settings: Settings, cgw: Cgw
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    cgw.ok("caps", "set", "--key", caller.key_id, "--period", "day", "--usd", "0.02")
    time.sleep(1.0)
    assert _send(stack, caller).status_code == 200
    assert _send(stack, caller).status_code == 429
    cgw.ok("caps", "set", "--key", caller.key_id, "--period", "day", "--usd", "1")
    raised_at = time.monotonic()
    while _send(stack, caller).status_code == 429:
        assert time.monotonic() - raised_at < 1.5, "still refused 1.5 s after the cap was raised"
    cgw.ok("caps", "remove", "--key", caller.key_id, "--period", "day")
    assert cgw.json("caps", "list", "--account", caller.account.account_id)["data"] == []


def test_concurrent_requests_cannot_jointly_pass_an_account_cap_by_more_than_the_overdraft(
    stack: RunningStack, store: Store, stack_settings: Settings, cgw: Cgw
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0, top_up_usd=10)
    cgw.ok("accounts", "overdraft", caller.account.account_id, "0.05")
    cgw.ok("caps", "set", "--account", caller.account.account_id, "--period", "month", "--usd", "0.10")
    time.sleep(1.0)
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [response.status_code for response in pool.map(lambda _: _send(stack, caller), range(20))]
    assert set(statuses) <= {200, 429} and 429 in statuses
    records = store.usage.requests(account_id=caller.account.account_id, limit=100).records
    spent = sum(record.billed_nano for record in records)
    print(f"{statuses.count(200)} of 20 admitted, ${spent / 1e9:.3f} spent against a $0.10 cap (+$0.05 overdraft)")
    assert spent <= 150_000_000
    now = datetime.now(UTC)
    month = counter_id("account", caller.account.account_id, "month", now)
    assert store.ledger.cap_use(caller.account.account_id, [month])[month] == spent  # holds all settled
    account = store.accounts.get(caller.account.account_id)
    assert account is not None and account.available_nano == account.balance_nano


def test_a_key_holder_caps_their_own_key_and_sees_the_use_on_their_account(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    headers = {"x-api-key": caller.api_key}
    set_cap = httpx.put(
        f"{stack.base_url}/v1/account/keys/{caller.key_id}/caps/week", json={"amount_usd": "3"}, headers=headers
    )
    assert set_cap.status_code == 200, set_cap.text
    time.sleep(1.0)
    assert _send(stack, caller).status_code == 200
    account = httpx.get(f"{stack.base_url}/v1/account", headers=headers).json()
    (cap,) = account["spend_caps"]
    assert (cap["scope"], cap["period"], cap["limit_usd"], cap["used_usd"]) == ("key", "week", "3.00", "0.027")
    assert cap["resets_at"] == period_end("week", datetime.now(UTC)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    bad = httpx.put(
        f"{stack.base_url}/v1/account/keys/{caller.key_id}/caps/year", json={"amount_usd": "3"}, headers=headers
    )
    assert bad.status_code == 400 and "period" in bad.json()["error"]["message"]
    other_account = new_caller(store, stack_settings)
    foreign = httpx.put(
        f"{stack.base_url}/v1/account/keys/{other_account.key_id}/caps/day", json={"amount_usd": "1"}, headers=headers
    )
    assert foreign.status_code == 404


def test_count_tokens_stays_free_under_a_used_up_cap(
    stack: RunningStack, store: Store, stack_settings: Settings, cgw: Cgw
) -> None:
    caller = new_caller(store, stack_settings, rpm_limit=0)
    cgw.ok("caps", "set", "--key", caller.key_id, "--period", "day", "--usd", "0.01")
    time.sleep(1.0)
    assert _send(stack, caller).status_code == 200
    assert _send(stack, caller).status_code == 429
    counted = httpx.post(
        f"{stack.base_url}/v1/messages/count_tokens",
        content=b'{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}',
        headers={"x-api-key": caller.api_key},
    )
    assert counted.status_code == 200


@pytest.mark.parametrize(
    ("period", "last_moment", "first_moment"),
    [
        ("week", datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC), datetime(2026, 12, 7, 0, 0, 1, tzinfo=UTC)),
        ("month", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)),
    ],
)
def test_a_used_up_cap_opens_again_when_its_period_resets(
    store: Store, stack_settings: Settings, period: str, last_moment: datetime, first_moment: datetime
) -> None:
    from codegateway.domain.records import Hold
    from codegateway.domain.spend_caps import windows_for
    from codegateway.store import ReservationRefused

    caller = new_caller(store, stack_settings)
    account_id = caller.account.account_id

    def reserve(request_id: str, at: datetime) -> None:
        (window,) = windows_for(caller.key_id, {period: 50_000_000}, account_id, {}, at)
        hold = Hold(request_id, 30_000_000, 2_000_000_000, (window.counter_id,))
        store.ledger.reserve(account_id, hold, caps=[window], overdraft_nano=500_000_000)

    reserve("req_a", last_moment)
    reserve("req_b", last_moment)  # $0.03 < $0.05: admitted, now $0.06 counted
    with pytest.raises(ReservationRefused) as refused:
        reserve("req_c", last_moment)
    assert refused.value.reason == "cap"
    reserve("req_d", first_moment)  # the next period's counter starts at zero
