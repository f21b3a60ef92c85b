"""Money movements on the Accounts and Usage tables: reserve, settle, release, top up.

Account items hold `balance_nano` (settled money), `available_nano` (balance minus holds in flight)
and `holds` (request id -> {nano, expires_at}). Every movement is one conditional write or one
transaction, so concurrent requests on many instances can never overdraw or double-charge.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from codegateway.records import Hold, TopUpEntry, UsageRecord
from codegateway.store.client import DynamoClient, call, error_code
from codegateway.store.items import Item, get_n, get_s, n, s
from codegateway.store.usage import day_key, request_key, topup_to_item, usage_to_item

ACTIVE = "active"
_CONFLICT_ATTEMPTS = 8


class ReservationRefused(Exception):
    def __init__(self, reason: str, available_nano: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # "balance", "suspended" or "missing"
        self.available_nano = available_nano


def _is_conflict(error: ClientError) -> bool:
    code = error_code(error)
    if code == "TransactionConflictException":
        return True
    if code == "TransactionCanceledException":
        return any(r.get("Code") == "TransactionConflict" for r in error.response.get("CancellationReasons", []))
    return False


def _cancellation_codes(error: ClientError) -> list[str]:
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


def _with_conflict_retries(operation: Any, **kwargs: Any) -> dict[str, Any]:
    """DynamoDB refuses (rather than queues) concurrent transactions on one item: retry those."""
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            return call(operation, **kwargs)
        except ClientError as error:
            if not _is_conflict(error) or attempt == _CONFLICT_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")


class Ledger:
    def __init__(self, client: DynamoClient, accounts_table: str, usage_table: str, retention_days: int) -> None:
        self._client = client
        self._accounts = accounts_table
        self._usage = usage_table
        self._retention_days = retention_days

    def reserve(self, account_id: str, hold: Hold) -> None:
        """Hold `hold.nano` if the available balance covers it; else ReservationRefused."""
        try:
            _with_conflict_retries(
                self._client.update_item,
                TableName=self._accounts,
                Key={"account_id": s(account_id)},
                UpdateExpression="SET available_nano = available_nano - :nano, holds.#rid = :hold",
                ConditionExpression="available_nano >= :nano AND #status = :active",
                ExpressionAttributeNames={"#rid": hold.request_id, "#status": "status"},
                ExpressionAttributeValues={
                    ":nano": n(hold.nano),
                    ":active": s(ACTIVE),
                    ":hold": {"M": {"nano": n(hold.nano), "expires_at": n(hold.expires_at)}},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            item: Item = error.response.get("Item") or {}
            if not item:
                raise ReservationRefused("missing") from error
            if get_s(item, "status") != ACTIVE:
                raise ReservationRefused("suspended") from error
            raise ReservationRefused("balance", get_n(item, "available_nano", 0)) from error

    def settle(self, record: UsageRecord, hold: Hold) -> bool:
        """Write the usage record, charge the account (replacing the hold) and add to the daily rollup,
        all in one transaction. False if this request id was already settled (nothing changes)."""
        usage_put = {
            "Put": {
                "TableName": self._usage,
                "Item": usage_to_item(record, self._expires_at(record.created_at)),
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        }
        rollup = {"Update": self._rollup_update(record)}
        try:
            self._transact([usage_put, self._charge(record, hold), rollup])
            return True
        except ClientError as error:
            reasons = _cancellation_codes(error)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False  # settled before: a repeated settlement changes nothing
            if reasons[1:2] != ["ConditionalCheckFailed"]:
                raise
        # The hold is gone: the expiry sweep released it (the request outlived every limit). Charge
        # the balance directly, so the record and the charge still go together.
        try:
            self._transact([usage_put, self._charge(record, None), rollup])
        except ClientError as error:
            if _cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def _transact(self, items: list[dict[str, Any]]) -> None:
        _with_conflict_retries(self._client.transact_write_items, TransactItems=items)

    def _charge(self, record: UsageRecord, hold: Hold | None) -> dict[str, Any]:
        """Take the billed cost from the balance; give back the part of the hold it did not use."""
        update: dict[str, Any] = {
            "TableName": self._accounts,
            "Key": {"account_id": s(record.account_id)},
            "UpdateExpression": "SET balance_nano = balance_nano - :billed, available_nano = available_nano + :unheld",
            "ExpressionAttributeValues": {
                ":billed": n(record.billed_nano),
                ":unheld": n((hold.nano if hold else 0) - record.billed_nano),
            },
        }
        if hold is not None:
            update["UpdateExpression"] += " REMOVE holds.#rid"
            update["ConditionExpression"] = "attribute_exists(holds.#rid)"
            update["ExpressionAttributeNames"] = {"#rid": hold.request_id}
        return {"Update": update}

    def release_hold(self, account_id: str, hold: Hold) -> bool:
        """Give a hold back untouched (its request will not run). False if it was already gone."""
        try:
            _with_conflict_retries(
                self._client.update_item,
                TableName=self._accounts,
                Key={"account_id": s(account_id)},
                UpdateExpression="SET available_nano = available_nano + :nano REMOVE holds.#rid",
                ConditionExpression="attribute_exists(holds.#rid)",
                ExpressionAttributeNames={"#rid": hold.request_id},
                ExpressionAttributeValues={":nano": n(hold.nano)},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def release_expired_holds(self, account_id: str, holds: dict[str, Hold], now_epoch: int) -> int:
        """Give back holds whose requests can no longer be running. Returns how many were released."""
        expired = [hold for hold in holds.values() if hold.expires_at <= now_epoch]
        return sum(self.release_hold(account_id, hold) for hold in expired)

    def top_up(self, account_id: str, amount_nano: int, entry: TopUpEntry) -> bool:
        """Credit the account and write the ledger entry in one transaction, once per idempotency key
        (the entry's sk). False when that key was used before."""
        try:
            _with_conflict_retries(
                self._client.transact_write_items,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._usage,
                            "Item": topup_to_item(account_id, entry),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._accounts,
                            "Key": {"account_id": s(account_id)},
                            "UpdateExpression": "SET balance_nano = balance_nano + :amount, "
                            "available_nano = available_nano + :amount",
                            "ConditionExpression": "attribute_exists(balance_nano)",
                            "ExpressionAttributeValues": {":amount": n(amount_nano)},
                        }
                    },
                ],
            )
        except ClientError as error:
            codes = _cancellation_codes(error)
            if codes[:1] == ["ConditionalCheckFailed"]:
                return False
            raise
        return True

    def _rollup_update(self, record: UsageRecord) -> dict[str, Any]:
        return {
            "TableName": self._usage,
            "Key": {"account_id": s(record.account_id), "sk": s(day_key(record.created_at))},
            "UpdateExpression": "ADD requests :one, billed_nano :billed, base_nano :base, input_tokens :input, "
            "output_tokens :output, cache_creation_input_tokens :cache_write, cache_read_input_tokens :cache_read "
            "SET expires_at = if_not_exists(expires_at, :expires)",
            "ExpressionAttributeValues": {
                ":one": n(1),
                ":billed": n(record.billed_nano),
                ":base": n(record.base_nano),
                ":input": n(record.input_tokens),
                ":output": n(record.output_tokens),
                ":cache_write": n(record.cache_creation_input_tokens),
                ":cache_read": n(record.cache_read_input_tokens),
                ":expires": n(self._expires_at(record.created_at)),
            },
        }

    def _expires_at(self, created_at: str) -> int:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(UTC)
        return int((created + timedelta(days=self._retention_days)).timestamp())


__all__ = ["Ledger", "ReservationRefused", "day_key", "request_key"]
