"""Key and account records, reused briefly so most requests skip DynamoDB reads.

A record younger than `refresh_after_s` is served as is. An older one, up to `max_age_s`, is still
served while one background read refreshes it, so active keys never wait for a read. Past
`max_age_s` the request waits for the read. Reads of one record never run twice at once. Nothing is
served older than max_age_s: a revoked key dies within that (docs/architecture.md: at most 1 s).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry[V]:
    value: V
    read_at: float


class RecordCache[V]:
    def __init__(
        self,
        read: Callable[[str], Awaitable[V | None]],
        *,
        refresh_after_s: float,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._read = read
        self._refresh_after_s = refresh_after_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()
        self._reads: dict[str, asyncio.Task[V | None]] = {}

    async def get(self, record_id: str) -> V | None:
        entry = self._entries.get(record_id)
        if entry is not None:
            age = self._clock() - entry.read_at
            if age < self._refresh_after_s:
                return entry.value
            if age < self._max_age_s:
                self._start_read(record_id)
                return entry.value
        return await asyncio.shield(self._start_read(record_id))

    def last_known(self, record_id: str) -> V | None:
        """The record as last read, however old: never to be served, only for what of it cannot change
        (a key's account)."""
        entry = self._entries.get(record_id)
        return None if entry is None else entry.value

    def read_ahead(self, record_id: str) -> None:
        """Start now the read a `get` soon after would start or wait for (nothing while it is fresh)."""
        entry = self._entries.get(record_id)
        if entry is None or self._clock() - entry.read_at >= self._refresh_after_s:
            self._start_read(record_id)

    def _start_read(self, record_id: str) -> asyncio.Task[V | None]:
        task = self._reads.get(record_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._read_and_keep(record_id))
            # A background read's failure is the next request's to see; don't log it as unretrieved.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._reads[record_id] = task
        return task

    async def _read_and_keep(self, record_id: str) -> V | None:
        read_at = self._clock()
        try:
            value = await self._read(record_id)
        finally:
            del self._reads[record_id]
        if value is None or self._max_age_s <= 0:
            self._entries.pop(record_id, None)
        else:
            self._entries[record_id] = _Entry(value, read_at)
            self._entries.move_to_end(record_id)
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value
