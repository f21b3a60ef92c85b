"""The ledger's guarantees, on the local DynamoDB: once-only settlement, holds that expire, top-ups.

Each test runs twice: with the ledger's calls blocking (the admin API, the CLI, the tier job) and with
its money movements (reserve, extend, settle, release) on an event loop, as the proxy makes them
(store/dynamodb_loop.py). The two are one set of steps (store/steps.py); these tests hold them to the
same answers, refusals and balances."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Iterator
from typing import Any, cast

import pytest

from codegateway.accounts.accounts import top_up
from codegateway.domain.clock import now_iso
from codegateway.domain.records import Hold, UsageRecord
from codegateway.settings import Settings
from codegateway.store import GrowthRefused, Ledger, ReservationRefused, Store, build_store
from tests.support.accounts import new_caller

START = 2_000_000_000


class LedgerOnTheLoop:
    """A ledger whose money movements run through `Ledger.on_loop` on one event loop; the rest block."""

    MOVEMENTS = ("reserve", "extend", "settle", "release_hold")

    def __init__(self, ledger: Ledger, runner: asyncio.Runner) -> None:
        self._ledger = ledger
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._ledger, name)
        if name not in self.MOVEMENTS:
            return method

        def on_the_loop(*args: Any, **kwargs: Any) -> Any:
            on_loop = self._ledger.on_loop(method, *args, **kwargs)
            assert on_loop is not None, f"{name} has no loop form"
            return self._runner.run(on_loop)

        return on_the_loop


@pytest.fixture(scope="module")
def loop_store(stack_settings: Settings) -> Iterator[Store]:
    store = build_store(stack_settings, loop_calls=True)
    with asyncio.Runner() as runner:
        yield dataclasses.replace(store, ledger=cast(Ledger, LedgerOnTheLoop(store.ledger, runner)))
        store.ledger.close()


@pytest.fixture(params=["blocking", "on the loop"])
def store(request: pytest.FixtureRequest, store: Store) -> Store:
    if request.param == "blocking":
        return store
    on_the_loop: Store = request.getfixturevalue("loop_store")
    return on_the_loop


def _record(account_id: str, request_id: str, billed_nano: int) -> UsageRecord:
    return UsageRecord(
        account_id=account_id, request_id=request_id, created_at=now_iso(), key_id="k", model="claude-haiku-4-5",
        status=200, ended="completed", input_tokens=10, output_tokens=5, base_nano=billed_nano, markup_bp=10_000,
        billed_nano=billed_nano,
    )  # fmt: skip


def _money(store: Store, account_id: str) -> tuple[int, int]:
    account = store.accounts.get(account_id)
    assert account is not None
    return account.balance_nano, account.available_nano


def test_a_repeated_settlement_changes_nothing(store: Store, stack_settings: Settings) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    hold = Hold("req_" + secrets.token_hex(6), 50_000_000, 4_000_000_000)
    store.ledger.reserve(account_id, hold)
    assert _money(store, account_id) == (START, START - 50_000_000)
    record = _record(account_id, hold.request_id, 30_000_000)
    assert store.ledger.settle(record, hold) is True
    assert store.ledger.settle(record, hold) is False
    assert _money(store, account_id) == (START - 30_000_000, START - 30_000_000)
    assert len(store.usage.requests(account_id=account_id).records) == 1
    (rollup,) = store.usage.daily_rollups(account_id, "2000-01-01", "2999-12-31")
    assert (rollup.requests, rollup.billed_nano) == (1, 30_000_000)


def test_an_expired_hold_is_released_and_a_late_settlement_still_charges_once(
    store: Store, stack_settings: Settings
) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    live = Hold("req_live", 10_000_000, 2_000_000_000)
    orphan = Hold("req_orphan", 70_000_000, 1_000)  # expired long ago: its instance crashed
    store.ledger.reserve(account_id, live)
    store.ledger.reserve(account_id, orphan)
    assert {hold.request_id for hold in store.ledger.holds(account_id)} == {"req_live", "req_orphan"}
    assert store.balance_upkeep.release_expired_holds(account_id, now_epoch=1_500_000_000) == 1
    assert store.balance_upkeep.release_expired_holds(account_id, now_epoch=1_500_000_000) == 0  # idempotent
    assert _money(store, account_id) == (START, START - 10_000_000)
    # The orphan's request did finish after all: it is charged, without giving its hold back twice.
    assert store.ledger.settle(_record(account_id, "req_orphan", 5_000_000), orphan) is True
    assert _money(store, account_id) == (START - 5_000_000, START - 15_000_000)


def test_reservation_is_refused_beyond_the_available_balance(store: Store, stack_settings: Settings) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    store.ledger.reserve(account_id, Hold("a", START - 1, 2_000_000_000))
    with pytest.raises(ReservationRefused) as refused:
        store.ledger.reserve(account_id, Hold("b", 2, 2_000_000_000))
    assert refused.value.reason == "balance" and refused.value.available_nano == 1


def test_suspended_accounts_cannot_reserve(store: Store, stack_settings: Settings) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    assert store.accounts.set_status(account_id, "suspended")
    with pytest.raises(ReservationRefused) as refused:
        store.ledger.reserve(account_id, Hold("c", 1, 2_000_000_000))
    assert refused.value.reason == "suspended"


def test_top_up_is_applied_once_per_idempotency_key(store: Store, stack_settings: Settings) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    key = secrets.token_hex(8)
    assert top_up(store, account_id, 5_000_000_000, idempotency_key=key, actor="ops@example.com", reason="invoice 17")
    assert not top_up(
        store, account_id, 5_000_000_000, idempotency_key=key, actor="ops@example.com", reason="invoice 17"
    )
    assert _money(store, account_id) == (START + 5_000_000_000, START + 5_000_000_000)


def test_a_first_hold_may_use_the_overdraft_only_when_the_balance_covers_the_prompt(
    store: Store, stack_settings: Settings
) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    store.ledger.reserve(account_id, Hold("big", START - 100_000_000, 2_000_000_000))  # $0.10 left available
    store.ledger.reserve(
        account_id, Hold("next", 300_000_000, 2_000_000_000), must_cover_nano=50_000_000, overdraft_nano=500_000_000
    )
    assert _money(store, account_id) == (START, -200_000_000)
    with pytest.raises(ReservationRefused):  # -$0.20 cannot cover the next prompt
        store.ledger.reserve(
            account_id, Hold("third", 60_000_000, 2_000_000_000), must_cover_nano=1, overdraft_nano=500_000_000
        )
    with pytest.raises(ReservationRefused):  # covered, but the hold would pass -$0.50
        store.ledger.reserve(
            account_id,
            Hold("fourth", 400_000_000, 2_000_000_000),
            must_cover_nano=-300_000_000,
            overdraft_nano=500_000_000,
        )


def test_a_hold_grows_down_to_minus_the_overdraft_limit_and_no_further(store: Store, stack_settings: Settings) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    hold = Hold("req_" + secrets.token_hex(6), START, 2_000_000_000)
    store.ledger.reserve(account_id, hold)
    grown = store.ledger.extend(account_id, hold, START + 400_000_000, overdraft_nano=500_000_000)
    assert grown is not None and grown.nano == START + 400_000_000
    assert _money(store, account_id) == (START, -400_000_000)
    # A retried growth that already applied is recognised, not applied twice.
    assert store.ledger.extend(account_id, hold, START + 400_000_000, overdraft_nano=500_000_000) == grown
    assert _money(store, account_id) == (START, -400_000_000)
    with pytest.raises(GrowthRefused):
        store.ledger.extend(account_id, grown, START + 600_000_000, overdraft_nano=500_000_000)
    assert _money(store, account_id) == (START, -400_000_000)
    assert store.ledger.settle(_record(account_id, hold.request_id, START + 450_000_000), grown) is True
    assert _money(store, account_id) == (-450_000_000, -450_000_000)
    assert store.ledger.holds(account_id) == []


def test_a_settlement_that_missed_a_growth_settles_against_the_hold_as_it_is(
    store: Store, stack_settings: Settings
) -> None:
    account_id = new_caller(store, stack_settings).account.account_id
    known = Hold("req_" + secrets.token_hex(6), 100_000_000, 2_000_000_000)
    store.ledger.reserve(account_id, known)
    # The growth applied, but its answer was lost: the request still knows the smaller hold.
    assert store.ledger.extend(account_id, known, 300_000_000, overdraft_nano=0) is not None
    assert store.ledger.settle(_record(account_id, known.request_id, 250_000_000), known) is True
    assert _money(store, account_id) == (START - 250_000_000, START - 250_000_000)
    assert store.ledger.holds(account_id) == []
