"""How admin commands print: rich tables for people, JSON (the admin API's shapes) for scripts.
Results go to stdout; notes and errors to stderr, so `--format json | jq` always parses."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from codegateway.cli.table_layout import ID_COLUMNS, TIME_COLUMNS, fit

if TYPE_CHECKING:
    from rich.console import Console


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="A table for people, JSON for scripts.", case_sensitive=False)
]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def note(message: str) -> None:
    typer.echo(message, err=True)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# Short headers keep wide tables readable in a terminal; JSON and CSV keep the field names.
_HEADERS = {
    "created_at": "time",
    "request_id": "request",
    "balance_usd": "balance $",
    "available_usd": "available $",
    "held_usd": "held $",
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_creation_input_tokens": "cache write",
    "cache_read_input_tokens": "cache read",
    "cost_usd": "cost $",
    "duration_ms": "ms",
}
_NUMERIC = frozenset({"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                      "cost_usd", "duration_ms", "status", "requests", "rpm_limit", "balance_usd", "available_usd",
                      "held_usd", "amount_usd", "spend_90d_usd"})  # fmt: skip


def print_table(
    title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], console: Console | None = None
) -> None:
    """A table that fits the terminal (see table_layout): ids whole or shortened, never folded."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    layout = fit(rows, columns, width=console.width, text=_text, header=lambda column: _HEADERS.get(column, column))
    table = Table(title=f"{title} ({layout.day}, UTC)" if layout.day else title, title_justify="left")
    for column in layout.columns:
        whole = column in ID_COLUMNS or column in TIME_COLUMNS
        table.add_column(
            _HEADERS.get(column, column),
            no_wrap=whole,
            overflow="ellipsis" if whole else "fold",
            justify="right" if column in _NUMERIC else "left",
        )
    for row in layout.rows:
        table.add_row(*row)
    console.print(table)
    if layout.shortened_ids or layout.dropped:
        left_out = f"; left out: {', '.join(_HEADERS.get(c, c) for c in layout.dropped)}" if layout.dropped else ""
        shortened = "ids shortened" if layout.shortened_ids else "columns chosen"
        note(f"({shortened} to fit {console.width} columns{left_out}. --format json has every field in full.)")


def print_record(title: str, record: dict[str, Any], fields: Sequence[str] | None = None) -> None:
    """One record as a two-column table (field, value)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field in fields or [name for name in record if name != "type"]:
        table.add_row(field, _text(record.get(field)))
    Console().print(table)


def print_listing(title: str, listing: dict[str, Any], columns: Sequence[str], output: OutputFormat) -> None:
    """A page of a list ({data, has_more, next_page}); with more to come, says how to get it."""
    if output is OutputFormat.json:
        print_json(listing)
        return
    print_table(title, listing["data"], columns)
    if listing.get("has_more"):
        note(f"More: repeat with --page {listing['next_page']}")
