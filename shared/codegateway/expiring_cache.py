"""A small map whose entries expire after a fixed age (records re-read at most every max_age_s)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class ExpiringCache[K, V]:
    def __init__(self, max_age_s: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._max_age_s = max_age_s
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at >= self._max_age_s:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self._max_age_s <= 0:
            return
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
