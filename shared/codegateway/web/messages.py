"""POST /v1/messages and /v1/messages/count_tokens: authenticate, validate, admit, forward."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from codegateway.clock import now_iso
from codegateway.forwarding import Exchange, forward
from codegateway.gateway import Gateway
from codegateway.message_request import parse_message_request
from codegateway.web.body import read_limited_body


class ForwardingResponse(Response):
    """Hands the raw ASGI channel to the relay: bytes go out as they arrive, nothing is buffered."""

    def __init__(self, gateway: Gateway, exchange: Exchange) -> None:
        self._gateway = gateway
        self._exchange = exchange

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await forward(
            self._exchange,
            self._gateway.upstream,
            send,
            receive,
            keepalive_interval_s=self._gateway.settings.keepalive_interval_s,
            settle=self._gateway.settlement.settle,
        )


def _attribution(value: str | None) -> str | None:
    # Claude Code's session id: no prompt content, lets a team see cost per agent session.
    return value[:128] if value else None


async def _exchange(request: Request, gateway: Gateway) -> Exchange:
    started = time.monotonic()
    caller = await gateway.authenticator.authenticate(
        request.headers.get("x-api-key"), request.headers.get("authorization")
    )
    log_fields: dict[str, Any] = request.scope["state"]["log_fields"]
    log_fields.update(account_id=caller.account.account_id, key_id=caller.key.key_id)
    body = await read_limited_body(request, gateway.settings.max_body_bytes)
    message = parse_message_request(body, gateway.catalog)
    log_fields.update(model=message.model.model_id, stream=message.stream)
    return Exchange(
        request_id=request.scope["state"]["request_id"],
        caller=caller,
        method="POST",
        path=request.url.path,
        query=request.scope.get("query_string", b""),
        headers=request.scope["headers"],
        body=body,
        started=started,
        deadline=started + gateway.settings.total_timeout_s,
        created_at=now_iso(),
        message=message,
        session_id=_attribution(request.headers.get("x-claude-code-session-id")),
        log_fields=log_fields,
    )


async def create_message(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    exchange = await _exchange(request, gateway)
    await gateway.rate_limiter.take(exchange.caller)
    await gateway.admission.reserve(exchange)
    return ForwardingResponse(gateway, exchange)


async def count_tokens(request: Request) -> Response:
    # Free: not reserved, not charged, not counted against the key's RPM cap.
    gateway: Gateway = request.app.state.gateway
    exchange = await _exchange(request, gateway)
    return ForwardingResponse(gateway, exchange)
