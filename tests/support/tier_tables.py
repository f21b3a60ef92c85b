"""Tables of their own for tier-job tests (the job scans a whole table), and rollups written directly."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from codegateway.dev.table_schema import TABLE_SETTINGS, create_tables, find_template
from codegateway.domain.records import Account
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from codegateway.store.accounts import account_to_item
from codegateway.store.client import build_botocore_client
from codegateway.store.dynamodb_http import DynamoDBHttpClient

USD = 1_000_000_000
_BATCH = 25  # BatchWriteItem's limit


@contextmanager
def fresh_tables(dynamodb_endpoint: str, **overrides: Any) -> Iterator[tuple[Settings, Store]]:
    """Settings and a Store on new, uniquely named tables (dropped afterwards) on the given DynamoDB."""
    prefix = f"tiers-{secrets.token_hex(4)}"
    names: dict[str, Any] = {setting: f"{prefix}-{setting}" for setting in TABLE_SETTINGS.values()}
    settings = Settings(dynamodb_endpoint=dynamodb_endpoint, **names, **overrides)
    store = build_store(settings)
    create_tables(store.client, find_template(), settings)
    try:
        yield settings, store
    finally:
        for name in names.values():
            _table_admin(store).delete_table(TableName=name)


def rollup_item(account_id: str, day: date, billed_nano: int) -> dict[str, Any]:
    """A daily rollup as settlement leaves it (store/usage.py rollup_update), with one request."""
    return {
        "account_id": {"S": account_id},
        "sk": {"S": f"DAY#{day.isoformat()}"},
        "requests": {"N": "1"},
        "billed_nano": {"N": str(billed_nano)},
        "base_nano": {"N": str(billed_nano * 2 // 3)},
    }


def batch_put(store: Store, table: str, items: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == _BATCH:
            _write(store, table, batch)
            batch = []
    if batch:
        _write(store, table, batch)


def _write(store: Store, table: str, batch: list[dict[str, Any]]) -> None:
    request = {table: batch}
    while request:
        request = _table_admin(store).batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


@functools.cache
def _botocore_client(endpoint_url: str) -> Any:
    return build_botocore_client(Settings(dynamodb_endpoint=endpoint_url))


def _table_admin(store: Store) -> Any:
    """botocore's client on the store's DynamoDB, for what only tests do (batch writes, dropping tables):
    the tables' own client speaks only the operations the gateway uses."""
    client = store.client
    endpoint = client.endpoint_url if isinstance(client, DynamoDBHttpClient) else client.meta.endpoint_url
    return _botocore_client(endpoint)


def put_rollups(store: Store, settings: Settings, account_id: str, billed_by_day: dict[date, int]) -> None:
    batch_put(store, settings.usage_table, (rollup_item(account_id, d, nano) for d, nano in billed_by_day.items()))


def put_accounts(store: Store, settings: Settings, accounts: Iterable[Account]) -> None:
    batch_put(store, settings.accounts_table, (account_to_item(account) for account in accounts))


def tier_state(store: Store, account_id: str) -> tuple[int, int]:
    """(spend_90d_nano, markup_bp) as stored now."""
    account = store.accounts.get(account_id)
    assert account is not None
    return account.spend_90d_nano, account.markup_bp
