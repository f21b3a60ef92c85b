"""Spend caps: a key's or an account's most spend per UTC day, week (from Monday 00:00) or month
(from the 1st, 00:00). No I/O.

A cap is counted by one counter item per cap and period (store/ledger.py), moved by the same
transactions that move the balance: a reservation adds its hold, a growth its growth, a settlement
replaces the hold by the charge. So the counter always holds charges plus live holds, and concurrent
requests cannot jointly pass a cap by more than the account's overdraft limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from codegateway.domain.pricing import nano_to_usd_str

PERIODS = ("day", "week", "month")
PERIOD_WORDS = {"day": "daily", "week": "weekly", "month": "monthly"}


@dataclass(frozen=True, slots=True)
class CapWindow:
    """One cap in force for one request: which counter it is counted on, and until when."""

    scope: str  # "key" or "account"
    period: str
    limit_nano: int
    counter_id: str
    resets_at: datetime

    def describe(self) -> str:
        whose = "This key's" if self.scope == "key" else "This account's"
        return f"{whose} {PERIOD_WORDS[self.period]} spend cap"


@dataclass(frozen=True, slots=True)
class CapUse:
    """A cap with what is spent or in flight on it this period."""

    window: CapWindow
    owner_id: str
    used_nano: int


def period_start(period: str, now: datetime) -> datetime:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def period_end(period: str, now: datetime) -> datetime:
    start = period_start(period, now)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def counter_id(scope: str, owner_id: str, period: str, now: datetime) -> str:
    return f"CAP#{scope}#{owner_id}#{period}#{period_start(period, now):%Y-%m-%d}"


def windows_for(
    key_id: str, key_caps: dict[str, int], account_id: str, account_caps: dict[str, int], now: datetime
) -> list[CapWindow]:
    """Every cap in force on a request of this key, at `now`."""
    windows = []
    for scope, owner_id, caps in (("key", key_id, key_caps), ("account", account_id, account_caps)):
        for period in PERIODS:
            if period in caps:
                windows.append(
                    CapWindow(
                        scope, period, caps[period], counter_id(scope, owner_id, period, now), period_end(period, now)
                    )
                )
    return windows


def retry_after_s(window: CapWindow, now: datetime) -> int:
    return max(1, int((window.resets_at - now).total_seconds() + 0.999))


def validated_period(period: str) -> str:
    if period not in PERIODS:
        raise ValueError(f"period: one of {', '.join(PERIODS)}")
    return period


def cap_reached_message(window: CapWindow, committed_nano: int, now: datetime) -> str:
    resets = window.resets_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{window.describe()} of ${nano_to_usd_str(window.limit_nano)} is reached "
        f"(${nano_to_usd_str(max(0, committed_nano))} spent or in flight this {window.period}). It resets at "
        f"{resets}, in {retry_after_s(window, now)} s; ask your gateway administrator to raise it (cgw caps set)."
    )


def cap_use_header(window: CapWindow, committed_nano: int) -> tuple[bytes, bytes]:
    """`cgw-spend-cap-day: used=0.0312; limit=0.05; resets=2026-12-02T00:00:00Z` (USD)."""
    value = (
        f"used={nano_to_usd_str(max(0, committed_nano))}; limit={nano_to_usd_str(window.limit_nano)}; "
        f"resets={window.resets_at:%Y-%m-%dT%H:%M:%SZ}"
    )
    return f"cgw-spend-cap-{window.period}".encode(), value.encode()
