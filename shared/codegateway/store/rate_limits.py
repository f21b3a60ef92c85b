"""RateLimits table: one item per key per fixed one-minute window, counted with an atomic ADD.

A conditional ADD is the whole algorithm: it succeeds only while the count is under the cap, so
every gateway instance shares one cap without coordination. TTL removes old windows (moto never
does, which no test relies on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from codegateway.store.client import DynamoClient, call, is_condition_failed
from codegateway.store.items import get_n, n, s
from codegateway.store.steps import Call, Steps, run_blocking, run_from_loop

if TYPE_CHECKING:
    from codegateway.store.dynamodb_loop import DynamoDBLoopClient


class RateLimitsTable:
    def __init__(self, client: DynamoClient, table_name: str, loop_client: DynamoDBLoopClient | None = None) -> None:
        self._client = client
        self._table = table_name
        self._loop_client = loop_client

    def take(self, key_id: str, window_start: int, limit: int, expires_at: int) -> bool:
        """Count one request in the key's window; False (and no count) once `limit` is reached."""
        return self.take_counted(key_id, window_start, limit, expires_at) is not None

    def take_counted(self, key_id: str, window_start: int, limit: int, expires_at: int) -> int | None:
        """Like take; the window's count with this request in it, or None (and no count) once `limit`
        is reached."""
        return run_blocking(self._client, self._take_counted(key_id, window_start, limit, expires_at))

    async def take_counted_from_loop(self, key_id: str, window_start: int, limit: int, expires_at: int) -> int | None:
        return await run_from_loop(
            self._loop_client,
            self._take_counted(key_id, window_start, limit, expires_at),
            lambda: self.take_counted(key_id, window_start, limit, expires_at),
        )

    def _take_counted(self, key_id: str, window_start: int, limit: int, expires_at: int) -> Steps[int | None]:
        params = {
            "TableName": self._table,
            "Key": {"window_id": s(f"{key_id}#{window_start}")},
            "UpdateExpression": "ADD request_count :one SET expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(request_count) OR request_count < :limit",
            "ExpressionAttributeValues": {":one": n(1), ":limit": n(limit), ":expires": n(expires_at)},
            "ReturnValues": "UPDATED_NEW",
        }
        try:
            answer = yield Call("update_item", params)
        except ClientError as error:
            if is_condition_failed(error):
                return None
            raise
        return get_n(answer.get("Attributes") or {}, "request_count", 1) or 1

    def count(self, key_id: str, window_start: int) -> int:
        """Requests counted so far in the key's window (a read: counts nothing)."""
        item = call(
            self._client.get_item,
            TableName=self._table,
            Key={"window_id": s(f"{key_id}#{window_start}")},
            ProjectionExpression="request_count",
        ).get("Item")
        return get_n(item or {}, "request_count", 0) or 0
