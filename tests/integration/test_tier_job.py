"""The tier job on the local DynamoDB: each account ends at the markup its 90-day spend earns, a second
run changes nothing, two runs at once agree, live charges are never lost, expired holds are released,
and one failing account does not stop the others. Each test gets tables of its own (the job scans all)."""

from __future__ import annotations

import dataclasses
import io
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from codegateway.accounts.accounts import create_account, top_up
from codegateway.domain.records import Account, Hold, UsageRecord
from codegateway.errors import StoreUnavailable
from codegateway.settings import Settings
from codegateway.store import Store, TierTable
from codegateway.store.items import Item
from codegateway.tiering.job import AccountFailure, TierRunReport, recompute_tiers
from tests.support.stack import RunningStack
from tests.support.tier_tables import USD, fresh_tables, put_accounts, put_rollups, tier_state

AS_OF = date(2026, 11, 25)
NOW_EPOCH = 1_800_000_000


@pytest.fixture
def tables(stack: RunningStack) -> Iterator[tuple[Settings, Store]]:
    with fresh_tables(stack.dynamodb_endpoint) as settings_and_store:
        yield settings_and_store


def _days_ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def _new_account(store: Store, settings: Settings) -> str:
    return create_account(store, settings, f"tiers-{secrets.token_hex(6)}@example.com").account_id


def _charge(store: Store, account_id: str, billed_nano: int, day: date) -> None:
    """A real settlement (reserve, then settle: usage record + charge + daily rollup in one transaction)."""
    request_id = "req_" + secrets.token_hex(8)
    hold = Hold(request_id, billed_nano, NOW_EPOCH + 3600)
    store.ledger.reserve(account_id, hold)
    created_at = f"{day.isoformat()}T12:00:00.000Z"
    record = UsageRecord(
        account_id=account_id, request_id=request_id, created_at=created_at, key_id="k", model="claude-haiku-4-5",
        status=200, ended="completed", base_nano=billed_nano, markup_bp=15_000, billed_nano=billed_nano,
    )  # fmt: skip
    assert store.ledger.settle(record, hold)


def _run(store: Store, settings: Settings, **options: Any) -> TierRunReport:
    return recompute_tiers(store, settings, as_of=AS_OF, now_epoch=NOW_EPOCH, **options)


def test_each_account_ends_at_the_markup_its_90_day_spend_earns(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    nothing, under_ten, exactly_ten, one_fifty, five_thousand = (_new_account(store, settings) for _ in range(5))
    put_rollups(
        store, settings, under_ten, {_days_ago(0): 4_990_000_000, _days_ago(89): 5 * USD, _days_ago(90): 5 * USD}
    )
    top_up(store, exactly_ten, 20 * USD, idempotency_key=secrets.token_hex(8), actor="tests", reason="funding")
    _charge(store, exactly_ten, 6 * USD, _days_ago(30))
    _charge(store, exactly_ten, 4 * USD, _days_ago(0))
    put_rollups(store, settings, one_fifty, {_days_ago(d): 50 * USD for d in (1, 45, 89)})
    put_rollups(store, settings, five_thousand, {_days_ago(89): 5_000 * USD})
    # An earlier run counted this account's big spend; today it is 91 days old.
    gone_stale = Account(
        "acct_stale", "stale@example.com", "active", 2 * USD, 2 * USD, 12_000, 5_000 * USD, "2026-01-01T00:00:00.000Z"
    )
    put_accounts(store, settings, [gone_stale])
    put_rollups(store, settings, gone_stale.account_id, {_days_ago(91): 5_000 * USD})

    report = _run(store, settings, segments=3, max_workers=2, page_size=2)

    assert tier_state(store, nothing) == (0, 15_000)
    assert tier_state(store, under_ten) == (9_990_000_000, 15_000)
    assert tier_state(store, exactly_ten) == (10 * USD, 14_000)
    assert tier_state(store, one_fifty) == (150 * USD, 13_000)
    assert tier_state(store, five_thousand) == (5_000 * USD, 12_000)
    assert tier_state(store, gone_stale.account_id) == (0, 15_000)
    assert (report.accounts_scanned, report.accounts_updated, report.tiers_changed) == (6, 5, 4)
    assert report.failures == [] and report.complete
    assert (report.first_day, report.as_of) == (_days_ago(89), AS_OF)


def test_a_big_spend_falls_out_of_the_window_on_its_90th_day_and_the_markup_rises_back(
    tables: tuple[Settings, Store],
) -> None:
    settings, store = tables
    account_id = _new_account(store, settings)
    spent_on = date(2026, 3, 1)
    put_rollups(store, settings, account_id, {spent_on: 1_200 * USD})
    last_day_counted = spent_on + timedelta(days=89)
    recompute_tiers(store, settings, as_of=last_day_counted, now_epoch=NOW_EPOCH)
    assert tier_state(store, account_id) == (1_200 * USD, 12_000)
    report = recompute_tiers(store, settings, as_of=last_day_counted + timedelta(days=1), now_epoch=NOW_EPOCH)
    assert tier_state(store, account_id) == (0, 15_000)
    assert report.tiers_changed == 1


def test_a_second_run_changes_nothing(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    accounts = [_new_account(store, settings) for _ in range(4)]
    for account_id, usd in zip(accounts, (0, 15, 150, 1_500), strict=True):
        put_rollups(store, settings, account_id, {_days_ago(3): usd * USD})
    first = _run(store, settings)
    items_before = [_raw_item(store, settings, account_id) for account_id in accounts]

    second = _run(store, settings)

    assert (first.accounts_updated, first.tiers_changed) == (3, 3)
    assert (second.accounts_scanned, second.accounts_updated, second.tiers_changed, second.write_conflicts) == (
        4, 0, 0, 0,
    )  # fmt: skip
    assert [_raw_item(store, settings, account_id) for account_id in accounts] == items_before


def test_two_runs_at_once_write_each_change_once_and_agree(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    accounts = [_new_account(store, settings) for _ in range(12)]
    for index, account_id in enumerate(accounts):
        put_rollups(store, settings, account_id, {_days_ago(index): (index + 1) * 100 * USD})
    reports = []
    runs = [threading.Thread(target=lambda: reports.append(_run(store, settings, page_size=3))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert sum(report.accounts_updated for report in reports) == len(accounts)
    for index, account_id in enumerate(accounts):
        assert tier_state(store, account_id)[0] == (index + 1) * 100 * USD


def test_a_charge_during_a_run_is_not_lost(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    account_id = _new_account(store, settings)
    top_up(store, account_id, 50 * USD, idempotency_key=secrets.token_hex(8), actor="tests", reason="funding")
    put_rollups(store, settings, account_id, {_days_ago(10): 9 * USD})
    start_balance = 52 * USD
    settled = threading.Event()

    def settle_many() -> None:
        for _ in range(40):
            _charge(store, account_id, 30_000_000, AS_OF)
        settled.set()

    settler = threading.Thread(target=settle_many)
    settler.start()
    runs = writes = 0
    while not settled.is_set():
        writes += _run(store, settings, max_workers=4).accounts_updated
        runs += 1
    settler.join()
    _run(store, settings)

    account = store.accounts.get(account_id)
    assert account is not None
    records = store.usage.requests(account_id=account_id, limit=1000).records
    assert len(records) == 40
    assert account.balance_nano == start_balance - sum(record.billed_nano for record in records)
    assert account.available_nano == account.balance_nano  # every hold settled, none lost or doubled
    assert (account.spend_90d_nano, account.markup_bp) == (9 * USD + 40 * 30_000_000, 14_000)
    assert runs >= 2 and writes >= 2  # the job did write while charges were landing


def test_expired_holds_are_released_and_live_ones_kept(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    account_id = _new_account(store, settings)
    store.ledger.reserve(account_id, Hold("req_orphaned", 300_000_000, NOW_EPOCH - 1))
    store.ledger.reserve(account_id, Hold("req_running", 200_000_000, NOW_EPOCH + 600))

    report = _run(store, settings)

    assert report.holds_released == 1
    account = store.accounts.get(account_id)
    assert account is not None
    assert (account.balance_nano, account.available_nano) == (2 * USD, 2 * USD - 200_000_000)
    assert [hold.request_id for hold in store.ledger.holds(account_id)] == ["req_running"]
    assert _run(store, settings).holds_released == 0


class _FailsForOneAccount:
    """The store's tier table, except that reading one account's spend fails."""

    def __init__(self, inner: TierTable, failing_account_id: str) -> None:
        self._inner = inner
        self._failing_account_id = failing_account_id

    def billed_spend_nano(self, account_id: str, first_day: str, last_day: str) -> int:
        if account_id == self._failing_account_id:
            raise StoreUnavailable("secret detail that must not be logged")
        return self._inner.billed_spend_nano(account_id, first_day, last_day)

    def update_tier(self, account_id: str, **values: int) -> bool:
        return self._inner.update_tier(account_id, **values)


def test_a_failing_account_is_reported_and_logged_and_the_others_still_update(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    accounts = [_new_account(store, settings) for _ in range(5)]
    for account_id in accounts:
        put_rollups(store, settings, account_id, {_days_ago(1): 20 * USD})
    failing = accounts[2]
    log = io.StringIO()
    logger = Logger(service=f"tiers-test-{secrets.token_hex(4)}", logger_handler=logging.StreamHandler(log))

    report = recompute_tiers(
        dataclasses.replace(store, tiers=_FailsForOneAccount(store.tiers, failing)),  # type: ignore[arg-type]
        settings,
        as_of=AS_OF,
        now_epoch=NOW_EPOCH,
        logger=logger,
    )

    assert report.failures == [AccountFailure(failing, "StoreUnavailable")]
    assert (report.accounts_scanned, report.accounts_updated) == (5, 4)
    assert tier_state(store, failing) == (0, 15_000)
    assert all(tier_state(store, a) == (20 * USD, 14_000) for a in accounts if a != failing)
    assert failing in log.getvalue() and "StoreUnavailable" in log.getvalue()
    assert "secret detail" not in log.getvalue()


def test_a_run_past_its_deadline_stops_scanning_and_says_so(tables: tuple[Settings, Store]) -> None:
    settings, store = tables
    _new_account(store, settings)
    report = _run(store, settings, deadline_monotonic=time.monotonic() - 1)
    assert report.stopped_at_deadline and not report.complete
    assert report.accounts_scanned == 0


def _raw_item(store: Store, settings: Settings, account_id: str) -> Item:
    item: Item = store.client.get_item(
        TableName=settings.accounts_table, Key={"account_id": {"S": account_id}}, ConsistentRead=True
    )["Item"]
    return item


def test_the_sweep_corrects_an_available_balance_that_drifted_from_its_live_holds(
    tables: tuple[Settings, Store],
) -> None:
    settings, store = tables
    account_id = _new_account(store, settings)
    store.ledger.reserve(account_id, Hold("req_live", 200_000_000, NOW_EPOCH + 600))
    # Drift no movement can make (each is one transaction): $0.30 of the balance lost to `available`.
    store.client.update_item(
        TableName=settings.accounts_table,
        Key={"account_id": {"S": account_id}},
        UpdateExpression="SET available_nano = available_nano - :lost",
        ExpressionAttributeValues={":lost": {"N": "300000000"}},
    )

    report = _run(store, settings)

    assert (report.accounts_reconciled, report.available_drift_nano) == (1, 300_000_000)
    account = store.accounts.get(account_id)
    assert account is not None
    assert (account.balance_nano, account.available_nano) == (2 * USD, 2 * USD - 200_000_000)
    assert _run(store, settings).accounts_reconciled == 0
