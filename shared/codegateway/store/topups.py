"""Reading the credit ledger: `TOPUP#<idempotency key>` items of the Usage table (written by
Ledger.top_up together with the balance change)."""

from __future__ import annotations

from typing import Any

from codegateway.domain.records import TopUpEntry
from codegateway.store.client import DynamoClient, all_pages, call
from codegateway.store.items import s
from codegateway.store.usage import TOPUP_PREFIX, topup_from_item


class TopUpsTable:
    def __init__(self, client: DynamoClient, usage_table: str) -> None:
        self._client = client
        self._table = usage_table

    def get(self, account_id: str, idempotency_key: str) -> TopUpEntry | None:
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key={"account_id": s(account_id), "sk": s(TOPUP_PREFIX + idempotency_key)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return topup_from_item(item) if item else None

    def list_for_account(self, account_id: str) -> list[TopUpEntry]:
        """Every credit of one account, newest first. Credits are rare (a few per month), so one
        account's whole ledger is one answer."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "account_id = :a AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":a": s(account_id), ":prefix": s(TOPUP_PREFIX)},
            "ConsistentRead": True,
        }
        entries = [topup_from_item(item) for item in all_pages(self._client.query, query)]
        return sorted(entries, key=lambda entry: entry.created_at, reverse=True)
