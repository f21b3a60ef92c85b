"""ApiKeys table: PK key_id; GSI `by-account` (account_id, created_at). Never holds a plaintext key."""

from __future__ import annotations

from botocore.exceptions import ClientError

from codegateway.records import ApiKeyRecord
from codegateway.store.client import DynamoClient, call, error_code
from codegateway.store.items import Item, get_n, get_s, n, req_s, s

BY_ACCOUNT_INDEX = "by-account"


def key_from_item(item: Item) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=req_s(item, "key_id"),
        account_id=req_s(item, "account_id"),
        name=get_s(item, "name", "") or "",
        # The by-account index does not project key_hash: listings never carry it.
        key_hash=get_s(item, "key_hash", "") or "",
        created_at=req_s(item, "created_at"),
        revoked_at=get_s(item, "revoked_at"),
        rpm_limit=get_n(item, "rpm_limit"),
        last_used_at=get_s(item, "last_used_at"),
    )


def key_to_item(record: ApiKeyRecord) -> Item:
    item: Item = {
        "key_id": s(record.key_id),
        "account_id": s(record.account_id),
        "name": s(record.name),
        "key_hash": s(record.key_hash),
        "created_at": s(record.created_at),
    }
    if record.revoked_at:
        item["revoked_at"] = s(record.revoked_at)
    if record.rpm_limit is not None:
        item["rpm_limit"] = n(record.rpm_limit)
    return item


class ApiKeysTable:
    def __init__(self, client: DynamoClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, key_id: str) -> ApiKeyRecord | None:
        # Strongly consistent, so a revocation is seen by the very next read.
        response = call(self._client.get_item, TableName=self._table, Key={"key_id": s(key_id)}, ConsistentRead=True)
        item = response.get("Item")
        return key_from_item(item) if item else None

    def put_new(self, record: ApiKeyRecord) -> None:
        call(
            self._client.put_item,
            TableName=self._table,
            Item=key_to_item(record),
            ConditionExpression="attribute_not_exists(key_id)",
        )

    def revoke(self, key_id: str, revoked_at: str) -> bool:
        """Mark a key revoked; False if it does not exist or was already revoked."""
        try:
            call(
                self._client.update_item,
                TableName=self._table,
                Key={"key_id": s(key_id)},
                UpdateExpression="SET revoked_at = :at",
                ConditionExpression="attribute_exists(key_id) AND attribute_not_exists(revoked_at)",
                ExpressionAttributeValues={":at": s(revoked_at)},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def list_for_account(self, account_id: str) -> list[ApiKeyRecord]:
        records: list[ApiKeyRecord] = []
        kwargs: dict[str, object] = {
            "TableName": self._table,
            "IndexName": BY_ACCOUNT_INDEX,
            "KeyConditionExpression": "account_id = :a",
            "ExpressionAttributeValues": {":a": s(account_id)},
        }
        while True:
            response = call(self._client.query, **kwargs)
            records.extend(key_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return records
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
