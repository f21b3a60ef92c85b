"""Spend-cap counter items: one per cap and period in the Usage table (PK account_id, SK
`CAP#<scope>#<owner>#<period>#<start>`), `committed_nano` = charges + live holds counted on it.

They ride in the ledger's transactions (store/ledger.py), so a cap counts exactly what the balance
is charged and held, under the same conditions and the same retry safety.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from codegateway.domain.spend_caps import CapWindow
from codegateway.store.client import DynamoClient, call
from codegateway.store.items import Item, get_n, n, s

# Counters stay readable a while after their period ended (the account view shows last periods).
_KEPT_AFTER_RESET = timedelta(days=35)


def _key(account_id: str, counter_id: str) -> Item:
    return {"account_id": s(account_id), "sk": s(counter_id)}


def take_on_reserve(
    usage_table: str, account_id: str, window: CapWindow, hold_nano: int, overdraft_nano: int
) -> dict[str, Any]:
    """Count a new hold on a cap: allowed while the period's spend is under the cap and the hold
    keeps it within the cap plus the overdraft limit."""
    return {
        "Update": {
            "TableName": usage_table,
            "Key": _key(account_id, window.counter_id),
            "UpdateExpression": "ADD committed_nano :nano SET expires_at = if_not_exists(expires_at, :expires)",
            "ConditionExpression": "attribute_not_exists(committed_nano) OR "
            "(committed_nano < :cap AND committed_nano <= :room)",
            "ExpressionAttributeValues": {
                ":nano": n(hold_nano),
                ":cap": n(window.limit_nano),
                ":room": n(window.limit_nano + overdraft_nano - hold_nano),
                ":expires": n(int((window.resets_at + _KEPT_AFTER_RESET).timestamp())),
            },
        }
    }


def take_on_growth(
    usage_table: str, account_id: str, window: CapWindow, delta_nano: int, overdraft_nano: int
) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": usage_table,
            "Key": _key(account_id, window.counter_id),
            "UpdateExpression": "ADD committed_nano :delta",
            "ConditionExpression": "committed_nano <= :room",
            "ExpressionAttributeValues": {
                ":delta": n(delta_nano),
                ":room": n(window.limit_nano + overdraft_nano - delta_nano),
            },
        }
    }


def adjust(usage_table: str, account_id: str, counter_id: str, delta_nano: int) -> dict[str, Any]:
    """Settlement (delta = charge - hold) and release (delta = -hold): unconditional, because the
    hold they replace was counted."""
    return {
        "Update": {
            "TableName": usage_table,
            "Key": _key(account_id, counter_id),
            "UpdateExpression": "ADD committed_nano :delta",
            "ExpressionAttributeValues": {":delta": n(delta_nano)},
        }
    }


def committed(client: DynamoClient, usage_table: str, account_id: str, counter_ids: Sequence[str]) -> dict[str, int]:
    """Each counter's committed nano-USD (0 for a period nothing was spent in yet)."""
    found: dict[str, int] = dict.fromkeys(counter_ids, 0)
    for counter_id in counter_ids:
        item: Any = call(
            client.get_item, TableName=usage_table, Key=_key(account_id, counter_id), ConsistentRead=True
        ).get("Item")
        if item:
            found[counter_id] = get_n(item, "committed_nano", 0) or 0
    return found
