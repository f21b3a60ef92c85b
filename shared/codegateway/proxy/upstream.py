"""The upstream HTTP client (the only module importing httpx): forwarding, one retry, timeouts.

A request is retried once, after a jittered pause, on a transport failure before any response byte
(connect error, reset, connection closed) or on 502/503/504/529 - and only here, before the client
was sent a byte.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from codegateway.errors import UpstreamConnectFailed, UpstreamTimeout
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
    _response: httpx.Response

    @property
    def upstream_request_id(self) -> str | None:
        request_id: str | None = self._response.headers.get("request-id")
        return request_id

    @property
    def content_type(self) -> str:
        content_type: str = self._response.headers.get("content-type", "")
        return content_type

    def chunks(self) -> AsyncIterator[bytes]:
        # Raw bytes, exactly as they arrive from the socket: no decoding, no re-chunking.
        return self._response.aiter_raw()

    async def aclose(self) -> None:
        await self._response.aclose()


class Upstream:
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
        self._client = httpx.AsyncClient(
            base_url=settings.upstream_base,
            transport=transport,
            # Reads are bounded by the relay (first byte, total deadline, keepalive), not by httpx.
            timeout=httpx.Timeout(connect=settings.connect_timeout_s, read=None, write=60.0, pool=10.0),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=200, keepalive_expiry=60.0),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

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
        url = httpx.URL(path=path, query=query) if query else httpx.URL(path=path)
        headers = upstream_request_headers(client_headers, self._api_key())
        for attempt in (1, 2):
            request = self._client.build_request(method, url, headers=headers, content=body)
            budget = min(first_byte_timeout_s or self._settings.first_byte_timeout_s, deadline - time.monotonic())
            try:
                response = await asyncio.wait_for(self._client.send(request, stream=True), timeout=budget)
            except TimeoutError as error:
                raise UpstreamTimeout(
                    f"The Anthropic API sent no response within {budget:.0f} s (first-byte limit).", attempts=attempt
                ) from error
            except httpx.TransportError as error:
                # Connect failures, resets while the body went up, a connection closed before any
                # response byte: nothing reached the client yet, so one retry is safe.
                if attempt == 2:
                    raise UpstreamConnectFailed(
                        f"The gateway could not reach the Anthropic API after one retry ({type(error).__name__}).",
                        attempts=attempt,
                    ) from error
                await self._backoff(deadline)
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt == 1:
                await response.aclose()
                await self._backoff(deadline)
                continue
            return UpstreamResponse(
                status=response.status_code,
                headers=client_response_headers(response.headers.raw),
                attempts=attempt,
                _response=response,
            )
        raise AssertionError("unreachable")

    async def _backoff(self, deadline: float) -> None:
        pause = random.uniform(self._settings.retry_backoff_min_s, self._settings.retry_backoff_max_s)
        await self._sleep(max(0.0, min(pause, deadline - time.monotonic())))
