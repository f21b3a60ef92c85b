"""The pure parts of usage reports: the CSV export and the summary's day range."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from codegateway.accounts.usage import summary_days, usage_csv
from codegateway.accounts.views import USAGE_COLUMNS
from codegateway.domain.records import UsageRecord
from codegateway.errors import InvalidRequest
from codegateway.store import decode_cursor, encode_cursor


def _record(request_id: str, billed_nano: int, session_id: str | None = None) -> UsageRecord:
    return UsageRecord(
        account_id="acct_1", request_id=request_id, created_at="2026-11-25T10:00:00.000Z", key_id="0123456789abcdef",
        model="claude-sonnet-4-6", status=200, ended="completed", input_tokens=12, output_tokens=3,
        billed_nano=billed_nano, stream=True, session_id=session_id,
    )  # fmt: skip


def test_csv_has_the_usage_columns_and_exact_money() -> None:
    text = usage_csv([_record("req_a", 31_500_000), _record("req_b", 1, session_id='with "quotes", commas')])
    assert text.startswith(",".join(USAGE_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["request_id"] for row in rows] == ["req_a", "req_b"]
    assert [row["cost_usd"] for row in rows] == ["0.0315", "0.000000001"]
    assert rows[1]["session_id"] == 'with "quotes", commas'
    assert rows[0]["error_type"] == "" and rows[0]["stream"] == "True"


@pytest.mark.parametrize(
    "session_id",
    ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"],
    ids=["equals", "plus", "minus", "at", "tab", "cr"],
)
def test_a_session_id_that_looks_like_a_formula_exports_as_text(session_id: str) -> None:
    text = usage_csv([_record("req_a", 1, session_id=session_id)])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["session_id"] == "'" + session_id
    for row_cells in csv.reader(io.StringIO(text)):
        for cell in row_cells:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_numbers_that_start_with_a_sign_stay_numbers_in_the_export() -> None:
    text = usage_csv([_record("req_a", -1_500_000_000, session_id="-12.5")])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["cost_usd"] == "-1.50"
    assert row["session_id"] == "-12.5"
    assert row["request_id"] == "req_a"


def test_an_empty_export_is_just_the_header() -> None:
    assert usage_csv([]) == ",".join(USAGE_COLUMNS) + "\r\n"


def test_the_summary_defaults_to_the_last_30_days() -> None:
    assert summary_days(None, None, today=date(2026, 11, 25)) == ("2026-10-27", "2026-11-25")
    assert summary_days("2026-11-01T00:00:00.000Z", "2026-11-03T23:00:00.000Z") == ("2026-11-01", "2026-11-03")


@pytest.mark.parametrize(
    ("since", "until"), [("2026-11-02T00:00:00.000Z", "2026-11-01T00:00:00.000Z"), ("2025-01-01T00:00:00Z", None)]
)
def test_the_summary_refuses_backwards_or_overlong_ranges(since: str, until: str | None) -> None:
    with pytest.raises(InvalidRequest):
        summary_days(since, until, today=date(2026, 11, 25))


def test_page_cursors_round_trip_and_refuse_anything_else() -> None:
    key = {"account_id": {"S": "acct_1"}, "balance_nano": {"N": "5"}}
    assert decode_cursor(encode_cursor(key) or "") == key
    assert encode_cursor(None) is None
    for bogus in ("bogus", "e30", "W10=", encode_cursor({"a": {"M": {}}}) or ""):  # junk, {}, [], a map value
        with pytest.raises(ValueError):
            decode_cursor(bogus)


def test_cost_per_session_and_per_subagent_sums_the_records() -> None:
    from codegateway.accounts.usage import cost_by_session
    from codegateway.domain.records import UsageRecord

    def record(request_id: str, session: str | None, agent: str | None, billed: int) -> UsageRecord:
        return UsageRecord(account_id="a", request_id=request_id, created_at=f"2026-11-01T00:00:0{request_id}Z",
                           key_id="k", model="m", status=200, ended="complete", billed_nano=billed,
                           session_id=session, agent_id=agent)  # fmt: skip

    records = [record("1", "s1", None, 10), record("2", "s1", "explore", 30), record("3", None, None, 5)]
    assert [(c.session_id, c.requests, c.billed_nano) for c in cost_by_session(records)] == [
        ("s1", 2, 40),
        ("(none)", 1, 5),
    ]
    assert [(c.session_id, c.agent_id, c.billed_nano) for c in cost_by_session(records, by_agent=True)] == [
        ("s1", "explore", 30),
        ("s1", "(none)", 10),
        ("(none)", "(none)", 5),
    ]
