"""Hold items: one per request in flight, in the Usage table (PK account_id, SK `HOLD#<request_id>`).

The account item carries only the total (`available_nano` = balance - live holds), so its size - and
the write units every reserve and settle pays - stays the same however many requests are in flight.
A hold's expiry is `hold_expires_at`, not the table's TTL attribute: TTL would delete the item without
giving the money back; the sweep (tier job) releases expired holds instead.
"""

from __future__ import annotations

from typing import Any

from codegateway.domain.records import Hold
from codegateway.store.client import DynamoClient, all_pages
from codegateway.store.items import Item, n, req_n, s
from codegateway.store.steps import Call, Steps

HOLD_PREFIX = "HOLD#"


def hold_key(account_id: str, request_id: str) -> Item:
    return {"account_id": s(account_id), "sk": s(HOLD_PREFIX + request_id)}


def hold_to_item(account_id: str, hold: Hold) -> Item:
    item: Item = {
        **hold_key(account_id, hold.request_id),
        "nano": n(hold.nano),
        "hold_expires_at": n(hold.expires_at),
    }
    if hold.counters:
        item["counters"] = {"L": [s(counter_id) for counter_id in hold.counters]}
    return item


def hold_from_item(item: Item) -> Hold:
    counters = tuple(value["S"] for value in item.get("counters", {}).get("L", []))
    return Hold(
        item["sk"]["S"].removeprefix(HOLD_PREFIX), req_n(item, "nano"), req_n(item, "hold_expires_at"), counters
    )


def list_holds(client: DynamoClient, usage_table: str, account_id: str) -> list[Hold]:
    """Every live hold of an account (consistent read, all pages)."""
    query: dict[str, Any] = {
        "TableName": usage_table,
        "KeyConditionExpression": "account_id = :account AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":account": s(account_id), ":prefix": s(HOLD_PREFIX)},
        "ConsistentRead": True,
    }
    return [hold_from_item(item) for item in all_pages(client.query, query)]


def read_hold(usage_table: str, account_id: str, request_id: str) -> Steps[Hold | None]:
    params = {"TableName": usage_table, "Key": hold_key(account_id, request_id), "ConsistentRead": True}
    item = (yield Call("get_item", params)).get("Item")
    return hold_from_item(item) if item else None
