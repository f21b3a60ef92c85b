"""Issue 16: when a request may go upstream before admission answers (proxy/speculation.py). Each rule
is the line between "admission all but never refuses this" and "admit first"."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from codegateway.domain.records import Account, ApiKeyRecord
from codegateway.domain.spend_caps import CapWindow
from codegateway.proxy.exchange import Caller, Exchange
from codegateway.proxy.rate_limit import Counted, RateLimiter
from codegateway.proxy.speculation import BALANCE_FACTOR, CAP_USE_MAX_AGE_S, COOLDOWN_S, Speculation

HOLD = 1_000_000
NOW = 1_800_000_030.0  # 30 s into a minute
WINDOW = 1_800_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _exchange(
    available_nano: int = 10 * BALANCE_FACTOR * HOLD, rpm_limit: int | None = 0, caps: tuple[CapWindow, ...] = ()
) -> Exchange:
    account = Account(
        account_id="acct_1", email="a@example.com", status="active", balance_nano=available_nano,
        available_nano=available_nano, markup_bp=10_000, spend_90d_nano=0, created_at="2026-12-01T00:00:00Z",
    )  # fmt: skip
    key = ApiKeyRecord(key_id="k1", account_id="acct_1", name="t", key_hash="h", created_at="", rpm_limit=rpm_limit)
    started = time.monotonic()
    return Exchange(
        request_id="req_1", caller=Caller(key=key, account=account), method="POST", path="/v1/messages",
        query=b"", headers=[], body=b"{}", started=started, deadline=started + 600, cap_windows=caps,
    )  # fmt: skip


def _speculation(clock: Clock | None = None, *, enabled: bool = True) -> Speculation:
    limiter = RateLimiter(None, 120, clock=lambda: NOW)  # type: ignore[arg-type]
    return Speculation(limiter, enabled=enabled, monotonic=clock or Clock())


def test_the_cached_balance_must_cover_four_holds() -> None:
    assert _speculation().ticket(_exchange(available_nano=BALANCE_FACTOR * HOLD), HOLD) is not None
    assert _speculation().ticket(_exchange(available_nano=BALANCE_FACTOR * HOLD - 1), HOLD) is None


def test_one_speculation_per_account_in_flight() -> None:
    speculation = _speculation()
    ticket = speculation.ticket(_exchange(), HOLD)
    assert ticket is not None
    assert speculation.ticket(_exchange(), HOLD) is None
    ticket.admitted()
    assert speculation.ticket(_exchange(), HOLD) is not None


def test_a_refusal_stops_speculation_for_the_account_for_a_minute() -> None:
    clock = Clock()
    speculation = _speculation(clock)
    ticket = speculation.ticket(_exchange(), HOLD)
    assert ticket is not None
    ticket.refused()
    clock.now += COOLDOWN_S - 1
    assert speculation.ticket(_exchange(), HOLD) is None
    clock.now += 1
    assert speculation.ticket(_exchange(), HOLD) is not None


def test_an_rpm_cap_needs_this_minute_seen_at_most_half_full() -> None:
    speculation = _speculation()
    assert speculation.ticket(_exchange(rpm_limit=10), HOLD) is None  # not seen this minute: admit first
    speculation.saw_window("k1", Counted(WINDOW - 60, 1))
    assert speculation.ticket(_exchange(rpm_limit=10), HOLD) is None  # last minute's count says nothing
    speculation.saw_window("k1", Counted(WINDOW, 5))
    assert speculation.ticket(_exchange(rpm_limit=10), HOLD) is None  # this one would be the 6th of 10
    speculation.saw_window("k1", Counted(WINDOW, 4))
    ticket = speculation.ticket(_exchange(rpm_limit=10), HOLD)
    assert ticket is not None
    ticket.admitted()
    assert speculation.ticket(_exchange(rpm_limit=0), HOLD) is not None  # no cap


def test_spend_caps_need_a_recent_read_with_room_for_four_holds() -> None:
    clock = Clock()
    speculation = _speculation(clock)
    cap = CapWindow("key", "day", 100 * HOLD, "CAP#key#k1#day#2027-01-15", datetime(2027, 1, 16, tzinfo=UTC))
    assert speculation.ticket(_exchange(caps=(cap,)), HOLD) is None  # never read
    speculation.saw_cap_use({cap.counter_id: 96 * HOLD + 1})
    assert speculation.ticket(_exchange(caps=(cap,)), HOLD) is None  # no room for four holds
    speculation.saw_cap_use({cap.counter_id: 96 * HOLD})
    ticket = speculation.ticket(_exchange(caps=(cap,)), HOLD)
    assert ticket is not None
    ticket.admitted()
    clock.now += CAP_USE_MAX_AGE_S + 0.1
    assert speculation.ticket(_exchange(caps=(cap,)), HOLD) is None  # the read is too old


def test_off_means_admission_always_answers_first() -> None:
    assert _speculation(enabled=False).ticket(_exchange(), HOLD) is None
