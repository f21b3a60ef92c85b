"""Collects what metering needs from an upstream response, streamed or not. No I/O.

Fed every chunk the client is sent (never the gateway's own pings or error events), it parses only
the events that carry usage: message_start, message_delta and error. It keeps no text content.
"""

from __future__ import annotations

import orjson

from codegateway.sse import SseEvent, SseParser
from codegateway.usage import Usage

# A non-streamed body is kept (for its usage object) up to this size; Messages bodies are far smaller.
MAX_JSON_BODY_BYTES = 32 * 1024 * 1024
_USAGE_EVENTS = frozenset({"message_start", "message_delta", "error"})


class UsageCapture:
    def __init__(self, streaming: bool) -> None:
        self.streaming = streaming
        self.usage = Usage()
        self.upstream_error_type: str | None = None
        self.stop_reason: str | None = None
        self.message_stopped = False
        self._parser = SseParser() if streaming else None
        self._body = bytearray()

    @property
    def at_event_boundary(self) -> bool:
        return self._parser.at_event_boundary if self._parser else True

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
            elif event.name in _USAGE_EVENTS:
                self._event(event.name, event.data)

    def _event(self, name: str, data: bytes) -> None:
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(payload, dict):
            return
        if name == "message_start":
            message = payload.get("message") or {}
            self.usage.merge(message.get("usage"))
        elif name == "message_delta":
            self.usage.merge(payload.get("usage"))
            delta = payload.get("delta") or {}
            self.stop_reason = delta.get("stop_reason") or self.stop_reason
        elif name == "error":
            self.upstream_error_type = (payload.get("error") or {}).get("type", "api_error")

    def finish(self) -> None:
        """Call once the body is complete: a non-streamed body is parsed here."""
        if self._parser is not None:
            self._dispatch(self._parser.close())
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
                self.upstream_error_type = (payload.get("error") or {}).get("type")
            self.usage.merge(payload.get("usage"))
            self.stop_reason = payload.get("stop_reason")
            self.message_stopped = payload.get("type") == "message"
