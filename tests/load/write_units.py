"""Write units per request at 1, 10 and 100 requests in flight on one account, before and after holds
moved off the account item (`python -m tests.load.write_units`).

Computed from the items the store writes, sized by DynamoDB's published rules (attribute names and
values in bytes; a number is about one byte per two significant digits plus one; a map adds 3 bytes
plus 1 per entry); a write costs 1 WCU per started KB of the larger of the item's old and new image,
and twice that inside a transaction. "Before" is the earlier layout, where the account item carried
a map entry per hold in flight and reserve and release were plain UpdateItems.
"""

from __future__ import annotations

import math
from typing import Any

from codegateway.domain.records import Account, Hold, UsageRecord
from codegateway.store.accounts import account_to_item
from codegateway.store.holds import hold_to_item
from codegateway.store.items import Item
from codegateway.store.usage import usage_to_item

ACCOUNT = Account(
    "acct_" + "0" * 20, "someone@example.com", "active", 10**10, 10**10, 15_000, 0, "2026-12-01T00:00:00.000Z"
)
REQUEST_ID = "req_cg_" + "0" * 24


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "BOOL":
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + _value_size(item) + 1 for name, item in inner.items())
    raise ValueError(kind)


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def wcu(item: Item, transactional: bool) -> int:
    return math.ceil(item_size(item) / 1024) * (2 if transactional else 1)


def _old_account_item(holds_in_flight: int) -> Item:
    item = account_to_item(ACCOUNT)
    entry = {"M": {"nano": {"N": "191428125"}, "expires_at": {"N": "1764623456"}}}
    item["holds"] = {"M": {f"req_cg_{index:024d}": entry for index in range(holds_in_flight)}}
    return item


def per_request(holds_in_flight: int) -> tuple[int, int]:
    record = UsageRecord(
        account_id=ACCOUNT.account_id, request_id=REQUEST_ID, created_at=ACCOUNT.created_at, key_id="0" * 16,
        model="claude-opus-5-5", status=200, ended="completed", input_tokens=12_000, output_tokens=800,
        cache_read_input_tokens=150_000, base_nano=10**8, markup_bp=15_000, billed_nano=10**8, duration_ms=3_000,
        ttfb_ms=150, attempts=1, stream=True, session_id="0" * 36, upstream_request_id="msg_" + "0" * 24,
    )  # fmt: skip
    usage = usage_to_item(record, 1_800_000_000)
    counters = ("requests", "billed_nano", "base_nano", "input_tokens", "output_tokens",
                "cache_creation_input_tokens", "cache_read_input_tokens", "expires_at")  # fmt: skip
    rollup: Item = {name: {"N": "123456789012"} for name in counters}
    rollup.update(account_id={"S": ACCOUNT.account_id}, sk={"S": "DAY#2026-12-01"})
    old_account = _old_account_item(holds_in_flight)
    before = wcu(old_account, False) + wcu(usage, True) + wcu(old_account, True) + wcu(rollup, True)
    account = account_to_item(ACCOUNT)
    hold = hold_to_item(ACCOUNT.account_id, Hold(REQUEST_ID, 191_428_125, 1_764_623_456))
    reserve = wcu(hold, True) + wcu(account, True)
    settle = wcu(usage, True) + wcu(hold, True) + wcu(account, True) + wcu(rollup, True)
    return before, reserve + settle


def main() -> None:
    print("in flight | WCU/request before | after (reserve + settle) | account item bytes before | after")
    for in_flight in (1, 10, 100):
        before, after = per_request(in_flight)
        print(
            f"{in_flight:>9} | {before:>18} | {after:>24} | {item_size(_old_account_item(in_flight)):>25} | "
            f"{item_size(account_to_item(ACCOUNT))}"
        )
    print("each hold growth (a long stream, every 4,096 output tokens) adds", wcu(account_to_item(ACCOUNT), True) * 2)


if __name__ == "__main__":
    main()
