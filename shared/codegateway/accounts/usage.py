"""Usage queries: request records by account or key and time range (paged; admins' and a key
holder's own listing share the checks), every page for an export, CSV, and the per-day summary from
the daily rollups."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from codegateway.accounts.lookups import find_key, get_account
from codegateway.accounts.views import USAGE_COLUMNS, usage_row
from codegateway.domain.clock import utc_now
from codegateway.domain.records import UsageRecord
from codegateway.errors import InvalidRequest
from codegateway.store import DailyRollup, Store, UsagePage

# The admin URL buffers its answer and a Function URL answer is at most 6 MB: ~10k rows of CSV fit.
CSV_PAGE_MAX_ROWS = 10_000
SUMMARY_MAX_DAYS = 400
SUMMARY_DEFAULT_DAYS = 30

# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection"); a
# session id is caller-chosen text, so an export could carry `=HYPERLINK(...)` to an admin's desktop.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def usage_page(
    store: Store,
    *,
    account_id: str | None = None,
    key_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    newest_first: bool = True,
) -> UsagePage:
    """One page of request records of an account or of a key, `since` <= created_at <= `until`; an
    account or key that does not exist is a 404, not an empty page."""
    if (account_id is None) == (key_id is None):
        raise InvalidRequest("Give an account or a key (exactly one of them).")
    _check_range(since, until)
    if account_id is not None:
        get_account(store, account_id)
    if key_id is not None:
        find_key(store, key_id)
    return _records_page(store, account_id, key_id, since, until, limit, cursor, newest_first)


def own_usage_page(
    store: Store,
    account_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> UsagePage:
    """The same listing for a key holder's own account, newest first: the caller was just
    authenticated, so the account is not looked up again."""
    _check_range(since, until)
    return _records_page(store, account_id, None, since, until, limit, cursor, True)


def _check_range(since: str | None, until: str | None) -> None:
    if since and until and since > until:
        raise InvalidRequest("since: must not be after until.")


def _records_page(
    store: Store,
    account_id: str | None,
    key_id: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    cursor: str | None,
    newest_first: bool,
) -> UsagePage:
    try:
        return store.usage.requests(
            account_id=account_id,
            key_id=key_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            newest_first=newest_first,
        )
    except ValueError:
        raise InvalidRequest("page: not a cursor this listing returned.") from None


def all_usage(
    store: Store,
    *,
    account_id: str | None = None,
    key_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[UsageRecord]:
    """Every request record in the range, oldest first, read a page at a time (for exports)."""
    cursor: str | None = None
    while True:
        page = usage_page(
            store,
            account_id=account_id,
            key_id=key_id,
            since=since,
            until=until,
            limit=1000,
            cursor=cursor,
            newest_first=False,
        )
        yield from page.records
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def usage_csv(records: Iterable[UsageRecord]) -> str:
    """CSV with a header row of views.USAGE_COLUMNS, one row per request, money as decimal USD."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=USAGE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({column: spreadsheet_safe(value) for column, value in usage_row(record).items()})
    return buffer.getvalue()


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string that would start a formula gets a leading
    `'` (the quote Excel and Sheets hide), unless it is a plain number such as a negative amount."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _NUMBER_RE.match(value):
        return "'" + value
    return value


def summary_days(since: str | None, until: str | None, today: date | None = None) -> tuple[str, str]:
    """The first and last day (YYYY-MM-DD) of a summary: `until` defaults to today, `since` to 30
    days before it. Takes the UTC ISO bounds views.parse_time_bound makes."""
    last = date.fromisoformat(until[:10]) if until else (today or utc_now().date())
    first = date.fromisoformat(since[:10]) if since else last - timedelta(days=SUMMARY_DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidRequest("since: must not be after until.")
    if (last - first).days >= SUMMARY_MAX_DAYS:
        raise InvalidRequest(f"A summary covers at most {SUMMARY_MAX_DAYS} days; narrow since/until.")
    return first.isoformat(), last.isoformat()


def daily_summary(store: Store, account_id: str, first_day: str, last_day: str) -> list[DailyRollup]:
    """One row per day with requests (days without any are absent), oldest first."""
    get_account(store, account_id)
    return store.usage.daily_rollups(account_id, first_day, last_day)


@dataclass(frozen=True)
class SessionCost:
    session_id: str
    agent_id: str
    requests: int
    billed_nano: int
    first_at: str
    last_at: str


NO_ID = "(none)"


def cost_by_session(records: Iterable[UsageRecord], *, by_agent: bool = False) -> list[SessionCost]:
    """Cost per Claude Code session (x-claude-code-session-id), or per session and subagent
    (x-claude-code-agent-id) with `by_agent`; "(none)" where a request had no such header.
    Costliest first."""
    totals: dict[tuple[str, str], SessionCost] = {}
    for record in records:
        group = (record.session_id or NO_ID, (record.agent_id or NO_ID) if by_agent else "")
        seen = totals.get(group)
        if seen is None:
            totals[group] = SessionCost(*group, 1, record.billed_nano, record.created_at, record.created_at)
        else:
            totals[group] = SessionCost(
                *group,
                seen.requests + 1,
                seen.billed_nano + record.billed_nano,
                min(seen.first_at, record.created_at),
                max(seen.last_at, record.created_at),
            )
    return sorted(totals.values(), key=lambda cost: cost.billed_nano, reverse=True)


def last_use_by_key(records: Iterable[UsageRecord]) -> dict[str, str]:
    """key id -> the time of its newest request among these records."""
    last: dict[str, str] = {}
    for record in records:
        if record.created_at > last.get(record.key_id, ""):
            last[record.key_id] = record.created_at
    return last
