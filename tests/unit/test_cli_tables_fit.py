"""`cgw` tables in an 80-column terminal: ids never broken (shortened instead), times without dates when
the rows are from one day, the least useful columns left out first, numbers right-aligned."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from codegateway.cli.output import print_table
from codegateway.cli.table_layout import compact_times, fit, short_ids, table_width
from codegateway.cli.usage import TABLE_COLUMNS

ACCOUNT_COLUMNS = ("id", "email", "name", "status", "balance_usd", "available_usd", "tier", "markup", "created_at")


def _usage_row(n: int, day: str = "2026-12-01") -> dict[str, object]:
    return {
        "created_at": f"{day}T20:57:{n:02d}.889Z",
        "request_id": f"req_cg_{n:02d}59586b476a3d675255199",
        "key_id": "ee4463e024628521",
        "model": "claude-sonnet-4-6",
        "input_tokens": 12_000 + n,
        "output_tokens": 900,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 48_000,
        "cost_usd": "0.0004275",
        "status": 200,
        "ended": "completed",
    }


def _account(n: int) -> dict[str, object]:
    return {
        "id": f"acct_{n:02d}28b73f0883201e1cf4",
        "email": f"user{n}@example.com",
        "name": "A name",
        "status": "active",
        "balance_usd": "1.9987175",
        "available_usd": "1.9987175",
        "tier": "starter",
        "markup": "1.5x",
        "created_at": "2026-11-30T08:00:00.000Z",
    }


def _render(rows: list[dict[str, object]], columns: tuple[str, ...], width: int) -> str:
    out = io.StringIO()
    print_table("Title", rows, columns, console=Console(file=out, width=width, no_color=True))
    return out.getvalue()


@pytest.mark.parametrize(
    ("values", "shown", "day"),
    [
        (["2026-12-01T20:57:49.889Z", "2026-12-01T21:00:00.000Z"], ["20:57:49", "21:00:00"], "2026-12-01"),
        (["2026-11-30T23:59:00.000Z", "2026-12-01T00:01:00.000Z"], ["2026-11-30 23:59", "2026-12-01 00:01"], None),
        (["2026-12-01T20:57:49.889Z", ""], ["20:57:49", ""], "2026-12-01"),
        (["not a time"], ["not a time"], None),
    ],
)
def test_times_drop_the_date_when_all_rows_are_from_one_day(
    values: list[str], shown: list[str], day: str | None
) -> None:
    assert compact_times(values) == (shown, day)


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        (["acct_0c28b73f0883201e1cf4", "acct_3b2fd80883201e1cf4aa"], ["0c28b7…", "3b2fd8…"]),
        (["req_cg_8d9595aa", "req_cg_8d9595bb"], ["8d9595a…", "8d9595b…"]),
        (["req_cg_8d9595a", "req_cg_8d9595b"], ["8d9595a", "8d9595b"]),
        (["ee4463e024628521", "ee4463e024628521", ""], ["ee4463…", "ee4463…", ""]),
        (["ab", "abc"], ["ab", "abc"]),
    ],
)
def test_short_ids_are_the_shortest_prefixes_that_tell_rows_apart(values: list[str], shown: list[str]) -> None:
    assert short_ids(values) == shown


def test_a_table_that_fits_is_left_whole() -> None:
    layout = fit([_account(1)], ("id", "status"), width=80, text=str, header=str)
    assert layout.columns == ("id", "status") and not layout.shortened_ids and not layout.dropped
    assert layout.rows == (("acct_0128b73f0883201e1cf4", "active"),)


@pytest.mark.parametrize("width", [80, 100])
def test_usage_fits_80_columns_with_whole_or_short_ids_and_times_of_day(width: int) -> None:
    rows = [_usage_row(n) for n in range(3)]
    text = _render(rows, TABLE_COLUMNS, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    assert "(2026-12-01, UTC)" in lines[0]
    body = "\n".join(lines[1:])
    for n in range(3):
        assert f"20:57:{n:02d}" in body and f"{n:02d}5958" in body
        assert f"{12_000 + n}" in body
    assert "2026-12-01T" not in body


def test_numbers_are_right_aligned() -> None:
    rows = [{"model": "m", "input_tokens": 5}, {"model": "m", "input_tokens": 12345}]
    lines = [line for line in _render(rows, ("model", "input_tokens"), 80).splitlines() if "│" in line]
    assert lines[0].index("5 │") == lines[1].index("12345 │") + 4


def test_accounts_fit_80_columns_and_keep_email_and_balance() -> None:
    text = _render([_account(n) for n in range(3)], ACCOUNT_COLUMNS, 80)
    assert all(len(line) <= 80 for line in text.splitlines())
    for n in range(3):
        assert f"user{n}@example.com" in text and f"{n:02d}28b7" in text
    assert "1.9987175" in text


def test_a_wide_terminal_gets_every_column_and_whole_ids() -> None:
    rows = [_usage_row(n) for n in range(2)]
    text = _render(rows, TABLE_COLUMNS, 220)
    assert "req_cg_0059586b476a3d675255199" in text and "cache read" in text
    assert table_width([1, 1]) == 9
