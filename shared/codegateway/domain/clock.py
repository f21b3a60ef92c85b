"""Wall-clock time in the one format the records use (UTC ISO 8601, millisecond precision), and the
minute windows that rate limits count in."""

from __future__ import annotations

import math
from datetime import UTC, datetime

WINDOW_S = 60


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(utc_now())


def window_of(now: float) -> tuple[int, int]:
    """(window start, whole seconds until the next window) for a moment in epoch seconds."""
    start = int(now // WINDOW_S) * WINDOW_S
    return start, max(1, math.ceil(start + WINDOW_S - now))
