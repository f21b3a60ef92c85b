"""Usage table: PK account_id; SK `REQ#<created_at>#<request_id>` (request records),
`DAY#<yyyy-mm-dd>` (daily rollups), `TOPUP#<idempotency key>` (credits). GSI `by-key` (key_id, sk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from codegateway.domain.records import TopUpEntry, UsageRecord
from codegateway.store.client import DynamoClient, all_pages, call
from codegateway.store.cursors import decode_cursor, encode_cursor
from codegateway.store.items import Item, get_n, get_s, n, s

REQUEST_PREFIX = "REQ#"
DAY_PREFIX = "DAY#"
TOPUP_PREFIX = "TOPUP#"
BY_KEY_INDEX = "by-key"
# "~" sorts after every character an ISO timestamp uses: the end of a REQ# range.
_RANGE_END = "~"

_INT_FIELDS = (
    "status", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_write_5m_tokens",
    "cache_write_1h_tokens", "cache_read_input_tokens", "web_search_requests", "base_nano", "markup_bp",
    "billed_nano", "duration_ms", "ttfb_ms", "attempts",
)  # fmt: skip
_STR_FIELDS = (
    "account_id", "request_id", "created_at", "key_id", "model", "ended", "speed", "error_type", "session_id",
    "upstream_request_id", "source", "inference_geo", "priced_as", "catalog_version", "agent_id",
)  # fmt: skip


def request_key(created_at: str, request_id: str) -> str:
    return f"{REQUEST_PREFIX}{created_at}#{request_id}"


def day_key(created_at: str) -> str:
    return DAY_PREFIX + created_at[:10]


def expires_at(created_at: str, retention_days: int) -> int:
    """When a record (and its day's rollup) made at `created_at` leaves the table (its TTL, epoch s)."""
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(UTC)
    return int((created + timedelta(days=retention_days)).timestamp())


def rollup_update(usage_table: str, record: UsageRecord, expires_at: int) -> dict[str, Any]:
    """The Update that adds one settled request to its account's daily rollup."""
    return {
        "TableName": usage_table,
        "Key": {"account_id": s(record.account_id), "sk": s(day_key(record.created_at))},
        "UpdateExpression": "ADD requests :one, billed_nano :billed, base_nano :base, input_tokens :input, "
        "output_tokens :output, cache_creation_input_tokens :cache_write, cache_read_input_tokens :cache_read "
        "SET expires_at = if_not_exists(expires_at, :expires)",
        "ExpressionAttributeValues": {
            ":one": n(1),
            ":billed": n(record.billed_nano),
            ":base": n(record.base_nano),
            ":input": n(record.input_tokens),
            ":output": n(record.output_tokens),
            ":cache_write": n(record.cache_creation_input_tokens),
            ":cache_read": n(record.cache_read_input_tokens),
            ":expires": n(expires_at),
        },
    }


def usage_to_item(record: UsageRecord, expires_at: int) -> Item:
    item: Item = {"sk": s(request_key(record.created_at, record.request_id)), "expires_at": n(expires_at)}
    for name in _INT_FIELDS:
        value = getattr(record, name)
        if value is not None:
            item[name] = n(value)
    for name in _STR_FIELDS:
        value = getattr(record, name)
        if value is not None:
            item[name] = s(value)
    item["stream"] = {"BOOL": record.stream}
    return item


def topup_to_item(account_id: str, entry: TopUpEntry) -> Item:
    # No expires_at: credits are financial records and outlive the usage retention window.
    return {
        "account_id": s(account_id),
        "sk": s(TOPUP_PREFIX + entry.idempotency_key),
        "amount_nano": n(entry.amount_nano),
        "actor": s(entry.actor),
        "reason": s(entry.reason),
        "created_at": s(entry.created_at),
    }


def topup_from_item(item: Item) -> TopUpEntry:
    return TopUpEntry(
        idempotency_key=item["sk"]["S"][len(TOPUP_PREFIX) :],
        amount_nano=int(item["amount_nano"]["N"]),
        actor=item["actor"]["S"],
        reason=item["reason"]["S"],
        created_at=item["created_at"]["S"],
    )


def usage_from_item(item: Item) -> UsageRecord:
    values: dict[str, Any] = {name: get_n(item, name) for name in _INT_FIELDS if name in item}
    values.update({name: get_s(item, name) for name in _STR_FIELDS if name in item})
    values["stream"] = item.get("stream", {}).get("BOOL", False)
    return UsageRecord(**values)


@dataclass(frozen=True)
class DailyRollup:
    day: str
    requests: int
    billed_nano: int
    base_nano: int
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


def _rollup_from_item(item: Item) -> DailyRollup:
    def number(name: str) -> int:
        return get_n(item, name, 0) or 0

    return DailyRollup(
        day=item["sk"]["S"][len(DAY_PREFIX) :],
        requests=number("requests"),
        billed_nano=number("billed_nano"),
        base_nano=number("base_nano"),
        input_tokens=number("input_tokens"),
        output_tokens=number("output_tokens"),
        cache_creation_input_tokens=number("cache_creation_input_tokens"),
        cache_read_input_tokens=number("cache_read_input_tokens"),
    )


@dataclass(frozen=True)
class UsagePage:
    records: list[UsageRecord]
    next_cursor: str | None


class UsageTable:
    def __init__(self, client: DynamoClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def requests(
        self,
        *,
        account_id: str | None = None,
        key_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        newest_first: bool = True,
    ) -> UsagePage:
        """Request records of one account (or one key), in a created_at range, one page at a time."""
        if (account_id is None) == (key_id is None):
            raise ValueError("give exactly one of account_id and key_id")
        low = REQUEST_PREFIX + (since or "")
        high = REQUEST_PREFIX + (until or _RANGE_END)
        partition = ("account_id", account_id) if account_id else ("key_id", key_id)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#pk": partition[0]},
            "ExpressionAttributeValues": {":pk": s(str(partition[1])), ":low": s(low), ":high": s(high)},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if key_id:
            kwargs["IndexName"] = BY_KEY_INDEX
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor)
        response = call(self._client.query, **kwargs)
        records = [usage_from_item(item) for item in response.get("Items", [])]
        return UsagePage(records, encode_cursor(response.get("LastEvaluatedKey")))

    def daily_rollups(self, account_id: str, first_day: str, last_day: str) -> list[DailyRollup]:
        query = rollup_range_query(self._table, account_id, first_day, last_day)
        return [_rollup_from_item(item) for item in all_pages(self._client.query, query)]


def rollup_range_query(table: str, account_id: str, first_day: str, last_day: str) -> dict[str, Any]:
    """The Query for an account's daily rollups from first_day to last_day ('YYYY-MM-DD', inclusive)."""
    return {
        "TableName": table,
        "KeyConditionExpression": "account_id = :a AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":a": s(account_id),
            ":low": s(DAY_PREFIX + first_day),
            ":high": s(DAY_PREFIX + last_day),
        },
    }
