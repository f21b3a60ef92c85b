"""What each conversation has in the upstream's prompt cache, as far as this process saw it settle.

Claude Code's turns re-send the whole conversation and mostly read it from the cache (a tenth of
the input price). A hold that priced every prompt token as fresh input would strand most of a small
account's credit, so admission asks here how much of this prompt the conversation's last settled
turn left cached. A conversation is the key plus the prompt's start (tools, system, first message);
a later turn has at least as many messages. Entries live as long as the cache TTL the turn asked
for. A miss (another instance served the last turn, or it is the first) only makes the hold larger.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from codegateway.domain.prompt_shape import UNKNOWN_CONVERSATION, PromptShape

_TTL_S = {"5m": 300, "1h": 3600}
MAX_CONVERSATIONS = 20_000


@dataclass(frozen=True, slots=True)
class _Cached:
    message_count: int
    cached_tokens: int
    expires_at: float
    # The digest of the turn's messages: a later turn that changed any of them misses the cache.
    messages_digest: str


class PromptHistory:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_CONVERSATIONS) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], _Cached] = OrderedDict()

    def cached_tokens(self, key_id: str, shape: PromptShape) -> int:
        if shape.prefix_fingerprint == UNKNOWN_CONVERSATION:
            return 0
        entry = self._entries.get((key_id, shape.prefix_fingerprint))
        if entry is None or entry.expires_at <= self._clock() or shape.message_count < entry.message_count:
            return 0
        if _digest_after(shape, entry.message_count) != entry.messages_digest:
            return 0  # the same conversation start, but an earlier message changed: nothing to read
        return entry.cached_tokens

    def remember(self, key_id: str, shape: PromptShape, cache_read_tokens: int, cache_write_tokens: int) -> None:
        """After a settled turn: what it read from and wrote to the cache is there for the next one."""
        if shape.cache_ttl is None or shape.prefix_fingerprint == UNKNOWN_CONVERSATION:
            return
        cached = cache_read_tokens + cache_write_tokens
        slot = (key_id, shape.prefix_fingerprint)
        self._entries.pop(slot, None)
        if cached <= 0:
            return
        self._entries[slot] = _Cached(
            shape.message_count,
            cached,
            self._clock() + _TTL_S[shape.cache_ttl],
            _digest_after(shape, shape.message_count),
        )
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def _digest_after(shape: PromptShape, message_count: int) -> str:
    return shape.message_digests[message_count - 1] if 0 < message_count <= len(shape.message_digests) else ""
