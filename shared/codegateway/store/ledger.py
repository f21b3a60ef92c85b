"""A request's money movements on the Accounts and Usage tables: reserve, extend, release, settle
(top-ups and the tier job's upkeep: store/balance_upkeep.py).

Account items hold `balance_nano` (settled money) and `available_nano` (balance minus the holds of
requests in flight); each hold is an item of its own (store/holds.py). Every movement is one
transaction, so concurrent requests on many instances can never overdraw or double-charge, and every
one is safe to retry: botocore re-sends a write whose first attempt may have applied (a read timeout,
a reset connection), and each write's condition recognises its own earlier success.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from codegateway.domain.outcomes import Refusal
from codegateway.domain.records import Hold, UsageRecord
from codegateway.domain.spend_caps import CapWindow
from codegateway.store.cap_counters import adjust, committed, take_on_growth, take_on_reserve
from codegateway.store.client import (
    CONDITION_FAILED,
    DynamoClient,
    cancellation_codes,
)
from codegateway.store.holds import hold_key, hold_to_item, list_holds, read_hold
from codegateway.store.items import get_n, get_s, n, s
from codegateway.store.steps import Call, Steps, run_blocking, run_on_loop
from codegateway.store.usage import day_key, expires_at, request_key, rollup_update, usage_to_item

if TYPE_CHECKING:
    from codegateway.store.dynamodb_loop import DynamoDBLoopClient

ACTIVE = "active"
# How many times settle re-reads a hold that changed under it (a lost growth answer, the expiry sweep).
_SETTLE_ATTEMPTS = 8


class ReservationRefused(Exception):
    def __init__(self, reason: Refusal, available_nano: int | None = None, window: CapWindow | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.available_nano = available_nano
        self.window = window  # the spend cap that refused, for Refusal.CAP


class GrowthRefused(Exception):
    """A hold could not grow: the balance would pass minus the overdraft limit, or (`window`) a
    spend cap would pass its cap plus that limit."""

    def __init__(self, window: CapWindow | None = None) -> None:
        super().__init__(Refusal.CAP if window else Refusal.BALANCE)
        self.window = window


class Ledger:
    """The money movements, each one transaction. reserve, extend, settle and release_hold are written
    once as steps (store/steps.py): called, they block; through `on_loop` (the proxy's ledger_call)
    they run on the event loop when the ledger has a loop client."""

    # Every call waits on DynamoDB: what has no loop form the proxy runs in a worker thread.
    blocks: ClassVar[bool] = True
    _loop_client: DynamoDBLoopClient | None = None

    def __init__(
        self,
        client: DynamoClient,
        accounts_table: str,
        usage_table: str,
        retention_days: int,
        loop_client: DynamoDBLoopClient | None = None,
    ) -> None:
        self._client = client
        self._loop_client = loop_client
        self._accounts = accounts_table
        self._usage = usage_table
        self._retention_days = retention_days

    def on_loop[R](self, method: Callable[..., R], *args: Any, **kwargs: Any) -> Coroutine[Any, Any, R] | None:
        """`method` (one of this ledger's, bound) run on the event loop, or None when it has no loop
        form here: no loop client (botocore's client, a test's), or a subclass's own method."""
        steps = _LOOP_FORMS.get(getattr(method, "__func__", None))
        if self._loop_client is None or steps is None or getattr(method, "__self__", None) is not self:
            return None
        return run_on_loop(self._loop_client, steps(self, *args, **kwargs))

    def close(self) -> None:
        if self._loop_client is not None:
            self._loop_client.close()

    def reserve(
        self,
        account_id: str,
        hold: Hold,
        *,
        must_cover_nano: int | None = None,
        overdraft_nano: int = 0,
        caps: Sequence[CapWindow] = (),
    ) -> None:
        """Hold `hold.nano` if the available balance covers `must_cover_nano` (default: the whole hold)
        and stays at or above minus `overdraft_nano` once the hold is taken, and every cap in `caps`
        is under its cap and stays within cap + overdraft; else ReservationRefused. The hold must
        name the caps' counters. A retry of a reservation that already applied finds its hold item
        and changes nothing."""
        run_blocking(
            self._client,
            self._reserve(account_id, hold, must_cover_nano=must_cover_nano, overdraft_nano=overdraft_nano, caps=caps),
        )

    def _reserve(
        self,
        account_id: str,
        hold: Hold,
        *,
        must_cover_nano: int | None = None,
        overdraft_nano: int = 0,
        caps: Sequence[CapWindow] = (),
    ) -> Steps[None]:
        cover = hold.nano if must_cover_nano is None else must_cover_nano
        for window in caps:
            if hold.nano > window.limit_nano + overdraft_nano:
                raise ReservationRefused(Refusal.CAP, window=window)
        counted = [take_on_reserve(self._usage, account_id, window, hold.nano, overdraft_nano) for window in caps]
        try:
            yield self._transact(
                [
                    {
                        "Put": {
                            "TableName": self._usage,
                            "Item": hold_to_item(account_id, hold),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._accounts,
                            "Key": {"account_id": s(account_id)},
                            "UpdateExpression": "SET available_nano = available_nano - :nano",
                            "ConditionExpression": "available_nano >= :cover AND available_nano >= :least "
                            "AND #status = :active",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":nano": n(hold.nano),
                                ":cover": n(cover),
                                ":least": n(hold.nano - overdraft_nano),
                                ":active": s(ACTIVE),
                            },
                        }
                    },
                    *counted,
                ]
            )
        except ClientError as error:
            reasons = cancellation_codes(error)
            if reasons[:1] == [CONDITION_FAILED]:
                return  # this request's hold exists: an earlier attempt applied
            if reasons[1:2] == [CONDITION_FAILED]:
                yield from self._refusal(account_id, error)
            for window, reason in zip(caps, reasons[2:], strict=False):
                if reason == CONDITION_FAILED:
                    raise ReservationRefused(Refusal.CAP, window=window) from error
            raise

    def _refusal(self, account_id: str, error: ClientError) -> Steps[None]:
        read = {"TableName": self._accounts, "Key": {"account_id": s(account_id)}, "ConsistentRead": True}
        item = (yield Call("get_item", read)).get("Item")
        if not item or "balance_nano" not in item:
            raise ReservationRefused(Refusal.MISSING) from error
        if get_s(item, "status") != ACTIVE:
            raise ReservationRefused(Refusal.SUSPENDED) from error
        raise ReservationRefused(Refusal.BALANCE, get_n(item, "available_nano", 0)) from error

    def extend(
        self, account_id: str, hold: Hold, new_nano: int, overdraft_nano: int, caps: Sequence[CapWindow] = ()
    ) -> Hold:
        """Grow a live hold to `new_nano` while the available balance stays at or above minus the
        overdraft limit (and each cap within cap + overdraft). The grown hold; GrowthRefused when
        it cannot grow. Retry-safe: the hold item must still carry the amount the caller knew (or
        already the new one)."""
        return run_blocking(self._client, self._extend(account_id, hold, new_nano, overdraft_nano, caps))

    def _extend(
        self, account_id: str, hold: Hold, new_nano: int, overdraft_nano: int, caps: Sequence[CapWindow] = ()
    ) -> Steps[Hold]:
        delta = new_nano - hold.nano
        if delta <= 0:
            return hold
        grown = replace(hold, nano=new_nano)
        counted = [take_on_growth(self._usage, account_id, window, delta, overdraft_nano) for window in caps]
        try:
            yield self._transact(
                [
                    {
                        "Update": {
                            "TableName": self._usage,
                            "Key": hold_key(account_id, hold.request_id),
                            "UpdateExpression": "SET nano = :new",
                            "ConditionExpression": "nano = :old",
                            "ExpressionAttributeValues": {":new": n(new_nano), ":old": n(hold.nano)},
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._accounts,
                            "Key": {"account_id": s(account_id)},
                            "UpdateExpression": "SET available_nano = available_nano - :delta",
                            # available - delta >= -overdraft, written without arithmetic in the condition.
                            "ConditionExpression": "available_nano >= :least",
                            "ExpressionAttributeValues": {":delta": n(delta), ":least": n(delta - overdraft_nano)},
                        }
                    },
                    *counted,
                ]
            )
        except ClientError as error:
            reasons = cancellation_codes(error)
            if reasons[:1] == [CONDITION_FAILED]:
                current = yield from read_hold(self._usage, account_id, hold.request_id)
                if current is not None and current.nano == new_nano:
                    return grown
                raise GrowthRefused() from error
            if reasons[1:2] == [CONDITION_FAILED]:
                raise GrowthRefused() from error
            for window, reason in zip(caps, reasons[2:], strict=False):
                if reason == CONDITION_FAILED:
                    raise GrowthRefused(window) from error
            raise
        return grown

    def settle(self, record: UsageRecord, hold: Hold | None) -> bool:
        """Write the usage record, charge the account (replacing the hold) and add to the daily rollup,
        all in one transaction. False if this request id was already settled (nothing changes)."""
        return run_blocking(self._client, self._settle(record, hold))

    def _settle(self, record: UsageRecord, hold: Hold | None) -> Steps[bool]:
        usage_put = {
            "Put": {
                "TableName": self._usage,
                "Item": usage_to_item(record, expires_at(record.created_at, self._retention_days)),
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        }
        rollup = {"Update": rollup_update(self._usage, record, expires_at(record.created_at, self._retention_days))}
        for _ in range(_SETTLE_ATTEMPTS):
            items = [usage_put, self._charge(record, hold.nano if hold else 0), rollup]
            if hold is not None:
                items.insert(1, self._hold_delete(record.account_id, hold))
                items += [
                    adjust(self._usage, record.account_id, counter_id, record.billed_nano - hold.nano)
                    for counter_id in hold.counters
                ]
            try:
                yield self._transact(items)
                return True
            except ClientError as error:
                reasons = cancellation_codes(error)
                if reasons[:1] == [CONDITION_FAILED]:
                    return False  # settled before: a repeated settlement changes nothing
                if hold is None or reasons[1:2] != [CONDITION_FAILED]:
                    raise
            # The hold is not what this request knew: a growth whose answer was lost left it larger, or
            # the expiry sweep released it (the request outlived every limit). Settle against what is
            # there; with no hold, charge the balance directly, so the record and the charge still go
            # together.
            hold = yield from read_hold(self._usage, record.account_id, hold.request_id)
        raise AssertionError("the hold changed under every settlement attempt")

    def _hold_delete(self, account_id: str, hold: Hold) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._usage,
                "Key": hold_key(account_id, hold.request_id),
                "ConditionExpression": "nano = :nano",
                "ExpressionAttributeValues": {":nano": n(hold.nano)},
            }
        }

    @staticmethod
    def _transact(items: list[dict[str, Any]]) -> Call:
        return Call("transact_write_items", {"TransactItems": items}, transaction=True)

    def _charge(self, record: UsageRecord, held_nano: int) -> dict[str, Any]:
        """Take the billed cost from the balance; give back the part of the hold it did not use."""
        return {
            "Update": {
                "TableName": self._accounts,
                "Key": {"account_id": s(record.account_id)},
                "UpdateExpression": "SET balance_nano = balance_nano - :billed, "
                "available_nano = available_nano + :unheld",
                "ExpressionAttributeValues": {
                    ":billed": n(record.billed_nano),
                    ":unheld": n(held_nano - record.billed_nano),
                },
            }
        }

    def release_hold(self, account_id: str, hold: Hold) -> bool:
        """Give a hold back untouched (its request will not run). False if it was already gone, so a
        retried release never gives it back twice."""
        return run_blocking(self._client, self._release_hold(account_id, hold))

    def _release_hold(self, account_id: str, hold: Hold) -> Steps[bool]:
        try:
            yield self._transact(
                [
                    self._hold_delete(account_id, hold),
                    {
                        "Update": {
                            "TableName": self._accounts,
                            "Key": {"account_id": s(account_id)},
                            "UpdateExpression": "SET available_nano = available_nano + :nano",
                            "ExpressionAttributeValues": {":nano": n(hold.nano)},
                        }
                    },
                    *(adjust(self._usage, account_id, counter_id, -hold.nano) for counter_id in hold.counters),
                ]
            )
        except ClientError as error:
            if cancellation_codes(error)[:1] != [CONDITION_FAILED]:
                raise
            return False
        return True

    def cap_use(self, account_id: str, counter_ids: Sequence[str]) -> dict[str, int]:
        """Charges + live holds counted on each spend-cap counter (0 where nothing was yet)."""
        return committed(self._client, self._usage, account_id, counter_ids)

    def holds(self, account_id: str) -> list[Hold]:
        return list_holds(self._client, self._usage, account_id)


# The methods the proxy may run on the event loop, and their steps.
_LOOP_FORMS: dict[object, Callable[..., Steps[Any]]] = {
    Ledger.reserve: Ledger._reserve,
    Ledger.extend: Ledger._extend,
    Ledger.settle: Ledger._settle,
    Ledger.release_hold: Ledger._release_hold,
}

__all__ = ["GrowthRefused", "Ledger", "ReservationRefused", "day_key", "request_key"]
