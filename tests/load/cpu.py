"""CPU seconds and resident memory of a process, read from /proc/PID (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from types import TracebackType

_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces and parentheses: count fields after its closing ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _CLOCK_TICKS_PER_S


class CpuMeter:
    """CPU seconds each named process used between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()}


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


class RssSampler:
    """Samples a process's resident memory every `every_s` while the block runs (a leak shows as a
    climb that does not level off)."""

    def __init__(self, pid: int, every_s: float = 10.0) -> None:
        self.pid = pid
        self.every_s = every_s
        self.samples_mib: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.samples_mib.append(rss_mib(self.pid))

    async def _sample(self) -> None:
        while True:
            self.samples_mib.append(rss_mib(self.pid))
            await asyncio.sleep(self.every_s)
