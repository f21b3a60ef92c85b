"""Emailed sign-up / sign-in codes: one `code#<email>` item per address in the RateLimits table
(its TTL attribute `expires_at` removes old ones; reads check the expiry too, TTL being lazy).
Only a salted SHA-256 of the code is stored, never the code."""

from __future__ import annotations

from dataclasses import dataclass

from codegateway.store.client import DynamoClient, Operation, call, write_if
from codegateway.store.items import n, req_n, req_s, s

CODE_PREFIX = "code#"
# What a used code's hash becomes: no code hashes to it.
USED = "used"


@dataclass(frozen=True)
class StoredCode:
    code_hash: str
    salt: str
    expires_at: int
    tries: int


class EmailCodesTable:
    def __init__(self, client: DynamoClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, email: str, code: StoredCode) -> None:
        """A new code for the address; it replaces any earlier one (and its tries)."""
        call(
            self._client.put_item,
            TableName=self._table,
            Item={
                "window_id": s(CODE_PREFIX + email),
                "code_hash": s(code.code_hash),
                "salt": s(code.salt),
                "expires_at": n(code.expires_at),
                "tries": n(code.tries),
            },
        )

    def get(self, email: str) -> StoredCode | None:
        response = call(
            self._client.get_item, TableName=self._table, Key={"window_id": s(CODE_PREFIX + email)}, ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            return None
        return StoredCode(
            req_s(item, "code_hash"), req_s(item, "salt"), req_n(item, "expires_at"), req_n(item, "tries")
        )

    def count_try(self, email: str, code_hash: str, max_tries: int) -> bool:
        """Count one wrong try against this very code; False once it is out of tries (or replaced)."""
        return self._conditional(
            self._client.update_item,
            Key={"window_id": s(CODE_PREFIX + email)},
            UpdateExpression="ADD tries :one",
            ConditionExpression="code_hash = :hash AND tries < :max",
            ExpressionAttributeValues={":one": n(1), ":hash": s(code_hash), ":max": n(max_tries)},
        )

    def consume(self, email: str, code_hash: str) -> bool:
        """Mark the code used if it is still this one: of two uses at once, exactly one wins. (An
        update, not a delete: the proxy's role has no DeleteItem; TTL removes the item.)"""
        return self._conditional(
            self._client.update_item,
            Key={"window_id": s(CODE_PREFIX + email)},
            UpdateExpression="SET code_hash = :used",
            ConditionExpression="code_hash = :hash",
            ExpressionAttributeValues={":hash": s(code_hash), ":used": s(USED)},
        )

    def _conditional(self, operation: Operation, **kwargs: object) -> bool:
        return write_if(operation, TableName=self._table, **kwargs)
