"""POST /v1/signup and POST /v1/signup/verify: open an account by email, as JSON."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codegateway.accounts.signup import normalized_email, open_account, send_code, signup_allowed
from codegateway.accounts.views import new_key_view
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.errors import InvalidRequest, SignupClosed
from codegateway.proxy.runtime import Gateway
from codegateway.web.body import read_limited_body

_MAX_BODY_BYTES = 4096


def client_ip(request: Request) -> str:
    """The caller's address for rate limits. Under the Lambda Web Adapter every request comes from
    loopback; the Function URL then names the caller as the last X-Forwarded-For entry (entries
    before it are whatever the client sent, so never trusted). Behind CloudFront that last entry is
    the edge's address: coarser, never spoofable."""
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if peer in {"127.0.0.1", "::1", ""} and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return peer or "unknown"


def public_base_url(request: Request, gateway: Gateway) -> str:
    return (gateway.settings.public_url or str(request.base_url)).rstrip("/")


async def _json_fields(request: Request, *names: str) -> dict[str, Any]:
    body = await read_limited_body(request, _MAX_BODY_BYTES)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise InvalidRequest(f"The body must be a JSON object with {', '.join(names)}.")
    for name in names:
        if not isinstance(parsed.get(name), str):
            raise InvalidRequest(f"{name}: required, a string.")
    return parsed


async def request_signup_code(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    fields = await _json_fields(request, "email")
    email = normalized_email(fields["email"])
    if not signup_allowed(gateway.settings, email):
        # Decided by the operator's mode and the address's domain alone: it tells nothing of accounts.
        raise SignupClosed()
    link_base = public_base_url(request, gateway) + "/dashboard/verify"
    await asyncio.to_thread(
        send_code, gateway.store, gateway.settings, request.app.state.outbox, email, client_ip(request), link_base
    )
    return JSONResponse({"type": "signup_code_sent", "message": "If this address may sign up, a code is on its way."},
                        status_code=202)  # fmt: skip


async def verify_signup(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    fields = await _json_fields(request, "email", "code")
    email = normalized_email(fields["email"])
    opened = await asyncio.to_thread(open_account, gateway.store, gateway.settings, email, fields["code"])
    request.scope["state"]["log_fields"].update(account_id=opened.account.account_id)
    return JSONResponse(
        {
            "type": "account",
            "id": opened.account.account_id,
            "email": opened.account.email,
            "balance_usd": nano_to_usd_str(opened.account.balance_nano),
            "key": new_key_view(opened.first_key.record, opened.first_key.plaintext),
        },
        status_code=201,
    )
