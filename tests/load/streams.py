"""One streamed Messages request, timed from the client's side: first body byte and last byte."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
import orjson

MODEL = "claude-sonnet-4-6"
ANTHROPIC_VERSION = "2023-06-01"
# A small coding-agent-like turn; the emulator's answer length comes from its knobs, not from this.
MESSAGE_BODY = orjson.dumps(
    {
        "model": MODEL,
        "max_tokens": 1024,
        "stream": True,
        "system": "You are a coding assistant.",
        "messages": [{"role": "user", "content": "Rename the variable `amt` to `amount_nano` in billing.py."}],
    }
)


@dataclass(frozen=True)
class Target:
    """Somewhere a Messages request can go: the emulator itself, the gateway, LiteLLM's proxy."""

    name: str
    messages_url: str
    headers: dict[str, str] = field(default_factory=dict)

    def request_headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
            **self.headers,
            **(extra or {}),
        }


@dataclass(frozen=True)
class StreamTiming:
    ttfb_s: float  # request sent -> first response body byte
    # request sent -> the bytes holding the message_stop event (the last content a client needs)
    message_stop_s: float
    ttlb_s: float  # request sent -> the response is complete (its last byte, incl. the chunked terminator)
    body_bytes: int


class StreamFailed(Exception):
    pass


async def timed_stream(
    client: httpx.AsyncClient,
    target: Target,
    extra_headers: dict[str, str] | None = None,
    body: bytes = MESSAGE_BODY,
    query: str = "",
) -> StreamTiming:
    """POST a streamed message; raises StreamFailed unless it is a 200 whose stream ends in message_stop."""
    headers = target.request_headers(extra_headers)
    url = target.messages_url + query
    started = time.perf_counter()
    first_byte_at: float | None = None
    message_stop_at: float | None = None
    tail = b""
    size = 0
    async with client.stream("POST", url, content=body, headers=headers) as response:
        async for chunk in response.aiter_raw():
            if first_byte_at is None and chunk:
                first_byte_at = time.perf_counter()
            size += len(chunk)
            tail = (tail + chunk)[-512:]
            if message_stop_at is None and b"message_stop" in tail:
                message_stop_at = time.perf_counter()
        finished_at = time.perf_counter()
        if response.status_code != 200:
            raise StreamFailed(f"{target.name}: HTTP {response.status_code}: {tail[:200]!r}")
    if first_byte_at is None or message_stop_at is None:
        raise StreamFailed(f"{target.name}: stream ended without message_stop: {tail[-200:]!r}")
    if b"event: error" in tail:
        raise StreamFailed(f"{target.name}: error event: {tail[-200:]!r}")
    return StreamTiming(first_byte_at - started, message_stop_at - started, finished_at - started, size)
