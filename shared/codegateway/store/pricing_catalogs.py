"""The operator's pricing catalog, kept as items in the Usage table under one reserved partition:
`#pricing-catalog` / `CURRENT` (the catalog in force) and `#pricing-catalog` / `V#<version>` (every
version ever imported, immutable). The Usage table is never scanned, and `#` starts no account id.

A DynamoDB item (400 KB) holds the whole catalog (~15 KB), unlike an SSM parameter (4 KB, 8 KB
advanced); the proxy already reads this table, so it needs no new client, permission or resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from codegateway.errors import Conflict
from codegateway.store.client import DynamoClient, call, error_code
from codegateway.store.items import Item, req_s, s

PARTITION = "#pricing-catalog"
CURRENT = "CURRENT"
VERSION_PREFIX = "V#"


@dataclass(frozen=True, slots=True)
class StoredCatalog:
    version: str
    catalog_json: str
    imported_at: str
    actor: str


def _item(sk: str, stored: StoredCatalog) -> Item:
    return {
        "account_id": s(PARTITION),
        "sk": s(sk),
        "version": s(stored.version),
        "catalog_json": s(stored.catalog_json),
        "imported_at": s(stored.imported_at),
        "actor": s(stored.actor),
    }


def _stored(item: Item) -> StoredCatalog:
    return StoredCatalog(
        version=req_s(item, "version"),
        catalog_json=req_s(item, "catalog_json"),
        imported_at=req_s(item, "imported_at"),
        actor=req_s(item, "actor"),
    )


class PricingCatalogs:
    def __init__(self, client: DynamoClient, usage_table: str) -> None:
        self._client = client
        self._table = usage_table

    def current(self) -> StoredCatalog | None:
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key={"account_id": s(PARTITION), "sk": s(CURRENT)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _stored(item) if item else None

    def versions(self) -> list[StoredCatalog]:
        """Every imported version, oldest first."""
        response = call(
            self._client.query,
            TableName=self._table,
            KeyConditionExpression="account_id = :p AND begins_with(sk, :v)",
            ExpressionAttributeValues={":p": s(PARTITION), ":v": s(VERSION_PREFIX)},
        )
        return sorted((_stored(item) for item in response.get("Items", [])), key=lambda stored: stored.imported_at)

    def put_current(self, stored: StoredCatalog, replaces_version: str | None) -> None:
        """Record a new version and make it current, in one transaction. Conflict if the version was
        imported before, or another import changed the current version since the caller read it."""
        if replaces_version is None:
            current_condition: dict[str, object] = {"ConditionExpression": "attribute_not_exists(sk)"}
        else:
            current_condition = {
                "ConditionExpression": "version = :previous",
                "ExpressionAttributeValues": {":previous": s(replaces_version)},
            }
        try:
            call(
                self._client.transact_write_items,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _item(VERSION_PREFIX + stored.version, stored),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": _item(CURRENT, stored), **current_condition}},
                ],
            )
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                raise Conflict(
                    f"pricing catalog version {stored.version!r} was imported before, or another import "
                    "changed the current catalog meanwhile: give a new version and try again."
                ) from error
            raise
