"""The hot path: relay upstream bytes to the client as they arrive.

One loop: take the next chunk, pass it on, feed the usage capture, and - while the upstream is
silent for the keepalive interval - write a ping at an event boundary. Everything else (settlement,
logs, metrics) hangs off the outcome. Speaks raw ASGI, so it needs no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from codegateway.errors import sse_error_event
from codegateway.upstream import UpstreamResponse
from codegateway.usage_capture import UsageCapture

PING_EVENT = b'event: ping\ndata: {"type": "ping"}\n\n'

COMPLETED = "completed"
CLIENT_DISCONNECTED = "client_disconnected"
UPSTREAM_RESET = "upstream_reset"
TIMEOUT = "timeout"

# ASGI channels (the same shapes as starlette.types, without importing a framework).
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]


@dataclass(slots=True)
class RelayOutcome:
    ended: str = COMPLETED
    status: int = 200
    bytes_relayed: int = 0
    keepalives_sent: int = 0
    first_chunk_s: float | None = None
    error_detail: str | None = None


class _End:
    pass


class _ClientGone:
    pass


async def _pump(upstream: UpstreamResponse, queue: asyncio.Queue[object]) -> None:
    try:
        async for chunk in upstream.chunks():
            if chunk:
                queue.put_nowait(chunk)
        queue.put_nowait(_End())
    except Exception as error:
        queue.put_nowait(error)


async def _watch_disconnect(receive: Receive, queue: asyncio.Queue[object]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            queue.put_nowait(_ClientGone())
            return


async def relay(
    send: Send,
    receive: Receive,
    upstream: UpstreamResponse,
    capture: UsageCapture,
    *,
    response_headers: list[tuple[bytes, bytes]],
    started: float,
    deadline: float,
    keepalive_interval_s: float,
    settle: Callable[[RelayOutcome], Awaitable[None]],
) -> RelayOutcome:
    outcome = RelayOutcome(status=upstream.status)
    queue: asyncio.Queue[object] = asyncio.Queue()
    pump = asyncio.create_task(_pump(upstream, queue))
    watcher = asyncio.create_task(_watch_disconnect(receive, queue))
    client_connected = True
    try:
        await send({"type": "http.response.start", "status": upstream.status, "headers": response_headers})
        while True:
            if not queue.empty():
                item = queue.get_nowait()
            else:
                wait_s = min(keepalive_interval_s, deadline - time.monotonic())
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=max(wait_s, 0.0))
                except TimeoutError:
                    if time.monotonic() >= deadline:
                        outcome.ended = TIMEOUT
                        await _send_error(
                            send,
                            capture,
                            "timeout_error",
                            "The response took longer than the gateway's limit.",
                        )
                        break
                    if capture.streaming and capture.at_event_boundary:
                        await send({"type": "http.response.body", "body": PING_EVENT, "more_body": True})
                        outcome.keepalives_sent += 1
                    continue
            if isinstance(item, bytes):
                await send({"type": "http.response.body", "body": item, "more_body": True})
                if outcome.first_chunk_s is None:
                    outcome.first_chunk_s = time.monotonic() - started
                outcome.bytes_relayed += len(item)
                capture.feed(item)
            elif isinstance(item, _End):
                if capture.streaming and upstream.status == 200 and not capture.message_stopped:
                    # The upstream closed cleanly but early: say so rather than end silently.
                    outcome.ended = UPSTREAM_RESET
                    outcome.error_detail = "stream ended before message_stop"
                    if capture.upstream_error_type is None:
                        await _send_error(send, capture, "api_error", "The Anthropic API ended the stream early.")
                break
            elif isinstance(item, _ClientGone):
                outcome.ended = CLIENT_DISCONNECTED
                client_connected = False
                break
            else:
                outcome.ended = UPSTREAM_RESET
                outcome.error_detail = type(item).__name__
                await _send_error(send, capture, "api_error", "The connection to the Anthropic API broke mid-response.")
                break
    finally:
        pump.cancel()
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await upstream.aclose()
        capture.finish()
        # Settle before the response ends: under Lambda the sandbox may freeze right after.
        await asyncio.shield(settle(outcome))
    if client_connected:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return outcome


async def _send_error(send: Send, capture: UsageCapture, error_type: str, message: str) -> None:
    if not capture.streaming:
        return  # A JSON body cannot carry an error once started; the client sees it cut short.
    prefix = b"" if capture.at_event_boundary else b"\n\n"
    await send(
        {
            "type": "http.response.body",
            "body": prefix + sse_error_event(error_type, message),
            "more_body": True,
        }
    )
