"""Part 1 (and 5): what the gateway adds to a streamed request, measured against the emulator itself.

Targets take turns request by request (direct, gateway[, LiteLLM], rotating who goes first each round),
so whatever else the machine is doing hits every side alike. Each target keeps one keep-alive
connection, and requests are sequential: this measures the per-request path, not queueing.
Each workload (workloads.py) fixes the body and the emulator's knobs; the same request goes to every side.
Side i's k-th timing and side j's k-th come from the same round, so they can also be paired.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from tests.load.streams import StreamTiming, Target, timed_stream
from tests.load.workloads import Workload, tiny

WARMUP_ROUNDS = 20


@dataclass
class SideTimings:
    ttfb_s: list[float] = field(default_factory=list)
    message_stop_s: list[float] = field(default_factory=list)
    ttlb_s: list[float] = field(default_factory=list)

    def add(self, timing: StreamTiming) -> None:
        self.ttfb_s.append(timing.ttfb_s)
        self.message_stop_s.append(timing.message_stop_s)
        self.ttlb_s.append(timing.ttlb_s)


def _client() -> httpx.AsyncClient:
    # One connection per target, reused: the figure excludes TCP set-up, as for a warm agent session.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


async def alternate(
    targets: Sequence[Target],
    rounds: int,
    workload: Workload | None = None,
    warmup_rounds: int = WARMUP_ROUNDS,
    when_warm: Callable[[], object] = lambda: None,
) -> dict[str, SideTimings]:
    """`rounds` timed requests of `workload` (default: tiny) per target, interleaved, after
    `warmup_rounds` untimed ones; `when_warm` is called between the two (to start CPU meters on the
    timed part only)."""
    workload = workload or tiny()
    results = {target.name: SideTimings() for target in targets}
    async with contextlib.AsyncExitStack() as stack:
        clients = {target.name: await stack.enter_async_context(_client()) for target in targets}
        for round_index in range(warmup_rounds + rounds):
            if round_index == warmup_rounds:
                when_warm()
            shift = round_index % len(targets)
            for target in [*targets[shift:], *targets[:shift]]:
                timing = await timed_stream(
                    clients[target.name], target, workload.headers, body=workload.body, query=workload.query
                )
                if round_index >= warmup_rounds:
                    results[target.name].add(timing)
    return results


async def first_requests_of_new_keys(
    direct: Target, gateway: Target, fresh_keys: Sequence[str]
) -> dict[str, SideTimings]:
    """The key cache miss: each gateway request presents a key this process has never seen (a GetItem
    of the key and a bcrypt check before admission), paired with a direct request right before it."""
    results = {direct.name: SideTimings(), gateway.name: SideTimings()}
    async with _client() as direct_client, _client() as gateway_client:
        for key in fresh_keys:
            results[direct.name].add(await timed_stream(direct_client, direct))
            with_new_key = Target(gateway.name, gateway.messages_url, {**gateway.headers, "x-api-key": key})
            results[gateway.name].add(await timed_stream(gateway_client, with_new_key))
    return results
