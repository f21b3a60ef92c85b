"""The proxy's ASGI app. Built by a factory: importing this module starts nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from codegateway.accounts.ses_outbox import build_outbox
from codegateway.edge.error_responses import exception_handlers
from codegateway.edge.request_log import RequestLog
from codegateway.edge.telemetry import Telemetry
from codegateway.proxy.runtime import Gateway, build_gateway
from codegateway.settings import Settings
from codegateway.web import dashboard_pages as pages
from codegateway.web import dashboard_signin as signin
from codegateway.web.account import get_account, list_usage
from codegateway.web.chat_completions import create_chat_completion
from codegateway.web.diagnostics import diagnostics_stream
from codegateway.web.keys import (
    create_own_key,
    list_own_keys,
    remove_own_key_cap,
    revoke_own_key,
    rotate_own_key,
    set_own_key_cap,
)
from codegateway.web.messages import count_tokens, create_message
from codegateway.web.models import get_model, list_models
from codegateway.web.origin_guard import OriginGuard
from codegateway.web.signup import request_signup_code, verify_signup

# Probes (the adapter's readiness check, Claude Code's reachability HEAD) would drown the log.
_PROBE_PATHS = ("/healthz", "/", "/api/hello")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, gateway: Gateway | None = None) -> Any:
    """uvicorn --factory codegateway.web.app:create_app"""
    settings = settings or Settings()
    telemetry = Telemetry(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # bcrypt and the DynamoDB calls without a loop form run in threads; the default pool (cores + 4)
        # would queue them behind each other once a process serves many streams (cgw dev, a container).
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=settings.io_threads, thread_name_prefix="cgw-io")
        )
        app.state.gateway = gateway or build_gateway(settings)
        app.state.outbox = build_outbox(settings)
        try:
            yield
        finally:
            await app.state.gateway.aclose()

    routes = [
        Route("/", health, methods=["GET", "HEAD"]),
        Route("/api/hello", health, methods=["GET", "HEAD"]),
        Route("/healthz", health, methods=["GET", "HEAD"]),
        Route("/v1/messages", create_message, methods=["POST"]),
        Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
        Route("/v1/chat/completions", create_chat_completion, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/diagnostics/stream", diagnostics_stream, methods=["GET"]),
        Route("/v1/account", get_account, methods=["GET"]),
        Route("/v1/account/usage", list_usage, methods=["GET"]),
        Route("/v1/account/keys", list_own_keys, methods=["GET"]),
        Route("/v1/account/keys", create_own_key, methods=["POST"]),
        Route("/v1/account/keys/{key_id}/revoke", revoke_own_key, methods=["POST"]),
        Route("/v1/account/keys/{key_id}/rotate", rotate_own_key, methods=["POST"]),
        Route("/v1/account/keys/{key_id}/caps/{period}", set_own_key_cap, methods=["PUT"]),
        Route("/v1/account/keys/{key_id}/caps/{period}", remove_own_key_cap, methods=["DELETE"]),
        Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
        Route("/v1/signup", request_signup_code, methods=["POST"]),
        Route("/v1/signup/verify", verify_signup, methods=["POST"]),
        Route("/dashboard", signin.dashboard_home, methods=["GET"]),
        Route("/dashboard/code", signin.request_code, methods=["POST"]),
        Route("/dashboard/verify", signin.verify_link, methods=["GET"]),
        Route("/dashboard/verify", signin.verify_code, methods=["POST"]),
        Route("/dashboard/signin-key", signin.sign_in_with_key, methods=["POST"]),
        Route("/dashboard/signout", signin.sign_out, methods=["POST"]),
        Route("/dashboard/static/{name}", signin.static_file, methods=["GET"]),
        Route("/dashboard/keys", pages.keys, methods=["GET"]),
        Route("/dashboard/keys", pages.create_key, methods=["POST"]),
        Route("/dashboard/keys/{key_id}/{action:str}", pages.key_action, methods=["POST"]),
        Route("/dashboard/balance", pages.balance, methods=["GET"]),
        Route("/dashboard/logs", pages.logs, methods=["GET"]),
        Route("/dashboard/logs.csv", pages.logs_csv, methods=["GET"]),
        Route("/dashboard/sessions", pages.sessions, methods=["GET"]),
        Route("/dashboard/setup", pages.setup, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(OriginGuard)],
        exception_handlers=exception_handlers(),
    )
    # No redirect on a trailing slash: Starlette would answer `POST /v1/messages/` with a 307 to
    # an absolute URL built from the Host it saw (behind CloudFront: the Function URL, over http),
    # revealing the origin. No SDK adds the slash, so it is a 404 like any unknown path.
    app.router.redirect_slashes = False
    return RequestLog(app, telemetry, surface="web", unlogged_paths=_PROBE_PATHS)
