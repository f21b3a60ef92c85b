"""Part 2: 100 streaming clients against one gateway process for BENCH_SECONDS.

Each client sends its next request as soon as the last one ended. The emulator is told to answer with
20 text deltas 20 ms apart (`STREAM_KNOBS`): about half a second per stream, the shape of a short agent
turn, so 100 clients keep ~100 streams open at every moment and ask for ~200 requests/s. At the
deadline no new request starts; those in flight finish (none is cut, so every one is metered).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from tests.load.streams import StreamFailed, Target, timed_stream

CLIENTS = 100
STREAM_KNOBS = {"x-emulator-deltas": "20", "x-emulator-event-delay-ms": "20"}
FAILURE_SAMPLES = 5


@dataclass
class ConcurrencyRun:
    clients: int
    seconds: float = 0.0
    completed: int = 0
    failed: int = 0
    failure_reasons: list[str] = field(default_factory=list)
    ttfb_s: list[float] = field(default_factory=list)
    ttlb_s: list[float] = field(default_factory=list)

    @property
    def requests_per_s(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def fail(self, reason: str) -> None:
        self.failed += 1
        if len(self.failure_reasons) < FAILURE_SAMPLES:
            self.failure_reasons.append(reason)


async def _one_client(client: httpx.AsyncClient, target: Target, deadline: float, run: ConcurrencyRun) -> None:
    while time.monotonic() < deadline:
        try:
            timing = await timed_stream(client, target, STREAM_KNOBS)
        except (StreamFailed, httpx.HTTPError) as error:
            run.fail(f"{type(error).__name__}: {error}"[:300])
            await asyncio.sleep(0.05)  # a failing gateway must not become a busy loop
            continue
        run.completed += 1
        run.ttfb_s.append(timing.ttfb_s)
        run.ttlb_s.append(timing.ttlb_s)


async def run_concurrent_streams(target: Target, seconds: float, clients: int = CLIENTS) -> ConcurrencyRun:
    """Each client has an httpx client of its own (one kept-alive connection), as each Claude Code
    does. One client shared by all 100 spent the bench process's core in its connection pool: 0.93
    of a core for 63 requests/s and a TTFB p95 of 5 s, on an in-memory store that served 183/s with a
    p95 of 48-68 ms once each client had its own (2026-12-02): the bench was measuring itself."""
    run = ConcurrencyRun(clients=clients)
    started = time.monotonic()
    deadline = started + seconds

    async def one_client() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
            await _one_client(client, target, deadline, run)

    await asyncio.gather(*(one_client() for _ in range(clients)))
    run.seconds = time.monotonic() - started
    return run
