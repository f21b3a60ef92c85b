"""cgw usage: request records of an account or a key in a time range, as a table, CSV (the admin
API's columns) or JSON; --daily for the per-day summary."""

from __future__ import annotations

import enum
import itertools
from typing import Annotated

import typer

from codegateway.accounts.usage import all_usage, daily_summary, summary_days, usage_csv
from codegateway.accounts.views import daily_usage_view, listing, parse_time_bound, usage_row
from codegateway.cli.context import Admin, admin_command, fail
from codegateway.cli.output import note, print_json, print_table
from codegateway.domain.pricing import nano_to_usd_str

TABLE_COLUMNS = (
    "created_at", "request_id", "key_id", "model", "input_tokens", "output_tokens", "cache_creation_input_tokens",
    "cache_read_input_tokens", "cost_usd", "status", "ended",
)  # fmt: skip
DAILY_COLUMNS = ("day", "requests", "input_tokens", "output_tokens", "cost_usd")


class UsageFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@admin_command
def usage(
    admin: Admin,
    account: Annotated[str | None, typer.Option(help="The account's id (acct_...).")] = None,
    key: Annotated[str | None, typer.Option(help="A key's id: only its requests.")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO date or date-time (UTC unless it says).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this ISO date or date-time.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many requests (default: all).")] = None,
    daily: Annotated[bool, typer.Option("--daily", help="One row per day (an account's daily totals).")] = False,
    output: Annotated[UsageFormat, typer.Option("--format", case_sensitive=False)] = UsageFormat.table,
) -> None:
    """Requests of an account or a key, oldest first: model, tokens, cost, outcome. Metadata only."""
    if (account is None) == (key is None):
        fail("give --account or --key (one of them).", 2)
    since_iso, until_iso = parse_time_bound("since", since), parse_time_bound("until", until)
    if daily:
        if account is None:
            fail("--daily sums an account's days: give --account.", 2)
        _daily(admin, str(account), since_iso, until_iso, output)
        return
    records = list(
        itertools.islice(
            all_usage(admin.store, account_id=account, key_id=key, since=since_iso, until=until_iso), limit
        )
    )
    if output is UsageFormat.csv:
        typer.echo(usage_csv(records), nl=False)
    elif output is UsageFormat.json:
        print_json(listing([usage_row(record) for record in records]))
    else:
        print_table(f"Requests of {account or 'key ' + str(key)}", [usage_row(r) for r in records], TABLE_COLUMNS)
        total_nano = sum(record.billed_nano for record in records)
        note(f"{len(records)} requests, {nano_to_usd_str(total_nano)} USD")


def _daily(admin: Admin, account_id: str, since: str | None, until: str | None, output: UsageFormat) -> None:
    first_day, last_day = summary_days(since, until)
    rows = [daily_usage_view(rollup) for rollup in daily_summary(admin.store, account_id, first_day, last_day)]
    if output is UsageFormat.json:
        print_json({**listing(rows), "first_day": first_day, "last_day": last_day})
    elif output is UsageFormat.csv:
        fail("--daily prints a table or JSON.", 2)
    else:
        print_table(f"Daily usage of {account_id}, {first_day} .. {last_day}", rows, DAILY_COLUMNS)


def register_usage_commands(app: typer.Typer) -> None:
    app.command()(usage)
