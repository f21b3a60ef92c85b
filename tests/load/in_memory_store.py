"""The proxy with DynamoDB taken out of the request path: the floor of the current design.

`uvicorn --factory tests.load.in_memory_store:create_app` (same flags as run.sh) serves the real app,
but its store reads each key and account once from DynamoDB and then from memory, and its ledger
reserves and settles nothing. Timed next to the real proxy, the difference between the two is what
the DynamoDB calls cost; what is left is the framework, the upstream client and the relay.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from codegateway.domain.records import Account, ApiKeyRecord, Hold, UsageRecord
from codegateway.proxy.runtime import build_gateway
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from codegateway.web.app import create_app as create_proxy_app


class RecordsReadOnce:
    """A table whose `get` goes to DynamoDB the first time per id only."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._records: dict[str, Any] = {}

    def get(self, record_id: str) -> ApiKeyRecord | Account | None:
        if record_id not in self._records:
            self._records[record_id] = self._table.get(record_id)
        return self._records[record_id]


class NoLedger:
    def __init__(self) -> None:
        self.reserved = 0
        self.settled = 0

    def reserve(self, account_id: str, hold: Hold, **limits: Any) -> None:
        self.reserved += 1

    def extend(self, account_id: str, hold: Hold, new_nano: int, *limits: Any) -> Hold:
        return dataclasses.replace(hold, nano=max(hold.nano, new_nano))

    def release_hold(self, account_id: str, hold: Hold) -> bool:
        return True

    def cap_use(self, account_id: str, counter_ids: Any) -> dict[str, int]:
        return dict.fromkeys(counter_ids, 0)

    def settle(self, record: UsageRecord, hold: Hold) -> bool:
        self.settled += 1
        return True


def in_memory_store(settings: Settings) -> Store:
    store = build_store(settings)
    return dataclasses.replace(
        store,
        api_keys=RecordsReadOnce(store.api_keys),
        accounts=RecordsReadOnce(store.accounts),
        ledger=NoLedger(),
    )


def create_app() -> Any:
    settings = Settings()
    return create_proxy_app(settings, build_gateway(settings, store=in_memory_store(settings)))
