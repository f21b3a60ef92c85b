"""Per-key requests-per-minute caps, shared by every instance through DynamoDB.

The cap is the key's own rpm_limit, else its account's, else CGW_DEFAULT_RPM_LIMIT; 0 means
unlimited. Windows are fixed minutes, so `retry-after` is the whole seconds to the window's end
(Claude Code stops retrying above 60; a fixed minute never asks for more).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from codegateway.domain.clock import WINDOW_S, window_of
from codegateway.errors import RateLimited
from codegateway.proxy.exchange import Caller
from codegateway.store import Store

UNLIMITED = 0


def effective_rpm_limit(caller: Caller, default_rpm_limit: int) -> int:
    for limit in (caller.key.rpm_limit, caller.account.rpm_limit):
        if limit is not None:
            return limit
    return default_rpm_limit


@dataclass(frozen=True, slots=True)
class Counted:
    """A key's window (its start, epoch seconds) and how many requests it counted."""

    window_start: int
    count: int


@dataclass(frozen=True, slots=True)
class Headroom:
    """A key's cap and what its current window has used (limit 0: unlimited)."""

    limit: int
    used: int
    resets_in_s: int


class RateLimiter:
    def __init__(self, store: Store, default_rpm_limit: int, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._default_rpm_limit = default_rpm_limit
        self._clock = clock

    async def take(self, caller: Caller) -> Counted | None:
        """Count the request against the key's cap; what its window has counted (None: no cap)."""
        limit = effective_rpm_limit(caller, self._default_rpm_limit)
        if limit == UNLIMITED:
            return None
        now = self._clock()
        window_start, retry_after_s = window_of(now)
        count = await self._store.rate_limits.take_counted_from_loop(
            caller.key.key_id, window_start, limit, window_start + 2 * WINDOW_S
        )
        if count is not None:
            return Counted(window_start, count)
        raise RateLimited(
            f"This key is limited to {limit} requests per minute; the limit resets in {retry_after_s} s.",
            retry_after_s=retry_after_s,
        )

    def limit_of(self, caller: Caller) -> int:
        return effective_rpm_limit(caller, self._default_rpm_limit)

    def window_now(self) -> int:
        return window_of(self._clock())[0]

    async def headroom(self, caller: Caller) -> Headroom:
        """The key's cap and its current window's count, without counting a request."""
        limit = effective_rpm_limit(caller, self._default_rpm_limit)
        window_start, resets_in_s = window_of(self._clock())
        used = 0
        if limit != UNLIMITED:
            used = await asyncio.to_thread(self._store.rate_limits.count, caller.key.key_id, window_start)
        return Headroom(limit=limit, used=used, resets_in_s=resets_in_s)

    async def take_diagnostics_stream(self, caller: Caller, per_minute: int) -> None:
        """Diagnostics streams have a cap of their own per key (not the key's RPM: they are free)."""
        window_start, retry_after_s = window_of(self._clock())
        allowed = await asyncio.to_thread(
            self._store.rate_limits.take,
            f"diagnostics.{caller.key.key_id}",
            window_start,
            per_minute,
            window_start + 2 * WINDOW_S,
        )
        if not allowed:
            raise RateLimited(
                f"This key may open {per_minute} diagnostics streams per minute; retry in {retry_after_s} s.",
                retry_after_s=retry_after_s,
            )
