"""What the hold estimate needs to know about a prompt, read from the parsed body. No I/O.

Sizes and cache breakpoints only: no text is kept, and the fingerprint is a hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

# An image costs about (width x height) / 750 tokens, at most ~1,600 on most models; its base64
# bytes (often 100 KB+) say nothing about that, so they are not counted as text.
TOKENS_PER_IMAGE = 1_600
BYTES_PER_TOKEN = 4
# The fingerprint of a prompt that could not be hashed: it matches no other turn.
UNKNOWN_CONVERSATION = ""


class Conversation:
    """Which conversation a prompt continues, hashed on first use rather than while the body is parsed:
    on a long prompt the hashing is most of the parse's cost, and a speculative send need not wait for
    it (proxy/admitting.py). The prompt is let go once hashed."""

    __slots__ = ("_digests", "_fingerprint", "_prompt")

    def __init__(self, model: object, tools: object, system: object, messages: list[Any]) -> None:
        self._prompt: tuple[object, object, object, list[Any]] | None = (model, tools, system, messages)
        self._fingerprint = ""
        self._digests: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Identifies the start of the prompt (tools, system, first message): a later turn of the same
        conversation has the same one, so it can read what this turn wrote to the cache."""
        self._hash()
        return self._fingerprint

    @property
    def digests(self) -> tuple[str, ...]:
        """After each message, a digest of the messages so far (cache_control markers left out, as the
        API's cache ignores where they sit): a later turn reads this turn's cache only if it repeats
        these messages exactly, which is what prompt_history checks."""
        self._hash()
        return self._digests

    def _hash(self) -> None:
        if self._prompt is None:
            return
        model, tools, system, messages = self._prompt
        self._prompt = None
        first = messages[0] if messages else None
        try:
            start = orjson.dumps([model, tools, system, first], default=str)
            self._fingerprint = hashlib.sha256(start).hexdigest()[:32]
            self._digests = _message_digests(messages)
        except (TypeError, RecursionError):
            # Nested deeper than orjson writes (255 levels; it reads 1,024): an unknown conversation,
            # so no cache-read credit (a larger hold), never a failure after the request was sent.
            self._fingerprint, self._digests = UNKNOWN_CONVERSATION, ()


@dataclass(frozen=True, slots=True)
class PromptShape:
    prompt_tokens: int
    cache_breakpoints: int
    # The longest cache TTL any breakpoint asks for: "1h" or "5m" (None: no breakpoint).
    cache_ttl: str | None
    message_count: int
    conversation: Conversation

    @property
    def prefix_fingerprint(self) -> str:
        return self.conversation.fingerprint

    @property
    def message_digests(self) -> tuple[str, ...]:
        return self.conversation.digests


def prompt_shape(payload: dict[str, Any], body_bytes: int) -> PromptShape:
    walk = _Walk()
    walk.blocks(payload.get("tools"))
    walk.blocks(payload.get("system"))
    messages = payload.get("messages") or []
    for message in messages:
        if isinstance(message, dict):
            walk.blocks(message.get("content"))
    text_bytes = max(0, body_bytes - walk.base64_image_bytes)
    return PromptShape(
        prompt_tokens=-(-text_bytes // BYTES_PER_TOKEN) + walk.images * TOKENS_PER_IMAGE,
        cache_breakpoints=walk.breakpoints,
        cache_ttl=walk.ttl,
        message_count=len(messages),
        conversation=Conversation(payload.get("model"), payload.get("tools"), payload.get("system"), messages),
    )


def _message_digests(messages: list[Any]) -> tuple[str, ...]:
    digests: list[str] = []
    running = hashlib.sha256()
    for message in messages:
        running.update(orjson.dumps(without_cache_control(message), default=str))
        digests.append(running.copy().hexdigest()[:32])
    return tuple(digests)


def without_cache_control(value: Any) -> Any:
    """A block (or message) as the API's prompt cache sees it: where its markers sit does not count."""
    if isinstance(value, dict):
        return {key: without_cache_control(item) for key, item in value.items() if key != "cache_control"}
    if isinstance(value, list):
        return [without_cache_control(item) for item in value]
    return value


class _Walk:
    def __init__(self) -> None:
        self.breakpoints = 0
        self.ttl: str | None = None
        self.images = 0
        self.base64_image_bytes = 0

    def blocks(self, value: object) -> None:
        if not isinstance(value, list):
            return
        for block in value:
            if isinstance(block, dict):
                self.block(block)

    def block(self, block: dict[str, Any]) -> None:
        control = block.get("cache_control")
        if isinstance(control, dict):
            self.breakpoints += 1
            self.ttl = "1h" if control.get("ttl") == "1h" or self.ttl == "1h" else "5m"
        if block.get("type") == "image":
            source = block.get("source")
            if isinstance(source, dict) and isinstance(source.get("data"), str):
                self.base64_image_bytes += len(source["data"])
            self.images += 1
        elif block.get("type") == "tool_result":
            self.blocks(block.get("content"))
