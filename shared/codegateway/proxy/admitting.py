"""Admit a metered request, sending it upstream meanwhile when speculation allows (speculation.py).

The fail-closed rule in this form: no byte is relayed to the client without a hold. The upstream call
may start before admission answers, but the relay (forwarding.py) starts only once admission has
succeeded; a refusal closes the upstream call first, then answers, and the account pays nothing (a
$0 record whose `ended` is `speculation_refused`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from codegateway.errors import AuthenticationFailed, GatewayError
from codegateway.proxy.admission import Admission
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.forwarding import open_upstream
from codegateway.proxy.settlement import Settlement
from codegateway.proxy.upstream import Upstream, UpstreamResponse

# How long admission waits for a speculative request to be on its way upstream before it starts anyway
# (a large body on a slow link: admission must still answer long before the first byte).
SEND_FIRST_MAX_S = 0.02


async def admit(
    exchange: Exchange, admission: Admission, upstream: Upstream, settlement: Settlement
) -> asyncio.Task[UpstreamResponse] | None:
    """Admit (or raise the refusal). Returns the upstream call already under way, or None: forward
    opens it after admission, as without speculation."""
    planned = admission.plan(exchange)
    ticket = admission.speculation.ticket(exchange, planned.hold.nano)
    if ticket is None:
        await admission.admit(exchange, planned)
        return None
    assert exchange.message is not None
    sending = asyncio.get_running_loop().create_future()

    def on_sending(*_: object) -> None:
        if not sending.done():
            sending.set_result(None)

    opening = asyncio.create_task(
        open_upstream(exchange, upstream, plain=not exchange.message.stream, on_sending=on_sending)
    )
    opening.add_done_callback(on_sending)
    exchange.log_fields["speculative"] = True
    # Admission's store call starts once the request is written (or a connection is being opened, or
    # the call failed): its thread would otherwise take the GIL from the send, and the upstream's first
    # byte is what the client waits for. Never longer than SEND_FIRST_MAX_S.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SEND_FIRST_MAX_S):
            await sending
    try:
        await admission.admit(exchange, planned)
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
    (httpx drops the connection), or its response closed unread. Nothing of it is read."""
    opening.cancel()
    await asyncio.wait([opening])
    if not opening.cancelled() and opening.exception() is None:
        await opening.result().aclose()
