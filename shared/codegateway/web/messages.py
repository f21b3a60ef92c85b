"""POST /v1/messages and /v1/messages/count_tokens: authenticate, validate, admit, forward (the
upstream call may start beside admission: proxy/admitting.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from codegateway.domain.clock import now_iso
from codegateway.domain.message_request import parse_message_request
from codegateway.domain.outcomes import ApiSurface
from codegateway.edge.caller import authenticated
from codegateway.proxy.admitting import admit
from codegateway.proxy.attribution import AGENT_ID_HEADER, SESSION_ID_HEADER, attribution_id
from codegateway.proxy.exchange import Caller, Exchange
from codegateway.proxy.forwarding import forward
from codegateway.proxy.relay import ClientEncoder
from codegateway.proxy.runtime import Gateway
from codegateway.proxy.upstream import UpstreamResponse
from codegateway.web.body import read_limited_body


class ForwardingResponse(Response):
    """Hands the raw ASGI channel to the relay: bytes go out as they arrive, nothing is buffered."""

    def __init__(
        self,
        gateway: Gateway,
        exchange: Exchange,
        encoder_for: Callable[[UpstreamResponse], ClientEncoder] | None = None,
        opening: asyncio.Task[UpstreamResponse] | None = None,
    ) -> None:
        self._gateway = gateway
        self._exchange = exchange
        self._encoder_for = encoder_for
        self._opening = opening

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await forward(
            self._exchange,
            self._gateway.upstream,
            send,
            receive,
            keepalive_interval_s=self._gateway.settings.keepalive_interval_s,
            settle=self._gateway.settlement.settle,
            encoder_for=self._encoder_for,
            budget=self._gateway.admission.hold_growth(self._exchange),
            opening=self._opening,
        )


def new_exchange(
    request: Request,
    gateway: Gateway,
    caller: Caller,
    body: bytes,
    *,
    started: float,
    path: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    source: ApiSurface = ApiSurface.ANTHROPIC,
) -> Exchange:
    """The exchange for a Messages body (the client's own, or one translated from another API)."""
    # The route's own path (scope["path"]): request.url would build and parse a whole URL for it.
    route_path: str = request.scope["path"]
    metered = not route_path.endswith("/count_tokens")
    message = parse_message_request(
        body, gateway.catalog, gateway.settings.unknown_model_policy, require_max_tokens=metered
    )
    log_fields: dict[str, Any] = request.scope["state"]["log_fields"]
    log_fields.update(model=message.model_id, stream=message.stream)
    if message.priced_as:
        log_fields["priced_as"] = message.priced_as
    if message.priced_by_family:
        log_fields["unknown_model"] = True  # Telemetry warns once per id and counts it
    session_id = attribution_id(request.headers.get(SESSION_ID_HEADER))
    agent_id = attribution_id(request.headers.get(AGENT_ID_HEADER))
    return Exchange(
        request_id=request.scope["state"]["request_id"],
        caller=caller,
        method="POST",
        path=path or route_path,
        query=request.scope.get("query_string", b"") if path is None else b"",
        headers=headers if headers is not None else request.scope["headers"],
        body=body,
        started=started,
        deadline=started + gateway.settings.total_timeout_s,
        created_at=now_iso(),
        message=message,
        # Claude Code's session id: no prompt content; lets a team see cost per agent session.
        session_id=session_id,
        agent_id=agent_id,
        source=source,
        log_fields=log_fields,
    )


async def create_message(request: Request) -> Response:
    started = time.monotonic()
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway.authenticator)
    body = await read_limited_body(request, gateway.settings.max_body_bytes)
    exchange = new_exchange(request, gateway, caller, body, started=started)
    opening = await admit(exchange, gateway.admission, gateway.upstream, gateway.settlement)
    return ForwardingResponse(gateway, exchange, opening=opening)


async def count_tokens(request: Request) -> Response:
    # Free: not reserved, not charged, not counted against the key's RPM cap.
    started = time.monotonic()
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway.authenticator)
    body = await read_limited_body(request, gateway.settings.max_body_bytes)
    return ForwardingResponse(gateway, new_exchange(request, gateway, caller, body, started=started))
