"""Admit a metered request, sending it upstream meanwhile when speculation allows (speculation.py).

The fail-closed rule in this form: no byte is relayed to the client without a hold. The upstream call
may start before admission answers, but the relay (forwarding.py) starts only once admission has
succeeded; a refusal closes the upstream call first, then answers, and the account pays nothing (a
$0 record whose `ended` is `speculation_refused`).
"""

from __future__ import annotations

import asyncio
import time

from codegateway.errors import AuthenticationFailed, GatewayError
from codegateway.proxy.admission import Admission, Planned
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.forwarding import open_upstream
from codegateway.proxy.settlement import Settlement
from codegateway.proxy.upstream import Upstream, UpstreamResponse


async def admit(
    exchange: Exchange, admission: Admission, upstream: Upstream, settlement: Settlement
) -> asyncio.Task[UpstreamResponse] | None:
    """Admit (or raise the refusal). Returns the upstream call already under way, or None: forward
    opens it after admission, as without speculation."""
    # Asked first with the largest hold the request can have, which needs no hashing of the prompt:
    # if that has headroom, the send need not wait for the hashing. Else with the real hold.
    planned: Planned | None = None
    largest = admission.plan(exchange, cache_history=False).hold.nano
    ticket = admission.speculation.ticket(exchange, largest)
    if ticket is None:
        planned = admission.plan(exchange)
        if planned.hold.nano < largest:  # cache reads made it smaller: it may have headroom after all
            ticket = admission.speculation.ticket(exchange, planned.hold.nano)
        if ticket is None:
            await admission.admit(exchange, planned)
            return None
    assert exchange.message is not None
    # Eager: the call runs now up to its first wait, so on a pooled connection the request is written
    # before admission's store call starts (whose thread would otherwise take the GIL from the send);
    # a new connection's connect is waited out beside admission.
    opening = asyncio.eager_task_factory(
        asyncio.get_running_loop(), open_upstream(exchange, upstream, plain=not exchange.message.stream)
    )
    exchange.log_fields["speculative"] = True
    try:
        await admission.admit(exchange, planned or admission.plan(exchange))
    except BaseException as refusal:
        ticket.refused()
        refused_at = time.time()
        closing_started = time.monotonic()
        await close(opening)
        fields = exchange.log_fields
        fields.update(
            speculation_refused=True,
            speculation_refused_at=refused_at,
            speculation_close_ms=round((time.monotonic() - closing_started) * 1000, 2),
        )
        # A caller whose key or account is gone has no account to record against.
        if isinstance(refusal, GatewayError) and not isinstance(refusal, AuthenticationFailed):
            await asyncio.shield(settlement.settle_refused_speculation(exchange, refusal.status, refusal.error_type))
        raise
    ticket.admitted()
    return opening


async def close(opening: asyncio.Task[UpstreamResponse]) -> None:
    """Close an upstream call however far it got: cancelled while it waits for the response headers
    (its connection is dropped), or its response closed unread. Nothing of it is read."""
    opening.cancel()
    await asyncio.wait([opening])
    if not opening.cancelled() and opening.exception() is None:
        await opening.result().aclose()
