"""Reading an account's money exactly (nano-dollars) for the money-path tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from codegateway.domain.records import UsageRecord
from codegateway.store import Store


@dataclass(frozen=True)
class Money:
    balance_nano: int
    available_nano: int
    holds_nano: int
    hold_count: int


def money(store: Store, account_id: str) -> Money:
    account = store.accounts.get(account_id)
    assert account is not None
    holds = store.ledger.holds(account_id)
    return Money(account.balance_nano, account.available_nano, sum(hold.nano for hold in holds), len(holds))


def usage_records(store: Store, account_id: str) -> list[UsageRecord]:
    records: list[UsageRecord] = []
    cursor: str | None = None
    while True:
        page = store.usage.requests(account_id=account_id, limit=100, cursor=cursor)
        records.extend(page.records)
        cursor = page.next_cursor
        if cursor is None:
            return records


def usd(nano: int) -> str:
    return f"${nano / 1e9:.4f}"


def sse_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of every event in an SSE body."""
    events: list[tuple[str, dict[str, Any]]] = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        name, data = "", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data += line[5:].strip()
        if name:
            events.append((name, orjson.loads(data) if data else {}))
    return events
