"""The hot path: relay upstream bytes to the client as they arrive.

One loop: take the next chunk, pass it on, feed the usage capture, and - while the upstream is
silent for the keepalive interval - write a ping at an event boundary. Everything else (settlement,
logs, metrics) hangs off the outcome. Speaks raw ASGI, so it needs no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from codegateway.domain.outcomes import Ended
from codegateway.errors import sse_error_event
from codegateway.proxy.metering import UsageCapture
from codegateway.proxy.upstream import UpstreamResponse

PING_EVENT = b'event: ping\ndata: {"type": "ping"}\n\n'

# ASGI channels (the same shapes as starlette.types, without importing a framework).
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]


@dataclass(slots=True)
class RelayOutcome:
    ended: Ended = Ended.COMPLETED
    status: int = 200
    bytes_relayed: int = 0
    keepalives_sent: int = 0
    first_chunk_s: float | None = None
    error_detail: str | None = None


class ClientEncoder(Protocol):
    """Turns the upstream's bytes into another wire format for the client (the OpenAI surface).
    The usage capture still reads the upstream's own bytes."""

    content_type: bytes

    def encode(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class Budget(Protocol):
    """Grows the request's hold as its cost grows (hold_growth.py); False: stop, the balance is out."""

    async def allows(self, capture: UsageCapture) -> bool: ...

    def refusal_message(self) -> str: ...


class _End:
    pass


class _ClientGone:
    pass


# Bytes read ahead of a slow client, at most: beyond this the pump waits (backpressure), so a
# stalled client cannot make the gateway buffer the whole stream.
QUEUED_BYTES_MAX = 1024 * 1024
# After the client leaves, how long to read on (sending nothing) for the usage the upstream already
# owes: a stream's message_start (its input tokens), or the rest of a plain body.
OWED_USAGE_GRACE_S = 5.0


class _Channel:
    """From the pump (and the disconnect watcher) to the relay loop, in order: a deque and one
    future, and a timer only when the loop has to wait (no task or wait_for per chunk)."""

    def __init__(self) -> None:
        self._items: deque[object] = deque()
        self._queued_bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None

    def put(self, item: object) -> bool:
        """Queue an item; True when the relay loop was waiting for one (and is now woken)."""
        if isinstance(item, bytes):
            self._queued_bytes += len(item)
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
            return True
        return False

    async def room(self) -> None:
        """Wait while more than QUEUED_BYTES_MAX are queued."""
        while self._queued_bytes > QUEUED_BYTES_MAX:
            self._room = asyncio.get_running_loop().create_future()
            await self._room

    async def next(self, wait_s: float | None) -> object | None:
        """The next item, or None when nothing came for wait_s."""
        if not self._items:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(wait_s, _wake, waiter) if wait_s is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if not self._items:
                return None
        item = self._items.popleft()
        if isinstance(item, bytes):
            self._queued_bytes -= len(item)
            if self._room is not None and not self._room.done() and self._queued_bytes <= QUEUED_BYTES_MAX:
                self._room.set_result(None)
        return item


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _pump(upstream: UpstreamResponse, channel: _Channel) -> None:
    try:
        async for chunk in upstream.chunks():
            if chunk:
                await channel.room()
                if channel.put(chunk):
                    # The relay loop is idle: let it write this chunk now. Reads of bytes already
                    # buffered never yield, so a burst would otherwise be read whole first.
                    await asyncio.sleep(0)
        channel.put(_End())
    except Exception as error:
        channel.put(error)


async def _watch_disconnect(receive: Receive, channel: _Channel) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            channel.put(_ClientGone())
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
    encoder: ClientEncoder | None = None,
    budget: Budget | None = None,
) -> RelayOutcome:
    client = _Client(send, capture, encoder)
    outcome = RelayOutcome(status=upstream.status)
    channel = _Channel()
    # The watcher first: a client already gone is seen before any chunk (the pump may queue a whole
    # buffered answer without ever yielding to the loop).
    watcher = asyncio.create_task(_watch_disconnect(receive, channel))
    pump = asyncio.create_task(_pump(upstream, channel))
    refused = False
    try:
        # The whole response, slow clients included, ends at the deadline.
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            await client.start(upstream.status, response_headers)
            while True:
                item = await channel.next(keepalive_interval_s)
                if item is None:
                    outcome.keepalives_sent += await client.ping()
                elif isinstance(item, bytes):
                    if outcome.first_chunk_s is None:
                        outcome.first_chunk_s = time.monotonic() - started
                    # With a budget, a large chunk (a burst read after a stall) is relayed a few events
                    # at a time, the budget asked after each: one chunk may carry more output than the
                    # hold's margin, and what follows a refusal must not reach the client.
                    for piece in _pieces(item) if budget is not None else (item,):
                        await client.write(piece)
                        capture.feed(piece)
                        outcome.bytes_relayed += len(piece)
                        if budget is not None and not refused and not await budget.allows(capture):
                            refused = True
                        if refused and capture.at_event_boundary:
                            break
                else:
                    await _stop(item, upstream, capture, client, outcome)
                    break
                if item is None and budget is not None and not refused and not await budget.allows(capture):
                    refused = True
                # Relay the rest of an event the refusal fell inside (a few bytes, still within the
                # hold's margin): an event cut in half is unparseable JSON to an SDK, which would then
                # report that instead of the billing_error.
                if refused and capture.at_event_boundary:
                    outcome.ended = Ended.BALANCE_EXHAUSTED
                    await client.error("billing_error", budget.refusal_message() if budget else "")
                    break
        if outcome.ended == Ended.CLIENT_DISCONNECTED:
            await _read_owed_usage(channel, capture)
    except TimeoutError:
        outcome.ended = Ended.TIMEOUT
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await client.error("timeout_error", "The response took longer than the gateway's limit.")
    finally:
        pump.cancel()
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await upstream.aclose()
        capture.finish()
        # Settle before the response ends: under Lambda the sandbox may freeze right after.
        await asyncio.shield(settle(outcome))
    if outcome.ended != Ended.CLIENT_DISCONNECTED:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await client.finish()
    return outcome


# Under a budget, the most of a chunk relayed between two looks at the running cost: about 700
# output tokens at 3 characters a token, below the hold's margin (estimate.extension_margin_nano).
PIECE_BYTES = 2_048


def _pieces(chunk: bytes, size: int = PIECE_BYTES) -> Iterator[bytes]:
    """The chunk in pieces of at most about `size` bytes, each ending at an SSE event boundary (an
    event longer than `size` stays whole; the last piece may end mid-event)."""
    start = 0
    while len(chunk) - start > size:
        cut = chunk.rfind(b"\n\n", start, start + size)
        if cut < 0:
            cut = chunk.find(b"\n\n", start + size)
            if cut < 0:
                break
        yield chunk[start : cut + 2]
        start = cut + 2
    if start < len(chunk):
        yield chunk[start:]


async def _read_owed_usage(channel: _Channel, capture: UsageCapture) -> None:
    """The client left. The upstream has already done (and will bill) some work: read on, sending
    nothing, until its usage for that work is known, so the request is charged what it cost."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(OWED_USAGE_GRACE_S):
            while not capture.input_known:
                item = await channel.next(None)
                if not isinstance(item, bytes):
                    return
                capture.feed(item)


async def _stop(
    item: object, upstream: UpstreamResponse, capture: UsageCapture, client: _Client, outcome: RelayOutcome
) -> None:
    if isinstance(item, _ClientGone):
        outcome.ended = Ended.CLIENT_DISCONNECTED
    elif isinstance(item, _End):
        if capture.streaming and upstream.status == 200 and not capture.message_stopped:
            # The upstream closed cleanly but early: say so rather than end silently.
            outcome.ended = Ended.UPSTREAM_RESET
            outcome.error_detail = "stream ended before message_stop"
            if capture.upstream_error_type is None:
                await client.error("api_error", "The Anthropic API ended the stream early.")
    else:
        outcome.ended = Ended.UPSTREAM_RESET
        outcome.error_detail = type(item).__name__
        await client.error("api_error", "The connection to the Anthropic API broke mid-response.")


class _Client:
    """The client side of the relay: every byte it is sent passes through here."""

    def __init__(self, send: Send, capture: UsageCapture, encoder: ClientEncoder | None) -> None:
        self._send = send
        self._capture = capture
        self._encoder = encoder

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        if self._encoder is not None:
            headers = [(name, value) for name, value in headers if name != b"content-type"]
            headers.append((b"content-type", self._encoder.content_type))
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def write(self, data: bytes) -> None:
        if self._encoder is not None:
            data = self._encoder.encode(data)
            if not data:
                return
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def ping(self) -> int:
        """A ping, if the stream is between events (never inside one); returns how many were sent."""
        if not (self._capture.streaming and self._capture.at_event_boundary):
            return 0
        await self.write(PING_EVENT)
        return 1

    async def error(self, error_type: str, message: str) -> None:
        if not self._capture.streaming:
            return  # A JSON body cannot carry an error once started; the client sees it cut short.
        prefix = b"" if self._capture.at_event_boundary else b"\n\n"
        await self.write(prefix + sse_error_event(error_type, message))

    async def finish(self) -> None:
        if self._encoder is not None:
            tail = self._encoder.finish()
            if tail:
                await self._send({"type": "http.response.body", "body": tail, "more_body": True})
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})
