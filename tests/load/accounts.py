"""Accounts and keys for the bench, made through the same use-cases the admin tools use.

Every key is unlimited (rpm_limit 0: the default 120 RPM cap would turn the bench into a 429 test) and
every account holds $10,000, so no hold is ever refused with a 402.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from codegateway.accounts.accounts import create_account, top_up
from codegateway.accounts.keys import create_key
from codegateway.dev.table_schema import create_tables, find_template
from codegateway.domain.money import NANO_PER_USD
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from tests.load.processes import BenchStack
from tests.load.streams import Target

UNLIMITED_RPM = 0
FUNDING_USD = 10_000
COUNT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class BenchAccount:
    account_id: str
    keys: list[str]


def create_bench_tables(store: Store, settings: Settings) -> None:
    create_tables(store.client, find_template(), settings)


def funded_account(
    store: Store, settings: Settings, purpose: str, key_count: int = 1, rpm_limit: int = UNLIMITED_RPM
) -> BenchAccount:
    account = create_account(store, settings, f"bench-{purpose}-{secrets.token_hex(4)}@codegateway.local")
    top_up(
        store,
        account.account_id,
        FUNDING_USD * NANO_PER_USD,
        idempotency_key=f"bench-{account.account_id}",
        actor="bench",
        reason="load bench funding",
    )
    keys = [
        create_key(store, settings, account.account_id, name=f"bench-{purpose}-{index}", rpm_limit=rpm_limit)
        for index in range(key_count)
    ]
    return BenchAccount(account.account_id, [key.plaintext for key in keys])


def count_usage_rows(settings: Settings, account_id: str) -> int:
    """Every request record of the account, all pages. moto reads a page of 1000 rows in seconds, past
    the proxy's 3 s DynamoDB timeout: this count gets its own client with a patient one."""
    store = build_store(settings.model_copy(update={"dynamodb_timeout_s": COUNT_TIMEOUT_S}))
    rows, cursor = 0, None
    while True:
        page = store.usage.requests(account_id=account_id, limit=1000, cursor=cursor)
        rows += len(page.records)
        cursor = page.next_cursor
        if not cursor:
            return rows


def start_with_funded_key(
    stack: BenchStack, purpose: str, rpm_limit: int = UNLIMITED_RPM
) -> tuple[Target, dict[str, str]]:
    """moto and the emulator started, the tables made and one funded key (with `rpm_limit`, a cap the
    bench never reaches: every request counted as a capped key's is): the direct target and the key's
    header, for an A/B harness's proxies."""
    stack.start_dynamodb()
    upstream = stack.start_emulator()
    settings = stack.settings()
    store = build_store(settings)
    create_bench_tables(store, settings)
    key = {"x-api-key": funded_account(store, settings, purpose, rpm_limit=rpm_limit).keys[0]}
    return Target("direct", upstream.url + "/v1/messages", {"x-api-key": upstream.api_key}), key
