"""When the edge is on, only CloudFront may call the Function URL: it adds a secret header to every
origin request, and a request without it (someone calling the URL directly, around WAF) is refused.
WAF cannot attach to a Function URL, which is why this check lives in the app."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from codegateway.edge.error_responses import error_response
from codegateway.errors import PermissionDenied

ORIGIN_HEADER = b"x-cgw-origin-verify"
# The Lambda Web Adapter's readiness check comes from inside the sandbox, not through CloudFront.
_EXEMPT_PATHS = frozenset({"/healthz"})


class OriginGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in _EXEMPT_PATHS:
            secret = scope["app"].state.gateway.origin_secret
            if secret.configured and not _carries(scope, secret.current()):
                refusal = PermissionDenied("Call this gateway through its public endpoint, not the function URL.")
                await error_response(Request(scope), refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _carries(scope: Scope, expected: str) -> bool:
    presented = next((value for name, value in scope["headers"] if name == ORIGIN_HEADER), b"")
    return hmac.compare_digest(presented, expected.encode())
