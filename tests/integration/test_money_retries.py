"""Issue 13: every money movement is safe to retry. A proxy in front of the stack's DynamoDB loses
the first answer of a TransactWriteItems after DynamoDB applied it; botocore re-sends the write, and
the ledger must recognise its own earlier success: each movement applies exactly once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest

from codegateway.domain.clock import now_iso
from codegateway.domain.records import Hold, TopUpEntry, UsageRecord
from codegateway.errors import StoreUnavailable
from codegateway.settings import Settings
from codegateway.store import GrowthRefused, Store, build_store
from tests.support.accounts import new_caller
from tests.support.lossy_proxy import LossyProxy
from tests.support.money import Money, money, usage_records

START = 2_000_000_000
HOLD = 300_000_000
TRANSACT = "TransactWriteItems"


@pytest.fixture(scope="module")
def lossy(stack_settings: Settings) -> Iterator[tuple[LossyProxy, Store]]:
    assert stack_settings.dynamodb_endpoint
    proxy = LossyProxy(stack_settings.dynamodb_endpoint).start()
    settings = stack_settings.model_copy(update={"dynamodb_endpoint": proxy.url, "dynamodb_timeout_s": 2.0})
    yield proxy, build_store(settings)
    proxy.stop()


def _hold(nano: int = HOLD) -> Hold:
    return Hold("req_" + secrets.token_hex(8), nano, int(time.time()) + 900)


def _record(account_id: str, request_id: str, billed_nano: int) -> UsageRecord:
    return UsageRecord(
        account_id=account_id, request_id=request_id, created_at=now_iso(), key_id="k", model="claude-haiku-4-5",
        status=200, ended="completed", input_tokens=10, output_tokens=5, base_nano=billed_nano, markup_bp=10_000,
        billed_nano=billed_nano,
    )  # fmt: skip


def _lose_one(proxy: LossyProxy) -> int:
    proxy.lose_next(TRANSACT)
    return len(proxy.lost)


def _assert_lost_and_retried(proxy: LossyProxy, lost_before: int) -> None:
    # The answer was lost once, and the write was sent again (the retry found it applied).
    assert len(proxy.lost) == lost_before + 1
    assert proxy.seen[-2:] == [TRANSACT, TRANSACT] or proxy.seen.count(TRANSACT) >= 2


def test_a_reservation_whose_answer_is_lost_holds_once(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    lost = _lose_one(proxy)
    lossy_store.ledger.reserve(account_id, hold)
    _assert_lost_and_retried(proxy, lost)
    after = money(store, account_id)
    print(f"\nreserve $0.30, first answer lost: {after}")
    assert after == Money(START, START - HOLD, HOLD, 1)
    # Released once, everything is back: nothing stranded (issue 13 reproduction: $0.50 stranded).
    assert store.ledger.release_hold(account_id, hold) is True
    assert money(store, account_id) == Money(START, START, 0, 0)


def test_an_extension_whose_answer_is_lost_grows_the_hold_once(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    store.ledger.reserve(account_id, hold)
    lost = _lose_one(proxy)
    grown = lossy_store.ledger.extend(account_id, hold, HOLD + 400_000_000, 500_000_000)
    _assert_lost_and_retried(proxy, lost)
    after = money(store, account_id)
    print(f"\nextend $0.30 -> $0.70, first answer lost: returned {grown}, {after}")
    assert grown is not None and grown.nano == HOLD + 400_000_000
    assert after == Money(START, START - HOLD - 400_000_000, HOLD + 400_000_000, 1)


def test_a_refused_extension_whose_answer_is_lost_is_still_refused(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    """The first attempt is refused (past the overdraft limit) and its answer lost: the retry is
    refused again, nothing moves."""
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    store.ledger.reserve(account_id, hold)
    lost = _lose_one(proxy)
    with pytest.raises(GrowthRefused):
        lossy_store.ledger.extend(account_id, hold, HOLD + 2_300_000_000, 500_000_000)
    assert len(proxy.lost) == lost + 1
    assert money(store, account_id) == Money(START, START - HOLD, HOLD, 1)


def test_a_release_whose_answer_is_lost_gives_the_hold_back_once(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    store.ledger.reserve(account_id, hold)
    lost = _lose_one(proxy)
    released = lossy_store.ledger.release_hold(account_id, hold)
    _assert_lost_and_retried(proxy, lost)
    after = money(store, account_id)
    print(f"\nrelease, first answer lost: returned {released}, {after}")
    assert after == Money(START, START, 0, 0)


def test_a_settlement_whose_answer_is_lost_charges_once_with_one_record(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    store.ledger.reserve(account_id, hold)
    lost = _lose_one(proxy)
    settled = lossy_store.ledger.settle(_record(account_id, hold.request_id, 120_000_000), hold)
    _assert_lost_and_retried(proxy, lost)
    after = money(store, account_id)
    records = usage_records(store, account_id)
    (rollup,) = store.usage.daily_rollups(account_id, "2000-01-01", "2999-12-31")
    print(f"\nsettle $0.12 of a $0.30 hold, first answer lost: returned {settled}, {after}, {len(records)} record")
    assert after == Money(START - 120_000_000, START - 120_000_000, 0, 0)
    assert len(records) == 1 and records[0].billed_nano == 120_000_000
    assert (rollup.requests, rollup.billed_nano) == (1, 120_000_000)


def test_a_settlement_above_its_hold_whose_answer_is_lost_charges_once(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    store.ledger.reserve(account_id, hold)
    lost = _lose_one(proxy)
    lossy_store.ledger.settle(_record(account_id, hold.request_id, 450_000_000), hold)
    _assert_lost_and_retried(proxy, lost)
    assert money(store, account_id) == Money(START - 450_000_000, START - 450_000_000, 0, 0)
    assert len(usage_records(store, account_id)) == 1


def test_a_top_up_whose_answer_is_lost_credits_once(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    entry = TopUpEntry(secrets.token_hex(8), 5_000_000_000, "tests", "lost answer", now_iso())
    lost = _lose_one(proxy)
    lossy_store.balance_upkeep.top_up(account_id, 5_000_000_000, entry)
    _assert_lost_and_retried(proxy, lost)
    assert money(store, account_id) == Money(START + 5_000_000_000, START + 5_000_000_000, 0, 0)


def test_an_extension_whose_every_answer_is_lost_is_settled_against_the_hold_as_it_is(
    lossy: tuple[LossyProxy, Store], store: Store, stack_settings: Settings
) -> None:
    """Both attempts of an extension apply, both answers are lost: the caller sees a failure (the
    stream is cut as if refused) and settles with the hold it knew. The settlement must replace the
    hold as it really is, not leave it held until the sweep."""
    proxy, lossy_store = lossy
    account_id = new_caller(store, stack_settings).account.account_id
    hold = _hold()
    store.ledger.reserve(account_id, hold)
    proxy.lose_next(TRANSACT, times=2)
    with pytest.raises(StoreUnavailable):
        lossy_store.ledger.extend(account_id, hold, HOLD + 400_000_000, 500_000_000)
    assert money(store, account_id) == Money(START, START - HOLD - 400_000_000, HOLD + 400_000_000, 1)
    assert store.ledger.settle(_record(account_id, hold.request_id, 350_000_000), hold) is True
    after = money(store, account_id)
    print(f"\nextension with every answer lost, then settled with the hold known before: {after}")
    assert after == Money(START - 350_000_000, START - 350_000_000, 0, 0)
    assert len(usage_records(store, account_id)) == 1
