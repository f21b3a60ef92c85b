"""The free diagnostics stream behind `GET /v1/diagnostics/stream` (what `cgw doctor` measures).

It answers at once (time to first byte without the upstream's latency), then stays silent but for the
gateway's keepalive pings for `idle_s`, then sends `done`: a path that cuts idle connections (30-60 s
middleboxes, CloudFront's 30 s origin read timeout) shows up as a stream without its `done`.
Never forwarded, metered, reserved or counted against the key's RPM; capped per key on its own.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson

from codegateway.errors import InvalidRequest
from codegateway.proxy.exchange import Caller
from codegateway.proxy.rate_limit import Headroom, RateLimiter
from codegateway.proxy.relay import PING_EVENT

IDLE_MAX_S = 120.0


def parse_idle_s(raw: str | None) -> float:
    """`?idle_s=N`: seconds of pings-only silence, 0 (the default) to IDLE_MAX_S."""
    if raw is None or raw == "":
        return 0.0
    try:
        idle_s = float(raw)
    except ValueError:
        idle_s = math.nan
    if not 0 <= idle_s <= IDLE_MAX_S:  # also refuses nan
        raise InvalidRequest(f"idle_s: a number of seconds from 0 to {IDLE_MAX_S:g}.")
    return idle_s


def sse_event(name: str, payload: dict[str, object]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **payload}) + b"\n\n"


def start_event(idle_s: float, keepalive_interval_s: float, headroom: Headroom) -> bytes:
    return sse_event(
        "diagnostics_start",
        {
            "idle_s": idle_s,
            "keepalive_interval_s": keepalive_interval_s,
            "rpm_limit": headroom.limit,
            "rpm_used": headroom.used,
            "rpm_resets_in_s": headroom.resets_in_s,
        },
    )


async def pings_then_done(
    first: bytes,
    idle_s: float,
    keepalive_interval_s: float,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[bytes]:
    """`first`, then a ping every keepalive interval until idle_s has passed, then `done`."""
    yield first
    end = clock() + idle_s
    pings = 0
    while (left_s := end - clock()) > 0:
        if left_s <= keepalive_interval_s:
            await sleep(left_s)
            break
        await sleep(keepalive_interval_s)
        yield PING_EVENT
        pings += 1
    yield sse_event("done", {"idle_s": idle_s, "pings": pings})


class Diagnostics:
    def __init__(self, rate_limiter: RateLimiter, *, keepalive_interval_s: float, streams_per_minute: int) -> None:
        self._rate_limiter = rate_limiter
        self._keepalive_interval_s = keepalive_interval_s
        self._streams_per_minute = streams_per_minute

    async def open_stream(self, caller: Caller, idle_s: float) -> AsyncIterator[bytes]:
        """RateLimited (429) past the per-key cap; else the stream's bytes."""
        await self._rate_limiter.take_diagnostics_stream(caller, self._streams_per_minute)
        headroom = await self._rate_limiter.headroom(caller)
        first = start_event(idle_s, self._keepalive_interval_s, headroom)
        return pings_then_done(first, idle_s, self._keepalive_interval_s)
