"""The free diagnostics stream's shape: its first event at once, a ping each keepalive interval while idle,
then `done`; idle_s bounded."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from codegateway.domain.sse import SseParser
from codegateway.errors import InvalidRequest
from codegateway.proxy.diagnostics import IDLE_MAX_S, parse_idle_s, pings_then_done, start_event
from codegateway.proxy.rate_limit import Headroom
from codegateway.proxy.relay import PING_EVENT


@pytest.mark.parametrize(("raw", "idle_s"), [(None, 0.0), ("", 0.0), ("0", 0.0), ("65", 65.0), ("120", 120.0)])
def test_idle_seconds_are_read_from_the_query(raw: str | None, idle_s: float) -> None:
    assert parse_idle_s(raw) == idle_s


@pytest.mark.parametrize("raw", ["121", "-1", "nan", "inf", "ten", "1e9"])
def test_idle_seconds_outside_0_to_120_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest, match="idle_s"):
        parse_idle_s(raw)
    assert IDLE_MAX_S == 120


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _run(idle_s: float, interval_s: float) -> tuple[list[bytes], FakeTime]:
    time = FakeTime()

    async def collect() -> list[bytes]:
        stream = pings_then_done(b"FIRST", idle_s, interval_s, sleep=time.sleep, clock=time.clock)
        return [chunk async for chunk in stream]

    return asyncio.run(collect()), time


@pytest.mark.parametrize(("idle_s", "interval_s", "pings"), [(0, 10, 0), (65, 10, 6), (60, 10, 5), (5, 10, 0)])
def test_the_stream_pings_every_keepalive_interval_then_says_done(idle_s: float, interval_s: float, pings: int) -> None:
    chunks, time = _run(idle_s, interval_s)
    assert chunks[0] == b"FIRST"
    assert chunks[1:-1] == [PING_EVENT] * pings
    events = SseParser().feed(chunks[-1])
    assert [event.name for event in events] == ["done"]
    assert orjson.loads(events[0].data) == {"type": "done", "idle_s": idle_s, "pings": pings}
    assert time.now == idle_s
    assert max(time.slept, default=0) <= interval_s


def test_the_first_event_carries_the_keepalive_interval_and_rpm_headroom() -> None:
    events = SseParser().feed(start_event(65, 10, Headroom(limit=120, used=7, resets_in_s=42)))
    assert [event.name for event in events] == ["diagnostics_start"]
    assert orjson.loads(events[0].data) == {
        "type": "diagnostics_start",
        "idle_s": 65,
        "keepalive_interval_s": 10,
        "rpm_limit": 120,
        "rpm_used": 7,
        "rpm_resets_in_s": 42,
    }
