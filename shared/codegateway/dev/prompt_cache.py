"""The emulator's prompt cache: what the Messages API's prompt caching would report. No I/O; the
clock is injected, so tests move time instead of sleeping.

How the real API behaves (docs.anthropic.com, "Prompt caching"), and what is modelled here:
- The prompt is read as blocks in the order tools -> system -> messages. A block carrying
  `cache_control: {"type": "ephemeral", "ttl": "5m" | "1h"}` (5m when no ttl) is a breakpoint:
  the prefix up to and including it may be written to the cache, and read by a later request
  whose prompt starts with exactly the same blocks (same model, same key/organisation).
- At each breakpoint the API also looks back up to 20 blocks for a prefix written earlier, so a
  conversation whose breakpoint moves to the newest message still reads the previous turn's.
- A read refreshes the entry's lifetime at no cost. At most 4 breakpoints per request. A prefix
  shorter than the model's minimum (1,024 tokens here for every model) is never cached.
- Usage: `cache_read_input_tokens` = the prefix read; `cache_creation_input_tokens` = the tokens
  written after it, up to the last breakpoint written (split by TTL in `cache_creation`);
  `input_tokens` = only what comes after the last point read or written.

Tokens are a deterministic stand-in for the tokenizer: each block is ceil(utf-8 bytes of its
canonical JSON / 4), canonical = sorted keys, compact, `cache_control` removed. A request's
total is the sum of its blocks, so read + written + input always equals it.
Not modelled: tool_choice / thinking changes invalidating the message part, 1h-before-5m ordering.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from codegateway.domain.prompt_shape import without_cache_control

TTL_S = {"5m": 300, "1h": 3600}
MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
MIN_CACHEABLE_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class PromptBlock:
    prefix_digest: bytes  # identifies every block up to and including this one
    prefix_tokens: int  # tokens of every block up to and including this one
    ttl: str | None  # the breakpoint's TTL ("5m", "1h"), None when the block is no breakpoint


@dataclass(frozen=True, slots=True)
class CacheUsage:
    input_tokens: int
    cache_read_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.ephemeral_5m_input_tokens + self.ephemeral_1h_input_tokens


def block_tokens(block: Any) -> int:
    return max(1, math.ceil(len(canonical_json(block)) / 4))


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(without_cache_control(value), option=orjson.OPT_SORT_KEYS)


def _breakpoint_ttl(block: Any) -> str | None:
    control = block.get("cache_control") if isinstance(block, dict) else None
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        return None
    ttl = control.get("ttl", "5m")
    return ttl if ttl in TTL_S else None


def _as_blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


def _sections(payload: dict[str, Any]) -> list[tuple[bytes, Any]]:
    """Every block of the prompt in cache order, each with a marker of where it sits."""
    sections: list[tuple[bytes, Any]] = [(b"tool", tool) for tool in payload.get("tools") or []]
    sections += [(b"system", block) for block in _as_blocks(payload.get("system"))]
    for index, message in enumerate(payload.get("messages") or []):
        if isinstance(message, dict):
            marker = f"message:{index}:{message.get('role')}".encode()
            sections += [(marker, block) for block in _as_blocks(message.get("content"))]
    return sections


def prompt_blocks(payload: dict[str, Any], scope: str) -> list[PromptBlock]:
    """The prompt's blocks with their running digest (seeded by `scope`: model and key) and tokens."""
    digest = hashlib.sha256(scope.encode()).digest()
    tokens = 0
    blocks: list[PromptBlock] = []
    for marker, block in _sections(payload):
        digest = hashlib.sha256(digest + marker + b"\x00" + canonical_json(block)).digest()
        tokens += block_tokens(block)
        blocks.append(PromptBlock(digest, tokens, _breakpoint_ttl(block)))
    return blocks


def count_input_tokens(payload: dict[str, Any]) -> int:
    """What count_tokens answers: the whole prompt in the stand-in's tokens (at least 1)."""
    blocks = prompt_blocks(payload, "")
    return max(1, blocks[-1].prefix_tokens if blocks else 0)


def too_many_breakpoints(payload: dict[str, Any]) -> str | None:
    """The API's 400 message when a request marks more than 4 blocks, else None."""
    marked = sum(1 for _, block in _sections(payload) if _breakpoint_ttl(block) is not None)
    if marked > MAX_BREAKPOINTS:
        return f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {marked}."
    return None


class PromptCache:
    """Written prefixes and when they expire, per scope (model + key). Bounded: the oldest go first."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        min_tokens: int = MIN_CACHEABLE_TOKENS,
        max_entries: int = 100_000,
    ) -> None:
        self._clock = clock
        self._min_tokens = min_tokens
        self._max_entries = max_entries
        self._expires: OrderedDict[bytes, tuple[float, int]] = OrderedDict()  # digest -> (expiry, ttl_s)

    def use(self, payload: dict[str, Any], scope: str) -> CacheUsage:
        """Read the longest live prefix the breakpoints reach, write the rest, and say the split."""
        now = self._clock()
        blocks = prompt_blocks(payload, scope)
        total = max(1, blocks[-1].prefix_tokens if blocks else 0)
        breakpoints = [position for position, block in enumerate(blocks) if block.ttl is not None]
        hit = self._longest_live_prefix(blocks, breakpoints, now)
        read_tokens = blocks[hit].prefix_tokens if hit >= 0 else 0
        if hit >= 0:
            self._keep(blocks[hit].prefix_digest, now, self._expires[blocks[hit].prefix_digest][1])
        written = {"5m": 0, "1h": 0}
        last_point_tokens = read_tokens
        for position in breakpoints:
            block = blocks[position]
            if position <= hit or block.prefix_tokens < self._min_tokens or block.ttl is None:
                continue
            written[block.ttl] += block.prefix_tokens - last_point_tokens
            last_point_tokens = block.prefix_tokens
            self._keep(block.prefix_digest, now, TTL_S[block.ttl])
        return CacheUsage(
            input_tokens=total - last_point_tokens,
            cache_read_input_tokens=read_tokens,
            ephemeral_5m_input_tokens=written["5m"],
            ephemeral_1h_input_tokens=written["1h"],
        )

    def _longest_live_prefix(self, blocks: list[PromptBlock], breakpoints: list[int], now: float) -> int:
        """The furthest block position, within the lookback of some breakpoint, with a live entry."""
        hit = -1
        for position in breakpoints:
            for earlier in range(position, max(-1, position - LOOKBACK_BLOCKS), -1):
                if earlier <= hit:
                    break
                entry = self._expires.get(blocks[earlier].prefix_digest)
                if entry is not None and entry[0] > now:
                    hit = earlier
                    break
        return hit

    def _keep(self, digest: bytes, now: float, ttl_s: int) -> None:
        self._expires[digest] = (now + ttl_s, ttl_s)
        self._expires.move_to_end(digest)
        while len(self._expires) > self._max_entries:
            self._expires.popitem(last=False)
