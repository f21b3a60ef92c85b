"""ApiKeys table: PK key_id; GSI `by-account` (account_id, created_at). Never holds a plaintext key.

Beside the keys, one count item per account (`key_id` = `active-keys#<account_id>`, attribute
`active_keys`) holds how many of its keys are live. Every key write and revocation changes it in
the same transaction as the key, so a limit checked by a condition on it holds under any
concurrency (a read-then-write check let 30 concurrent creations make 31 keys past a limit of 20).
The count item has no account_id, so the by-account index (and every listing) never sees it, and
its id is not 16 hex characters, so no key lookup can reach it. An account from before the count
existed gets it seeded once from its listing, the first time one of its keys is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from codegateway.domain.records import ApiKeyRecord
from codegateway.store.client import CONDITION_FAILED, DynamoClient, all_pages, call, cancellation_codes, write_if
from codegateway.store.items import Item, caps_attr, get_caps, get_n, get_s, n, req_s, s
from codegateway.store.steps import Call, Steps, run_blocking, run_from_loop

if TYPE_CHECKING:
    from codegateway.store.dynamodb_loop import DynamoDBLoopClient

BY_ACCOUNT_INDEX = "by-account"
ACTIVE_KEYS_ID_PREFIX = "active-keys#"


class KeyLimitReached(Exception):
    """The account already has `active` live keys, the limit the write was given."""

    def __init__(self, active: int) -> None:
        super().__init__(f"{active} active keys")
        self.active = active


def _count_id(account_id: str) -> Item:
    return {"key_id": s(ACTIVE_KEYS_ID_PREFIX + account_id)}


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
        spend_caps=get_caps(item),
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
    if record.spend_caps:
        item["spend_caps"] = caps_attr(record.spend_caps)
    return item


class ApiKeysTable:
    def __init__(self, client: DynamoClient, table_name: str, loop_client: DynamoDBLoopClient | None = None) -> None:
        self._client = client
        self._table = table_name
        self._loop_client = loop_client

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return run_blocking(self._client, self._get(key_id))

    async def get_from_loop(self, key_id: str) -> ApiKeyRecord | None:
        return await run_from_loop(self._loop_client, self._get(key_id), lambda: self.get(key_id))

    def _get(self, key_id: str) -> Steps[ApiKeyRecord | None]:
        # Strongly consistent, so a revocation is seen by the very next read.
        answer = yield Call(
            "get_item", {"TableName": self._table, "Key": {"key_id": s(key_id)}, "ConsistentRead": True}
        )
        item = answer.get("Item")
        return key_from_item(item) if item else None

    def put_new(self, record: ApiKeyRecord, *, active_limit: int | None = None) -> None:
        """Write a new key and count it, in one transaction. With `active_limit`, refuse
        (KeyLimitReached) when the account already has that many live keys."""
        count_update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _count_id(record.account_id),
            "UpdateExpression": "ADD active_keys :one",
            "ConditionExpression": "attribute_exists(active_keys)",
            "ExpressionAttributeValues": {":one": n(1)},
        }
        if active_limit is not None:
            count_update["ConditionExpression"] += " AND active_keys < :limit"
            count_update["ExpressionAttributeValues"][":limit"] = n(active_limit)
        key_put = {
            "TableName": self._table,
            "Item": key_to_item(record),
            "ConditionExpression": "attribute_not_exists(key_id)",
        }
        for _ in range(2):
            try:
                call(self._client.transact_write_items, TransactItems=[{"Update": count_update}, {"Put": key_put}])
                return
            except ClientError as error:
                if cancellation_codes(error)[:1] != [CONDITION_FAILED]:
                    raise
            active = self.active_count(record.account_id)
            if active is not None:
                raise KeyLimitReached(active)
            self._seed_count(record.account_id)
        raise AssertionError("unreachable: the count exists after seeding")

    def revoke(self, key_id: str, revoked_at: str) -> bool:
        """Mark a key revoked and uncount it; False if it does not exist or was already revoked."""
        record = self.get(key_id)
        if record is None or record.is_revoked:
            return False
        key_update = {
            "TableName": self._table,
            "Key": {"key_id": s(key_id)},
            "UpdateExpression": "SET revoked_at = :at",
            "ConditionExpression": "attribute_exists(key_id) AND attribute_not_exists(revoked_at)",
            "ExpressionAttributeValues": {":at": s(revoked_at)},
        }
        count_update = {
            "TableName": self._table,
            "Key": _count_id(record.account_id),
            "UpdateExpression": "ADD active_keys :minus_one",
            "ConditionExpression": "attribute_exists(active_keys)",
            "ExpressionAttributeValues": {":minus_one": n(-1)},
        }
        for _ in range(2):
            try:
                call(
                    self._client.transact_write_items, TransactItems=[{"Update": key_update}, {"Update": count_update}]
                )
                return True
            except ClientError as error:
                codes = cancellation_codes(error)
                if codes[:1] == [CONDITION_FAILED]:
                    return False  # revoked (or gone) meanwhile
                if codes[1:2] != [CONDITION_FAILED]:
                    raise
            self._seed_count(record.account_id)
        raise AssertionError("unreachable: the count exists after seeding")

    def set_spend_caps(self, key_id: str, caps: dict[str, int]) -> bool:
        """Replace a live key's spend caps; False if there is no such live key."""
        return write_if(
            self._client.update_item,
            TableName=self._table,
            Key={"key_id": s(key_id)},
            UpdateExpression="SET spend_caps = :caps",
            ConditionExpression="attribute_exists(account_id) AND attribute_not_exists(revoked_at)",
            ExpressionAttributeValues={":caps": caps_attr(caps)},
        )

    def active_count(self, account_id: str) -> int | None:
        """The account's live keys as counted, None if its count was never seeded."""
        response = call(self._client.get_item, TableName=self._table, Key=_count_id(account_id), ConsistentRead=True)
        item = response.get("Item")
        return get_n(item, "active_keys") if item else None

    def _seed_count(self, account_id: str) -> None:
        # Keys are only written through the count once it exists, so the keys this listing can miss
        # are none: every key it should see was written before the count (and so before this read).
        active = sum(1 for record in self.list_for_account(account_id) if not record.is_revoked)
        # Refused only when another writer seeded it first: theirs counts the same keys.
        write_if(
            self._client.put_item,
            TableName=self._table,
            Item={**_count_id(account_id), "active_keys": n(active)},
            ConditionExpression="attribute_not_exists(key_id)",
        )

    def list_for_account(self, account_id: str) -> list[ApiKeyRecord]:
        query = {
            "TableName": self._table,
            "IndexName": BY_ACCOUNT_INDEX,
            "KeyConditionExpression": "account_id = :a",
            "ExpressionAttributeValues": {":a": s(account_id)},
        }
        return [key_from_item(item) for item in all_pages(self._client.query, query)]
