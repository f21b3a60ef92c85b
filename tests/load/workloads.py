"""The two requests the overhead run times: what a proxy adds to each is what users feel.

tiny: a one-line turn that the emulator answers at once, so any added time is the proxy's own and
nothing hides it. agent: a Claude Code-shaped body of about 89.5 KB (agent_body.py) whose first byte the
emulator sends after 50 ms, about what a real upstream spends before its first byte on a cached prompt.
The delay is set as the emulator's default for the run (PUT /_emulator/defaults), not as a request
header, so that it applies alike to direct requests and to proxies that forward no `x-emulator-*` header.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.load import agent_body
from tests.load.streams import MESSAGE_BODY

AGENT_FIRST_BYTE_DELAY_MS = 50


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    # x-emulator-* knobs the emulator applies to every request while this workload runs
    emulator_defaults: dict[str, str] = field(default_factory=dict)

    @property
    def first_byte_delay_ms(self) -> float:
        return float(self.emulator_defaults.get("x-emulator-first-byte-delay-ms", 0))


def tiny() -> Workload:
    return Workload("tiny", "a one-line turn, upstream answers at once", MESSAGE_BODY)


def agent() -> Workload:
    return Workload(
        "agent",
        "Claude Code-shaped body: system blocks, 30 tools, tool-using history, three 1-hour cache_control "
        f"breakpoints; upstream's first byte after {AGENT_FIRST_BYTE_DELAY_MS} ms",
        agent_body.agent_body(),
        headers=agent_body.HEADERS,
        query=agent_body.QUERY,
        emulator_defaults={"x-emulator-first-byte-delay-ms": str(AGENT_FIRST_BYTE_DELAY_MS)},
    )


def all_workloads() -> list[Workload]:
    return [tiny(), agent()]
