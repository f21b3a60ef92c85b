"""Collects what metering needs from an upstream response, streamed or not. No I/O.

Fed every chunk the client is sent (never the gateway's own pings or error events), it parses the
events that carry usage (message_start, message_delta, error) and measures the content deltas: a
stream cut before its message_delta never reports its output tokens, so they are estimated from
the content relayed. It keeps no text, only counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson

from codegateway.domain.sse import SseEvent, SseParser
from codegateway.domain.usage import Usage

# A non-streamed body is kept (for its usage object) up to this size; Messages bodies are far smaller.
MAX_JSON_BODY_BYTES = 32 * 1024 * 1024
# Output tokens of a cut-short stream: one per 3 bytes (UTF-8) of content relayed. Tokens run ~3.5-4
# characters in English prose and fewer in code; 3 errs towards the upstream's own bill. Bytes, not
# characters: Chinese or Japanese text runs about a token a character (3 bytes), so counting
# characters would estimate a third of the output (the hold growing at a third of the cost).
CHARS_PER_OUTPUT_TOKEN = 3
_DELTA_TEXT_FIELDS = ("text", "partial_json", "thinking")
# Current Opus and Fable models stream thinking with no visible text by default: tokens are spent
# while the thinking block shows nothing. While such a block is open, output is assumed to grow at
# this rate (above what these models sustain), so a hold keeps pace with output nobody can see.
INVISIBLE_OUTPUT_TOKENS_PER_S = 150
_THINKING_BLOCKS = ("thinking", "redacted_thinking")


def _utf8_len(text: object) -> int:
    if not isinstance(text, str):
        return 0
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class UsageCapture:
    def __init__(self, streaming: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.streaming = streaming
        self._clock = clock
        self.usage = Usage()
        self.upstream_error_type: str | None = None
        self.stop_reason: str | None = None
        self.message_stopped = False
        self._parser = SseParser() if streaming else None
        self._body = bytearray()
        self._input_known = False
        self._final_usage_seen = False
        self._content_chars = 0
        self._deltas = 0
        self._invisible_s = 0.0
        self._thinking_since: float | None = None

    @property
    def at_event_boundary(self) -> bool:
        return self._parser.at_event_boundary if self._parser else True

    @property
    def input_known(self) -> bool:
        """A stream's message_start has been read (a plain body's usage is known only once whole)."""
        return self._input_known

    def feed(self, chunk: bytes) -> None:
        if self._parser is None:
            if len(self._body) + len(chunk) <= MAX_JSON_BODY_BYTES:
                self._body += chunk
            return
        self._dispatch(self._parser.feed(chunk))

    def _dispatch(self, events: list[SseEvent]) -> None:
        for event in events:
            if event.name == "message_stop":
                self.message_stopped = True
            elif event.name == "content_block_start":
                self.usage.output_started = True
                self._block_started(event.data)
            elif event.name == "content_block_stop":
                self._block_stopped()
            elif event.name in ("message_start", "message_delta", "content_block_delta", "error"):
                self._event(event.name, event.data)

    def _event(self, name: str, data: bytes) -> None:
        try:
            payload = _as_dict(orjson.loads(data))
        except orjson.JSONDecodeError:
            return
        if name == "content_block_delta":
            delta = _as_dict(payload.get("delta"))
            chars = sum(_utf8_len(delta.get(field)) for field in _DELTA_TEXT_FIELDS)
            self._content_chars += chars
            self._deltas += 1
        elif name == "message_start":
            self.usage.merge(_as_dict(_as_dict(payload.get("message")).get("usage")))
            self._input_known = True
        elif name == "message_delta":
            self.usage.merge(_as_dict(payload.get("usage")))
            self._final_usage_seen = True
            self.stop_reason = _as_dict(payload.get("delta")).get("stop_reason") or self.stop_reason
            self.usage.stop_reason = self.stop_reason
        elif name == "error":
            self.upstream_error_type = _as_dict(payload.get("error")).get("type", "api_error")

    def _block_started(self, data: bytes) -> None:
        try:
            block = _as_dict(_as_dict(orjson.loads(data)).get("content_block"))
        except orjson.JSONDecodeError:
            return
        if block.get("type") in _THINKING_BLOCKS and self._thinking_since is None:
            self._thinking_since = self._clock()

    def _block_stopped(self) -> None:
        if self._thinking_since is not None:
            self._invisible_s += self._clock() - self._thinking_since
            self._thinking_since = None

    @property
    def output_tokens_so_far(self) -> int:
        """Output the upstream has produced (and will bill) so far: its own count once message_delta
        came, else an estimate from what streamed - characters, deltas (each is at least a token)
        and time spent in thinking blocks that show no text."""
        if self._final_usage_seen:
            return self.usage.output_tokens
        invisible_s = self._invisible_s
        if self._thinking_since is not None:
            invisible_s += self._clock() - self._thinking_since
        visible = max(-(-self._content_chars // CHARS_PER_OUTPUT_TOKEN), self._deltas)
        return max(self.usage.output_tokens, visible + int(invisible_s * INVISIBLE_OUTPUT_TOKENS_PER_S))

    def usage_so_far(self) -> Usage:
        """A copy of the usage seen, with output as output_tokens_so_far."""
        snapshot = replace(self.usage, seen=set(self.usage.seen))
        snapshot.output_tokens = self.output_tokens_so_far
        return snapshot

    def finish(self) -> None:
        """Call once the body is complete (or cut): a plain body is parsed here, and a stream that
        never reached its message_delta gets its output estimated from the content relayed."""
        if self._parser is not None:
            self._dispatch(self._parser.close())
            if not self._final_usage_seen:
                self._block_stopped()
                self.usage.output_tokens = self.output_tokens_so_far
            return
        if not self._body:
            return
        try:
            payload = orjson.loads(bytes(self._body))
        except orjson.JSONDecodeError:
            return
        finally:
            self._body = bytearray()
        if isinstance(payload, dict):
            if payload.get("type") == "error":
                self.upstream_error_type = _as_dict(payload.get("error")).get("type")
            self.usage.merge(_as_dict(payload.get("usage")))
            self.stop_reason = payload.get("stop_reason")
            self.usage.stop_reason = self.stop_reason
            self.usage.output_started = bool(payload.get("content"))
            self.message_stopped = payload.get("type") == "message"
