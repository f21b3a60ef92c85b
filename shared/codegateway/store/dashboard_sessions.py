"""Dashboard sign-in sessions: one `session#<sha256 of the cookie>` item per session in the
RateLimits table, with a TTL. The cookie's value is stored nowhere; expiring it signs out."""

from __future__ import annotations

from dataclasses import dataclass

from codegateway.store.client import DynamoClient, call
from codegateway.store.items import n, req_n, req_s, s

SESSION_PREFIX = "session#"


@dataclass(frozen=True)
class DashboardSession:
    account_id: str
    csrf_token: str
    expires_at: int


class DashboardSessionsTable:
    def __init__(self, client: DynamoClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, token_hash: str, session: DashboardSession) -> None:
        call(
            self._client.put_item,
            TableName=self._table,
            Item={
                "window_id": s(SESSION_PREFIX + token_hash),
                "account_id": s(session.account_id),
                "csrf_token": s(session.csrf_token),
                "expires_at": n(session.expires_at),
            },
        )

    def get(self, token_hash: str) -> DashboardSession | None:
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key={"window_id": s(SESSION_PREFIX + token_hash)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        return DashboardSession(req_s(item, "account_id"), req_s(item, "csrf_token"), req_n(item, "expires_at"))

    def end(self, token_hash: str) -> None:
        """Sign out: the session expires now (an update: the proxy's role has no DeleteItem; TTL
        removes the item later)."""
        call(
            self._client.update_item,
            TableName=self._table,
            Key={"window_id": s(SESSION_PREFIX + token_hash)},
            UpdateExpression="SET expires_at = :zero",
            ExpressionAttributeValues={":zero": n(0)},
        )
