"""Forward one admitted request upstream and relay the answer; settle whatever way it ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from codegateway.domain.outcomes import Ended
from codegateway.errors import GatewayError
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.metering import UsageCapture
from codegateway.proxy.relay import Budget, ClientEncoder, Receive, RelayOutcome, Send, relay
from codegateway.proxy.upstream import Upstream, UpstreamResponse

Settle = Callable[["Exchange", RelayOutcome, UsageCapture | None], Awaitable[None]]


async def forward(
    exchange: Exchange,
    upstream: Upstream,
    send: Send,
    receive: Receive,
    *,
    keepalive_interval_s: float,
    settle: Settle,
    encoder_for: Callable[[UpstreamResponse], ClientEncoder] | None = None,
    budget: Budget | None = None,
    opening: Awaitable[UpstreamResponse] | None = None,
) -> RelayOutcome:
    """`opening`: the upstream call already under way (sent beside admission), else it starts here."""
    try:
        if opening is None:
            # A plain (non-streamed) answer comes whole, headers last: only the total limit applies.
            message = exchange.message
            opening = open_upstream(
                exchange, upstream, plain=message is not None and not message.stream and exchange.hold is not None
            )
        response = await opening
    except BaseException as error:
        exchange.attempts = getattr(error, "attempts", 1)
        await _settle_unstarted(exchange, error, settle)
        raise
    exchange.attempts = response.attempts
    exchange.upstream_request_id = response.upstream_request_id
    await _cap_use_read(exchange)
    capture = UsageCapture(streaming=response.content_type.startswith("text/event-stream"))
    try:
        encoder = encoder_for(response) if encoder_for is not None else None
    except BaseException as error:
        await response.aclose()
        await _settle_unstarted(exchange, error, settle)
        raise

    async def settle_outcome(outcome: RelayOutcome) -> None:
        await settle(exchange, outcome, capture)

    return await relay(
        send,
        receive,
        response,
        capture,
        response_headers=[*response.headers, *exchange.extra_response_headers],
        started=exchange.started,
        deadline=exchange.deadline,
        keepalive_interval_s=keepalive_interval_s,
        settle=settle_outcome,
        encoder=encoder,
        budget=budget,
    )


async def open_upstream(exchange: Exchange, upstream: Upstream, *, plain: bool) -> UpstreamResponse:
    """Send the request; `plain`: a metered, non-streamed message (its first byte is its last)."""
    return await upstream.open(
        exchange.method,
        exchange.path,
        exchange.query,
        exchange.headers,
        exchange.body,
        exchange.deadline,
        first_byte_timeout_s=exchange.deadline - exchange.started if plain else None,
    )


async def _settle_unstarted(exchange: Exchange, error: BaseException, settle: Settle) -> None:
    """Nothing reached the client: release what admission held (a $0 record); the error answers."""
    failed = RelayOutcome(
        ended=Ended.UPSTREAM_FAILED,
        status=error.status if isinstance(error, GatewayError) else 500,
        error_detail=error.error_type if isinstance(error, GatewayError) else type(error).__name__,
    )
    await asyncio.shield(settle(exchange, failed, None))


# The cap headers are worth a short wait at most: the first byte is worth more.
_CAP_USE_WAIT_S = 0.05


async def _cap_use_read(exchange: Exchange) -> None:
    if exchange.cap_use_shown is None:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(exchange.cap_use_shown), _CAP_USE_WAIT_S)
