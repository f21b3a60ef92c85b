"""Usage: request records of an account or a key in a time range (JSON pages, or CSV with
views.USAGE_COLUMNS), and an account's per-day summary from the daily rollups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from codegateway.accounts.usage import CSV_PAGE_MAX_ROWS, daily_summary, summary_days, usage_csv, usage_page
from codegateway.accounts.views import daily_usage_view, listing, parse_limit, parse_time_bound, usage_row
from codegateway.admin_api.context import AdminStore
from codegateway.errors import InvalidRequest

router = APIRouter(tags=["usage"])


def _wants_csv(output_format: str | None, accept: str | None) -> bool:
    if output_format not in (None, "json", "csv"):
        raise InvalidRequest("format: json or csv.")
    return output_format == "csv" or (output_format is None and "text/csv" in (accept or ""))


@dataclass
class UsageQuery:
    """The query both usage routes take (a FastAPI class dependency)."""

    since: str | None = None
    until: str | None = None
    limit: str | None = None
    page: str | None = None
    output_format: Annotated[str | None, Query(alias="format")] = None
    accept: Annotated[str | None, Header()] = None


def _usage(store: AdminStore, query: UsageQuery, *, account_id: str | None = None, key_id: str | None = None) -> Any:
    as_csv = _wants_csv(query.output_format, query.accept)
    found = usage_page(
        store,
        account_id=account_id,
        key_id=key_id,
        since=parse_time_bound("since", query.since),
        until=parse_time_bound("until", query.until),
        limit=parse_limit(query.limit, CSV_PAGE_MAX_ROWS if as_csv else 100, CSV_PAGE_MAX_ROWS if as_csv else 1000),
        cursor=query.page,
        # A CSV export reads like a log, oldest first; JSON pages answer "what just happened".
        newest_first=not as_csv,
    )
    if not as_csv:
        return listing([usage_row(record) for record in found.records], found.next_cursor)
    headers = {"x-has-more": "true" if found.next_cursor else "false"}
    if found.next_cursor:
        headers["x-next-page"] = found.next_cursor
    return Response(usage_csv(found.records), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/v1/accounts/{account_id}/usage")
def account_usage(account_id: str, store: AdminStore, query: Annotated[UsageQuery, Depends()]) -> Any:
    return _usage(store, query, account_id=account_id)


@router.get("/v1/keys/{key_id}/usage")
def key_usage(key_id: str, store: AdminStore, query: Annotated[UsageQuery, Depends()]) -> Any:
    return _usage(store, query, key_id=key_id)


@router.get("/v1/accounts/{account_id}/usage/daily")
def account_daily_usage(
    account_id: str, store: AdminStore, since: str | None = None, until: str | None = None
) -> dict[str, Any]:
    first_day, last_day = summary_days(parse_time_bound("since", since), parse_time_bound("until", until))
    rollups = daily_summary(store, account_id, first_day, last_day)
    return {**listing([daily_usage_view(rollup) for rollup in rollups]), "first_day": first_day, "last_day": last_day}
