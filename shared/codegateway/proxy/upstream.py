"""The upstream HTTP client (the only module importing httpx and httpcore): forwarding, one retry, timeouts.

A request is retried once, after a jittered pause, on a transport failure before any response byte
(connect error, reset, connection closed) or on 502/503/504/529 - and only here, before the client
was sent a byte.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote

import httpcore
import httpx

from codegateway.errors import UpstreamConnectFailed, UpstreamTimeout
from codegateway.proxy.upstream_wire import WireBackend, WireError
from codegateway.settings import Settings

RETRYABLE_STATUSES = frozenset({502, 503, 504, 529})

# Request headers that never travel upstream: hop-by-hop (RFC 9110 7.6.1), the caller's own
# credentials, what httpx recomputes, and what the edge or AWS added on the way in.
_DROPPED_REQUEST_HEADERS = frozenset(
    {
        b"host", b"content-length", b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization",
        b"proxy-authenticate", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"expect",
        b"x-api-key", b"authorization", b"cookie", b"accept-encoding", b"forwarded", b"via",
        b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-port", b"x-forwarded-host",
        b"x-real-ip", b"x-cgw-origin-verify",
    }
)  # fmt: skip
_DROPPED_REQUEST_PREFIXES = (b"x-amzn-", b"x-amz-", b"cloudfront-")
# Response headers the gateway sets itself or that describe the upstream hop only.
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"trailer",
        b"content-length", b"request-id", b"server", b"date", b"set-cookie", b"alt-svc", b"via",
        # The gateway's own Anthropic organization is nobody else's business.
        b"anthropic-organization-id",
    }
)  # fmt: skip


def upstream_request_headers(client_headers: list[tuple[bytes, bytes]], api_key: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (name, value)
        for name, value in client_headers
        if name not in _DROPPED_REQUEST_HEADERS and not name.startswith(_DROPPED_REQUEST_PREFIXES)
    ]
    headers.append((b"x-api-key", api_key.encode()))
    # Identity keeps the bytes the client gets and the bytes metering parses the same.
    headers.append((b"accept-encoding", b"identity"))
    return headers


def client_response_headers(upstream_headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    headers = []
    for name, value in upstream_headers:
        lower = name.lower()
        if lower == b"request-id":
            headers.append((b"upstream-request-id", value))
        elif lower not in _DROPPED_RESPONSE_HEADERS:
            headers.append((lower, value))
    return headers


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    attempts: int
    upstream_request_id: str | None
    content_type: str
    _stream: AsyncIterable[bytes]
    _close: Callable[[], Awaitable[None]]

    def chunks(self) -> AsyncIterator[bytes]:
        # Raw bytes, exactly as they arrive from the socket: no decoding, no re-chunking.
        return aiter(self._stream)

    async def aclose(self) -> None:
        await self._close()


def _header(raw: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in raw:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


@dataclass(slots=True)
class _Answer:
    """The status line and headers, and the body still on the wire."""

    status: int
    raw_headers: list[tuple[bytes, bytes]]
    stream: AsyncIterable[bytes]
    close: Callable[[], Awaitable[None]]


class Upstream:
    """Speaks httpcore (httpx's own transport) directly: no httpx Request/Response models, no URL or
    header re-normalisation per request, and no cookie jar - a cookie one answer set (Cloudflare's,
    say) must never travel with another caller's request. `transport`: an httpx transport to send
    through instead (tests script the upstream with httpx.MockTransport)."""

    def __init__(
        self,
        settings: Settings,
        api_key: Callable[[], str],
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._api_key = api_key
        self._sleep = sleep
        base = httpx.URL(settings.upstream_base)
        self._scheme = base.raw_scheme
        self._host = base.raw_host
        self._port = base.port
        self._host_header = base.raw_host if base.port is None else b"%b:%d" % (base.raw_host, base.port)
        self._base_path = base.raw_path.rstrip(b"/")
        # Reads are bounded by the relay (first byte, total deadline, keepalive), not by the client.
        self._extensions = {
            "timeout": {"connect": settings.connect_timeout_s, "read": None, "write": 60.0, "pool": 10.0}
        }
        self._transport = transport
        self._pool = (
            httpcore.AsyncConnectionPool(
                ssl_context=httpx.create_ssl_context(),
                max_connections=None,
                max_keepalive_connections=200,
                keepalive_expiry=60.0,
                network_backend=(
                    cast(httpcore.AsyncNetworkBackend, WireBackend())
                    if settings.upstream_network_backend == "asyncio"
                    else None
                ),
            )
            if transport is None
            else None
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        elif self._transport is not None:
            await self._transport.aclose()

    async def open(
        self,
        method: str,
        path: str,
        query: bytes,
        client_headers: list[tuple[bytes, bytes]],
        body: bytes,
        deadline: float,
        first_byte_timeout_s: float | None = None,
        on_sending: Callable[[], object] | None = None,
    ) -> UpstreamResponse:
        """Send the request; return once the upstream's status and headers arrived (within
        first_byte_timeout_s, by default the configured first-byte limit). `on_sending` is called once
        the request is written, or as soon as a new connection has to be opened first (each attempt)."""
        target = self._base_path + _quote_path(path) + (b"?" + query if query else b"")
        headers = [(b"host", self._host_header), *upstream_request_headers(client_headers, self._api_key())]
        headers.append((b"content-length", str(len(body)).encode()))
        for attempt in (1, 2):
            budget = min(first_byte_timeout_s or self._settings.first_byte_timeout_s, deadline - time.monotonic())
            try:
                async with asyncio.timeout(budget):
                    answer = await self._send(method.encode(), target, headers, body, on_sending)
            except TimeoutError as error:
                raise UpstreamTimeout(
                    f"The Anthropic API sent no response within {budget:.0f} s (first-byte limit).", attempts=attempt
                ) from error
            except _TRANSPORT_ERRORS as error:
                # Connect failures, resets while the body went up, a connection closed before any
                # response byte: nothing reached the client yet, so one retry is safe.
                if attempt == 2:
                    raise UpstreamConnectFailed(
                        f"The gateway could not reach the Anthropic API after one retry ({type(error).__name__}).",
                        attempts=attempt,
                    ) from error
                await self._backoff(deadline)
                continue
            if answer.status in RETRYABLE_STATUSES and attempt == 1:
                await answer.close()
                await self._backoff(deadline)
                continue
            return UpstreamResponse(
                status=answer.status,
                headers=client_response_headers(answer.raw_headers),
                attempts=attempt,
                upstream_request_id=_header(answer.raw_headers, b"request-id"),
                content_type=_header(answer.raw_headers, b"content-type") or "",
                _stream=answer.stream,
                _close=answer.close,
            )
        raise AssertionError("unreachable")

    async def _send(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        on_sending: Callable[[], object] | None,
    ) -> _Answer:
        if self._pool is not None:
            url = httpcore.URL(scheme=self._scheme, host=self._host, port=self._port, target=target)
            request = httpcore.Request(method, url, headers=headers, content=body)
            request.extensions = (
                self._extensions if on_sending is None else {**self._extensions, "trace": _tracer(on_sending)}
            )
            response = await self._pool.handle_async_request(request)
            stream: AsyncIterable[bytes] = response.stream  # type: ignore[assignment]
            return _Answer(response.status, response.headers, stream, response.aclose)
        assert self._transport is not None
        if on_sending is not None:
            on_sending()
        mocked = httpx.URL(scheme=self._scheme.decode(), host=self._host.decode(), port=self._port, raw_path=target)
        sent = httpx.Request(method.decode(), mocked, headers=headers, content=body, extensions=self._extensions)
        answer = await self._transport.handle_async_request(sent)
        body_stream: AsyncIterable[bytes] = answer.stream  # type: ignore[assignment]
        return _Answer(answer.status_code, answer.headers.raw, body_stream, answer.aclose)

    async def _backoff(self, deadline: float) -> None:
        pause = random.uniform(self._settings.retry_backoff_min_s, self._settings.retry_backoff_max_s)
        await self._sleep(max(0.0, min(pause, deadline - time.monotonic())))


# httpcore's trace events (its `trace` request extension) that mean the request is on its way: written
# whole, or a new connection being opened first (waiting out a connect would gain nothing).
_SENDING_EVENTS = frozenset({"http11.send_request_body.complete", "connection.connect_tcp.started"})


def _tracer(on_sending: Callable[[], object]) -> Callable[[str, dict[str, object]], Awaitable[None]]:
    async def trace(event: str, info: dict[str, object]) -> None:
        if event in _SENDING_EVENTS:
            on_sending()

    return trace


# What httpx calls TransportError, from either side: connect and network failures (timeouts of the
# connect and write phases included), protocol errors such as a connection closed before any byte.
_TRANSPORT_ERRORS = (
    WireError,
    httpx.TransportError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)
# What a path may hold unescaped (RFC 3986 pchar and "/"); ASGI hands the path over decoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _quote_path(path: str) -> bytes:
    return (path if path.isascii() and path.isprintable() and " " not in path else quote(path, _PATH_SAFE)).encode(
        "ascii"
    )
