"""Collects what metering needs from an upstream response, streamed or not. No I/O.

Fed every chunk the client is sent (never the gateway's own pings or error events), it parses the
events that carry usage (message_start, message_delta, error) and measures the content deltas: a
stream cut before its message_delta never reports its output tokens, so they are estimated from
the content relayed. It keeps no text, only counts.
"""

from __future__ import annotations

from typing import Any

import orjson

from codegateway.sse import SseEvent, SseParser
from codegateway.usage import Usage

# A non-streamed body is kept (for its usage object) up to this size; Messages bodies are far smaller.
MAX_JSON_BODY_BYTES = 32 * 1024 * 1024
# Output tokens of a cut-short stream: one per 3 characters of content relayed. Tokens run ~3.5-4
# characters in English prose and fewer in code; 3 errs towards the upstream's own bill.
CHARS_PER_OUTPUT_TOKEN = 3
_DELTA_TEXT_FIELDS = ("text", "partial_json", "thinking")


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class UsageCapture:
    def __init__(self, streaming: bool) -> None:
        self.streaming = streaming
        self.usage = Usage()
        self.upstream_error_type: str | None = None
        self.stop_reason: str | None = None
        self.message_stopped = False
        self._parser = SseParser() if streaming else None
        self._body = bytearray()
        self._input_known = False
        self._final_usage_seen = False
        self._content_chars = 0

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
            elif event.name in ("message_start", "message_delta", "content_block_delta", "error"):
                self._event(event.name, event.data)

    def _event(self, name: str, data: bytes) -> None:
        try:
            payload = _as_dict(orjson.loads(data))
        except orjson.JSONDecodeError:
            return
        if name == "content_block_delta":
            delta = _as_dict(payload.get("delta"))
            self._content_chars += sum(len(delta.get(field) or "") for field in _DELTA_TEXT_FIELDS)
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

    def finish(self) -> None:
        """Call once the body is complete (or cut): a plain body is parsed here, and a stream that
        never reached its message_delta gets its output estimated from the content relayed."""
        if self._parser is not None:
            self._dispatch(self._parser.close())
            if not self._final_usage_seen:
                estimate = -(-self._content_chars // CHARS_PER_OUTPUT_TOKEN)
                self.usage.output_tokens = max(self.usage.output_tokens, estimate)
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
