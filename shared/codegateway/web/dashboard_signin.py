"""The dashboard's door: the sign-in page, a code by email (sign-up or sign-in), the code's check
(opening the account when the address has none), sign-in with an API key, sign-out."""

from __future__ import annotations

import asyncio
from importlib.resources import files
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from codegateway.accounts.signup import normalized_email, send_code, sign_in_or_open
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.domain.records import Account
from codegateway.edge.caller import authenticated
from codegateway.errors import GatewayError, NotFound
from codegateway.proxy.runtime import Gateway
from codegateway.web.body import read_limited_body
from codegateway.web.dashboard_html import new_key_panel, page, sign_in_page
from codegateway.web.dashboard_session import (
    check_pre_session_csrf,
    check_session_csrf,
    current_session,
    end_session,
    pre_session_csrf,
    remember_pre_session_csrf,
    start_session,
)
from codegateway.web.signup import client_ip, public_base_url

_MAX_FORM_BYTES = 8192
_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
# No inline script or style, no other origin, no framing (clickjacking), forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}


def html(body: str, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


async def form_fields(request: Request) -> dict[str, str]:
    body = await read_limited_body(request, _MAX_FORM_BYTES)
    return {name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}


def _sign_in_answer(request: Request, status_code: int = 200, **page_fields: object) -> Response:
    token = pre_session_csrf(request)
    response = html(sign_in_page(token, **page_fields), status_code)  # type: ignore[arg-type]
    remember_pre_session_csrf(request, response, token)
    return response


async def dashboard_home(request: Request) -> Response:
    if await current_session(request):
        return redirect("/dashboard/keys")
    return _sign_in_answer(request)


async def verify_link(request: Request) -> Response:
    """The emailed link: the code form, filled in with the address (the person submits it)."""
    params = request.query_params
    code = params.get("code", "")
    code = code if code.isdigit() and len(code) == 6 else ""
    return _sign_in_answer(
        request, email=params.get("email", ""), code=code, code_sent=True, message="Check the code, then continue."
    )


async def request_code(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    fields = await form_fields(request)
    check_pre_session_csrf(request, fields.get("csrf"))
    try:
        email = normalized_email(fields.get("email", ""))
        await asyncio.to_thread(
            send_code,
            gateway.store,
            gateway.settings,
            request.app.state.outbox,
            email,
            client_ip(request),
            public_base_url(request, gateway) + "/dashboard/verify",
        )
    except GatewayError as error:
        return _sign_in_answer(request, error.status, message=error.message, error=True)
    return _sign_in_answer(request, email=email, code_sent=True)


async def verify_code(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    fields = await form_fields(request)
    check_pre_session_csrf(request, fields.get("csrf"))
    email, code = fields.get("email", ""), fields.get("code", "")
    try:
        email = normalized_email(email)
        opened = await asyncio.to_thread(sign_in_or_open, gateway.store, gateway.settings, email, code)
    except GatewayError as error:
        return _sign_in_answer(request, error.status, message=error.message, error=True, email=email, code_sent=True)
    if isinstance(opened, Account):
        response = redirect("/dashboard/keys")
        await start_session(request, response, opened.account_id)
        return response
    body = (
        f"<p>Your account is open with a starter credit of ${nano_to_usd_str(opened.account.balance_nano)}.</p>"
        + new_key_panel(opened.first_key.plaintext, public_base_url(request, gateway), "Your first key")
        + '<p><a href="/dashboard/keys">Go to your dashboard</a></p>'
    )
    response = html(page("Welcome to CodeGateway", body), 201)
    await start_session(request, response, opened.account.account_id)
    return response


async def sign_in_with_key(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    fields = await form_fields(request)
    check_pre_session_csrf(request, fields.get("csrf"))
    api_key = fields.get("api_key", "").strip()
    try:
        caller = await authenticated(request, gateway.authenticator, api_key)
    except GatewayError as error:
        return _sign_in_answer(request, error.status, message=error.message, error=True)
    response = redirect("/dashboard/keys")
    await start_session(request, response, caller.account.account_id)
    return response


async def sign_out(request: Request) -> Response:
    session = await current_session(request)
    if session is not None:
        check_session_csrf(session, (await form_fields(request)).get("csrf"))
    response = redirect("/dashboard")
    await end_session(request, response)
    return response


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:
        raise NotFound(f"No route for {request.method} {request.url.path}.")
    content = files("codegateway.web").joinpath("static", name).read_bytes()
    return Response(content, media_type=_STATIC[name], headers={**SECURITY_HEADERS, "cache-control": "max-age=300"})
