"""In-memory stand-ins for the store's tables, for unit tests of the flows (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from codegateway.domain.records import Account, ApiKeyRecord


class MemoryTable:
    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}
        self.reads = 0

    def get(self, row_id: str) -> Any:
        self.reads += 1
        return self.rows.get(row_id)

    async def get_from_loop(self, row_id: str) -> Any:
        return self.get(row_id)


def memory_store(account: Account, key: ApiKeyRecord) -> Any:
    accounts, api_keys = MemoryTable(), MemoryTable()
    accounts.rows[account.account_id] = account
    api_keys.rows[key.key_id] = key
    return SimpleNamespace(accounts=accounts, api_keys=api_keys)


def revoke(store: Any, key_id: str) -> None:
    store.api_keys.rows[key_id] = replace(store.api_keys.rows[key_id], revoked_at="2026-11-25T00:00:00.000Z")
