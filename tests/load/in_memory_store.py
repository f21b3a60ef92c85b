"""The proxy with DynamoDB taken out of the request path: the floor of the current design.

`uvicorn --factory tests.load.in_memory_store:create_app` (same flags as run.sh) serves the real app,
but its store reads each key and account once from DynamoDB and then from memory, and its ledger
reserves, grows and settles nothing. Timed next to the real proxy, the difference between the two is what
the DynamoDB calls cost; what is left is the framework, the upstream client and the relay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from codegateway.domain.records import Account, ApiKeyRecord, Hold, UsageRecord
from codegateway.domain.spend_caps import CapWindow
from codegateway.proxy.runtime import build_gateway
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from codegateway.store.accounts import AccountsTable
from codegateway.store.api_keys import ApiKeysTable
from codegateway.store.client import DynamoClient
from codegateway.store.ledger import Ledger
from codegateway.web.app import create_app as create_proxy_app


class KeysReadOnce(ApiKeysTable):
    """The key table, whose `get` goes to DynamoDB the first time per id only."""

    def __init__(self, client: DynamoClient, table_name: str) -> None:
        super().__init__(client, table_name)
        self._records: dict[str, ApiKeyRecord | None] = {}

    def get(self, key_id: str) -> ApiKeyRecord | None:
        if key_id not in self._records:
            self._records[key_id] = super().get(key_id)
        return self._records[key_id]

    async def get_from_loop(self, key_id: str) -> ApiKeyRecord | None:
        # Once read, inline: with no DynamoDB call left, a worker-thread hop would be a cost the
        # gateway on DynamoDB no longer pays (its reads run on the loop).
        if key_id in self._records:
            return self._records[key_id]
        return await super().get_from_loop(key_id)


class AccountsReadOnce(AccountsTable):
    """The accounts table, whose `get` goes to DynamoDB the first time per id only."""

    def __init__(self, client: DynamoClient, table_name: str) -> None:
        super().__init__(client, table_name)
        self._records: dict[str, Account | None] = {}

    def get(self, account_id: str) -> Account | None:
        if account_id not in self._records:
            self._records[account_id] = super().get(account_id)
        return self._records[account_id]

    async def get_from_loop(self, account_id: str) -> Account | None:
        # Once read, inline: with no DynamoDB call left, a worker-thread hop would be a cost the
        # gateway on DynamoDB no longer pays (its reads run on the loop).
        if account_id in self._records:
            return self._records[account_id]
        return await super().get_from_loop(account_id)


class NoLedger(Ledger):
    """Reserves, grows and settles nothing (it never calls Ledger.__init__, so it holds no client).
    Its calls wait on nothing, so the proxy makes them on the event loop: the worker-thread hop a
    DynamoDB call takes is part of what the DynamoDB calls cost, and stays in that column."""

    blocks = False

    def __init__(self) -> None:
        self.reserved = 0
        self.settled = 0

    def reserve(
        self,
        account_id: str,
        hold: Hold,
        *,
        must_cover_nano: int | None = None,
        overdraft_nano: int = 0,
        caps: Sequence[CapWindow] = (),
    ) -> None:
        self.reserved += 1

    def extend(
        self, account_id: str, hold: Hold, new_nano: int, overdraft_nano: int, caps: Sequence[CapWindow] = ()
    ) -> Hold:
        return hold if new_nano <= hold.nano else dataclasses.replace(hold, nano=new_nano)

    def cap_use(self, account_id: str, counter_ids: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(counter_ids, 0)

    def release_hold(self, account_id: str, hold: Hold) -> bool:
        return True

    def settle(self, record: UsageRecord, hold: Hold | None) -> bool:
        self.settled += 1
        return True


def in_memory_store(settings: Settings) -> Store:
    store = build_store(settings)
    return dataclasses.replace(
        store,
        api_keys=KeysReadOnce(store.client, settings.api_keys_table),
        accounts=AccountsReadOnce(store.client, settings.accounts_table),
        ledger=NoLedger(),
    )


def create_app() -> Any:
    settings = Settings()
    return create_proxy_app(settings, build_gateway(settings, store=in_memory_store(settings)))
