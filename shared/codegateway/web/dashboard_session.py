"""Dashboard sessions: a random cookie (HttpOnly, SameSite=Strict, Secure when deployed) whose
SHA-256 names a server-side item with a TTL; a synchronizer CSRF token in that item for every form
once signed in, and a double-submit token (cookie + form field) on the sign-in forms before."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time

from starlette.requests import Request
from starlette.responses import Response

from codegateway.errors import PermissionDenied
from codegateway.proxy.runtime import Gateway
from codegateway.store import DashboardSession

SESSION_COOKIE = "cgw_session"
PRE_SESSION_COOKIE = "cgw_csrf"
COOKIE_PATH = "/dashboard"


class CsrfRefused(PermissionDenied):
    default_message = "This form is stale or did not come from the dashboard. Reload the page and try again."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _set_cookie(response: Response, gateway: Gateway, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=gateway.settings.dashboard_secure_cookies,
        samesite="strict",
    )


async def current_session(request: Request) -> DashboardSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    gateway: Gateway = request.app.state.gateway
    session = await asyncio.to_thread(gateway.store.dashboard_sessions.get, _hash(token))
    if session is None or session.expires_at <= time.time():
        return None
    request.scope["state"]["log_fields"].update(account_id=session.account_id)
    return session


async def start_session(request: Request, response: Response, account_id: str) -> None:
    gateway: Gateway = request.app.state.gateway
    token = secrets.token_urlsafe(32)
    ttl_s = gateway.settings.dashboard_session_ttl_s
    session = DashboardSession(account_id, secrets.token_urlsafe(24), int(time.time()) + ttl_s)
    await asyncio.to_thread(gateway.store.dashboard_sessions.put, _hash(token), session)
    _set_cookie(response, gateway, SESSION_COOKIE, token, ttl_s)


async def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        gateway: Gateway = request.app.state.gateway
        await asyncio.to_thread(gateway.store.dashboard_sessions.end, _hash(token))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def check_session_csrf(session: DashboardSession, submitted: object) -> None:
    if not isinstance(submitted, str) or not hmac.compare_digest(session.csrf_token, submitted):
        raise CsrfRefused()


def pre_session_csrf(request: Request) -> str:
    """The sign-in forms' token: the one in the cookie if there is one, else a new one."""
    return request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(24)


def remember_pre_session_csrf(request: Request, response: Response, token: str) -> None:
    _set_cookie(response, request.app.state.gateway, PRE_SESSION_COOKIE, token, 3600)


def check_pre_session_csrf(request: Request, submitted: object) -> None:
    cookie = request.cookies.get(PRE_SESSION_COOKIE)
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(cookie, submitted):
        raise CsrfRefused()
