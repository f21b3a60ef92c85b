"""Money movements outside a request: an admin's top-up, and the tier job's hourly upkeep of each
account (giving back holds whose requests can no longer run, correcting `available_nano` if it
drifted from balance minus the live holds). The request path's movements are store/ledger.py's."""

from __future__ import annotations

from botocore.exceptions import ClientError

from codegateway.domain.records import TopUpEntry
from codegateway.store.client import (
    CONDITION_FAILED,
    DynamoClient,
    call,
    call_retrying_conflicts,
    cancellation_codes,
    write_if,
)
from codegateway.store.items import get_n, n, s
from codegateway.store.ledger import Ledger
from codegateway.store.usage import topup_to_item


class BalanceUpkeep:
    def __init__(self, client: DynamoClient, accounts_table: str, usage_table: str, ledger: Ledger) -> None:
        self._client = client
        self._accounts = accounts_table
        self._usage = usage_table
        self._ledger = ledger

    def release_expired_holds(self, account_id: str, now_epoch: int) -> int:
        """Give back holds whose requests can no longer be running. Returns how many were released."""
        expired = [hold for hold in self._ledger.holds(account_id) if hold.expires_at <= now_epoch]
        return sum(self._ledger.release_hold(account_id, hold) for hold in expired)

    def reconcile_available(self, account_id: str) -> int:
        """Set available = balance - live holds if it drifted; returns the drift corrected (0: none).

        The account is read before the holds and written only if balance and available are still what
        was read: a reservation or settlement racing this changes one of them, and the correction is
        skipped (the next run looks again)."""
        item = call(
            self._client.get_item, TableName=self._accounts, Key={"account_id": s(account_id)}, ConsistentRead=True
        ).get("Item")
        if not item or "balance_nano" not in item:
            return 0
        balance, available = get_n(item, "balance_nano", 0) or 0, get_n(item, "available_nano", 0) or 0
        expected = balance - sum(hold.nano for hold in self._ledger.holds(account_id))
        if expected == available:
            return 0
        corrected = write_if(
            self._client.update_item,
            TableName=self._accounts,
            Key={"account_id": s(account_id)},
            UpdateExpression="SET available_nano = :expected",
            ConditionExpression="balance_nano = :balance AND available_nano = :available",
            ExpressionAttributeValues={":expected": n(expected), ":balance": n(balance), ":available": n(available)},
        )
        return expected - available if corrected else 0

    def top_up(self, account_id: str, amount_nano: int, entry: TopUpEntry) -> bool:
        """Credit the account and write the ledger entry in one transaction, once per idempotency key
        (the entry's sk). False when that key was used before."""
        try:
            call_retrying_conflicts(
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
            codes = cancellation_codes(error)
            if codes[:1] == [CONDITION_FAILED]:
                return False
            raise
        return True
