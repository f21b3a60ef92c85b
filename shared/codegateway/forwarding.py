"""Forward one admitted request upstream and relay the answer; settle whatever way it ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from codegateway.auth import Caller
from codegateway.errors import UpstreamFailure
from codegateway.message_request import MessageRequest
from codegateway.records import Hold
from codegateway.relay import ClientEncoder, Receive, RelayOutcome, Send, relay
from codegateway.upstream import Upstream, UpstreamResponse
from codegateway.usage_capture import UsageCapture

Settle = Callable[["Exchange", RelayOutcome, UsageCapture | None], Awaitable[None]]


@dataclass(slots=True)
class Exchange:
    """One client request on its way through the gateway."""

    request_id: str
    caller: Caller
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    started: float
    deadline: float
    created_at: str = ""
    message: MessageRequest | None = None
    # Set by admission for metered requests; count_tokens has none.
    hold: Hold | None = None
    attempts: int = 0
    session_id: str | None = None
    upstream_request_id: str | None = None
    source: str = "anthropic"
    log_fields: dict[str, Any] = field(default_factory=dict)


async def forward(
    exchange: Exchange,
    upstream: Upstream,
    send: Send,
    receive: Receive,
    *,
    keepalive_interval_s: float,
    settle: Settle,
    encoder_for: Callable[[UpstreamResponse], ClientEncoder] | None = None,
) -> RelayOutcome:
    try:
        response = await upstream.open(
            exchange.method, exchange.path, exchange.query, exchange.headers, exchange.body, exchange.deadline
        )
    except UpstreamFailure as error:
        exchange.attempts = error.attempts
        # Nothing reached the client: answer with the error, after releasing what admission held.
        await settle(
            exchange,
            RelayOutcome(ended="upstream_failed", status=error.status, error_detail=error.error_type),
            None,
        )
        raise
    exchange.attempts = response.attempts
    exchange.upstream_request_id = response.upstream_request_id
    capture = UsageCapture(streaming=response.content_type.startswith("text/event-stream"))

    async def settle_outcome(outcome: RelayOutcome) -> None:
        await settle(exchange, outcome, capture)

    return await relay(
        send,
        receive,
        response,
        capture,
        response_headers=response.headers,
        started=exchange.started,
        deadline=exchange.deadline,
        keepalive_interval_s=keepalive_interval_s,
        settle=settle_outcome,
        encoder=encoder_for(response) if encoder_for is not None else None,
    )
