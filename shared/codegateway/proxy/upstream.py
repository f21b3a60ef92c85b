"""The upstream HTTP client (the only module importing httpx): forwarding, one retry, timeouts.

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
from urllib.parse import quote

import httpx

from codegateway.errors import UpstreamConnectFailed, UpstreamTimeout
from codegateway.proxy.upstream_http import Connection, ConnectionPool, UpstreamNetworkError, request_bytes
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
    """Speaks HTTP/1.1 itself (upstream_http.py): no request or response models, no header
    re-normalisation, and no cookie jar - a cookie one answer set (Cloudflare's, say) must never
    travel with another caller's request. `transport`: an httpx transport to send through instead
    (tests script the upstream with httpx.MockTransport).

    Started as an eager task (asyncio.eager_task_factory), `open` has written the request on a pooled
    connection before it first yields."""

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
        host = b"[%b]" % base.raw_host if b":" in base.raw_host else base.raw_host  # an IPv6 literal
        self._host_header = host if base.port is None else b"%b:%d" % (host, base.port)
        self._base_path = base.raw_path.rstrip(b"/")
        # Reads are bounded by the relay (first byte, total deadline, keepalive), not by the client.
        self._extensions = {"timeout": {"connect": settings.connect_timeout_s, "read": None, "write": 60.0}}
        self._transport = transport
        self._pool = (
            ConnectionPool(
                base.host,
                base.port or (443 if self._scheme == b"https" else 80),
                # certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR when set (httpx's rules)
                ssl_context=httpx.create_ssl_context() if self._scheme == b"https" else None,
            )
            if transport is None
            else None
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
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
    ) -> UpstreamResponse:
        """Send the request; return once the upstream's status and headers arrived (within
        first_byte_timeout_s, by default the configured first-byte limit)."""
        target = self._base_path + _quote_path(path) + (b"?" + query if query else b"")
        headers = [(b"host", self._host_header), *upstream_request_headers(client_headers, self._api_key())]
        headers.append((b"content-length", str(len(body)).encode()))
        for attempt in (1, 2):
            budget = min(first_byte_timeout_s or self._settings.first_byte_timeout_s, deadline - time.monotonic())
            try:
                async with asyncio.timeout(budget):
                    answer = await self._send(method.encode(), target, headers, body)
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

    async def _send(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> _Answer:
        pool = self._pool
        if pool is not None:
            data = request_bytes(method, target, headers, body)
            connection = pool.idle_connection() or await pool.connect(self._settings.connect_timeout_s)
            try:
                connection.send(data)
                status, raw_headers = await connection.head()
            except BaseException:
                connection.close()  # cancelled (the first-byte limit, a refusal) or broken: never reused
                raise
            return _Answer(status, raw_headers, connection.body(), _releaser(pool, connection))
        assert self._transport is not None
        mocked = httpx.URL(scheme=self._scheme.decode(), host=self._host.decode(), port=self._port, raw_path=target)
        sent = httpx.Request(method.decode(), mocked, headers=headers, content=body, extensions=self._extensions)
        answer = await self._transport.handle_async_request(sent)
        body_stream: AsyncIterable[bytes] = answer.stream  # type: ignore[assignment]
        return _Answer(answer.status_code, answer.headers.raw, body_stream, answer.aclose)

    async def _backoff(self, deadline: float) -> None:
        pause = random.uniform(self._settings.retry_backoff_min_s, self._settings.retry_backoff_max_s)
        await self._sleep(max(0.0, min(pause, deadline - time.monotonic())))


def _releaser(pool: ConnectionPool, connection: Connection) -> Callable[[], Awaitable[None]]:
    released = False

    async def release() -> None:
        # Once only: a second release could pool a connection already serving someone else.
        nonlocal released
        if not released:
            released = True
            pool.release(connection)

    return release


# Connect failures and timeouts, resets, a connection closed before the answer's head, an answer
# that is not HTTP: from the gateway's own client, or from an injected httpx transport.
_TRANSPORT_ERRORS = (UpstreamNetworkError, httpx.TransportError)
# What a path may hold unescaped (RFC 3986 pchar and "/"); ASGI hands the path over decoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _quote_path(path: str) -> bytes:
    return (path if path.isascii() and path.isprintable() and " " not in path else quote(path, _PATH_SAFE)).encode(
        "ascii"
    )
