"""The bench's own parts that can be wrong silently: percentiles, the import-time parser, and the
bench DynamoDB's transactions (item-level backups must roll back exactly as moto's table copies do)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from codegateway.settings import Settings
from codegateway.store import Store, build_store
from tests.load.accounts import create_bench_tables, funded_account
from tests.load.cold_start import parse_importtime, self_ms_by_package
from tests.load.processes import BenchStack
from tests.load.report import percentile


def test_percentiles_interpolate_between_ranks_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 95) == pytest.approx(3.85)


def test_importtime_lines_are_read_and_grouped_by_package() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:      1500 |       1500 |     botocore.client\n"
        "import time:       500 |       2000 |   botocore\n"
        "import time:       300 |       2300 | app\n"
    )
    lines = parse_importtime(stderr)
    assert [(line.module, line.cumulative_ms) for line in lines][-1] == ("app", 2.3)
    assert self_ms_by_package(lines) == {"botocore": 2.0, "app": 0.3}


@pytest.fixture(scope="module")
def bench_dynamodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Settings]]:
    stack = BenchStack(log_dir=Path(tmp_path_factory.mktemp("bench-logs")))
    try:
        stack.start_dynamodb()
        settings = stack.settings()
        store = build_store(settings)
        create_bench_tables(store, settings)
        yield store, settings
    finally:
        stack.stop()


def _charge_and_record(account_id: str, sk: str, condition: str | None = None) -> list[dict[str, Any]]:
    rollup: dict[str, Any] = {
        "TableName": "codegateway-usage",
        "Key": {"account_id": {"S": account_id}, "sk": {"S": "DAY#2026-11-25"}},
        "UpdateExpression": "ADD requests :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        rollup["ConditionExpression"] = condition
    return [
        {"Put": {"TableName": "codegateway-usage", "Item": {"account_id": {"S": account_id}, "sk": {"S": sk}}}},
        {
            "Update": {
                "TableName": "codegateway-accounts",
                "Key": {"account_id": {"S": account_id}},
                "UpdateExpression": "SET balance_nano = balance_nano - :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Update": rollup},
    ]


def test_bench_dynamodb_rolls_back_a_cancelled_transaction_and_applies_a_good_one(
    bench_dynamodb: tuple[Store, Settings],
) -> None:
    store, settings = bench_dynamodb
    account = funded_account(store, settings, "rollback")
    balance = _balance(store, account.account_id)

    with pytest.raises(ClientError) as refused:
        store.client.transact_write_items(
            TransactItems=_charge_and_record(account.account_id, "REQ#a", condition="attribute_exists(nothing)")
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _balance(store, account.account_id) == balance
    assert _usage_sort_keys(store, account.account_id) == {f"TOPUP#bench-{account.account_id}"}

    store.client.transact_write_items(TransactItems=_charge_and_record(account.account_id, "REQ#b"))
    assert _balance(store, account.account_id) == balance - 1
    assert _usage_sort_keys(store, account.account_id) == {
        f"TOPUP#bench-{account.account_id}",
        "REQ#b",
        "DAY#2026-11-25",
    }


def _usage_sort_keys(store: Store, account_id: str) -> set[str]:
    items = store.client.query(
        TableName="codegateway-usage",
        KeyConditionExpression="account_id = :a",
        ExpressionAttributeValues={":a": {"S": account_id}},
    )["Items"]
    return {item["sk"]["S"] for item in items}


def _balance(store: Store, account_id: str) -> int:
    account = store.accounts.get(account_id)
    assert account is not None
    return account.balance_nano
