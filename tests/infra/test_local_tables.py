"""The tables `cgw dev` creates (on moto's DynamoDB server) are the template's tables: same keys,
attribute types, indexes, billing mode and TTL. Needs no SAM CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from codegateway.dev.processes import free_port, start_python_module, stop, wait_until_ready
from codegateway.dev.table_schema import TABLE_SETTINGS, create_tables, load_template, table_definitions
from codegateway.settings import Settings
from codegateway.store import build_dynamodb_client
from codegateway.store.client import build_botocore_client
from tests.infra.conftest import TEMPLATE


@pytest.fixture(scope="module")
def local_tables() -> Iterator[tuple[Any, Settings]]:
    port = free_port()
    server = start_python_module(["moto.server", "-H", "127.0.0.1", "-p", str(port)])
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_ready(endpoint + "/moto-api/", server)
        settings = Settings(dynamodb_endpoint=endpoint)
        create_tables(build_dynamodb_client(settings), TEMPLATE, settings)
        # Read back with botocore's client: the tables' own speaks only what the gateway calls.
        yield build_botocore_client(settings), settings
    finally:
        stop(server)


def _by_name(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def _definitions() -> dict[str, dict[str, Any]]:
    return table_definitions(load_template(TEMPLATE))


@pytest.mark.parametrize("logical_id", sorted(TABLE_SETTINGS))
def test_local_table_matches_the_template(local_tables: tuple[Any, Settings], logical_id: str) -> None:
    client, settings = local_tables
    definition = _definitions()[logical_id]
    name = getattr(settings, TABLE_SETTINGS[logical_id])
    table = client.describe_table(TableName=name)["Table"]

    assert table["KeySchema"] == definition["KeySchema"]
    assert _by_name(table["AttributeDefinitions"], "AttributeName") == _by_name(
        definition["AttributeDefinitions"], "AttributeName"
    )
    assert table["BillingModeSummary"]["BillingMode"] == definition["BillingMode"] == "PAY_PER_REQUEST"
    local_indexes = _by_name(table.get("GlobalSecondaryIndexes", []), "IndexName")
    template_indexes = _by_name(definition.get("GlobalSecondaryIndexes", []), "IndexName")
    assert set(local_indexes) == set(template_indexes)
    for index_name, index in template_indexes.items():
        assert local_indexes[index_name]["KeySchema"] == index["KeySchema"], index_name
        assert local_indexes[index_name]["Projection"] == index["Projection"], index_name

    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if "TimeToLiveSpecification" in definition:
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == definition["TimeToLiveSpecification"]["AttributeName"]
    else:
        assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_every_template_table_is_created_locally(local_tables: tuple[Any, Settings]) -> None:
    client, settings = local_tables
    names = set(client.list_tables()["TableNames"])
    assert {getattr(settings, TABLE_SETTINGS[logical_id]) for logical_id in _definitions()} <= names
