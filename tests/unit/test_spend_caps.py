"""Cap periods in UTC: a day from midnight, a week from Monday 00:00, a month from the 1st."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from codegateway.domain.spend_caps import counter_id, period_end, period_start, retry_after_s, windows_for


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("day", _utc(2026, 12, 1, 23, 59, 59), _utc(2026, 12, 1), _utc(2026, 12, 2)),
        # 2026-12-06 is a Sunday: its week began on Monday the 30th of November.
        ("week", _utc(2026, 12, 6, 23, 0), _utc(2026, 11, 30), _utc(2026, 12, 7)),
        ("week", _utc(2026, 12, 7, 0, 0), _utc(2026, 12, 7), _utc(2026, 12, 14)),
        ("month", _utc(2026, 12, 31, 23, 59), _utc(2026, 12, 1), _utc(2027, 1, 1)),
        ("month", _utc(2028, 2, 29, 12, 0), _utc(2028, 2, 1), _utc(2028, 3, 1)),
    ],
)  # fmt: skip
def test_periods_start_and_reset_on_utc_boundaries(period: str, now: datetime, start: datetime, end: datetime) -> None:
    assert (period_start(period, now), period_end(period, now)) == (start, end)


def test_a_new_period_counts_on_a_new_counter() -> None:
    sunday = datetime(2026, 12, 6, 23, 59, tzinfo=UTC)
    monday = datetime(2026, 12, 7, 0, 1, tzinfo=UTC)
    assert counter_id("key", "k1", "week", sunday) == "CAP#key#k1#week#2026-11-30"
    assert counter_id("key", "k1", "week", monday) == "CAP#key#k1#week#2026-12-07"
    assert counter_id("key", "k1", "month", sunday) == counter_id("key", "k1", "month", monday)


def test_every_cap_in_force_applies_and_retry_after_counts_to_its_reset() -> None:
    now = datetime(2026, 12, 1, 23, 59, 30, tzinfo=UTC)
    windows = windows_for("k1", {"day": 5, "month": 50}, "acct_1", {"week": 20}, now)
    assert [(w.scope, w.period, w.limit_nano) for w in windows] == [
        ("key", "day", 5),
        ("key", "month", 50),
        ("account", "week", 20),
    ]
    assert retry_after_s(windows[0], now) == 30
