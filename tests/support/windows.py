"""Rate-limit windows are fixed minutes: tests that count requests start near a window's beginning."""

from __future__ import annotations

import time


def wait_for_fresh_minute(latest_second: float = 45) -> None:
    into_minute = time.time() % 60
    if into_minute > latest_second:
        time.sleep(60 - into_minute + 0.2)
