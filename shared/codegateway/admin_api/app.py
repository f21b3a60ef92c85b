"""The admin API app. Built by a factory: importing this module builds nothing."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError

from codegateway.admin_api import accounts, balance, caps, keys, tiers, usage
from codegateway.edge.caller import iam_actor
from codegateway.edge.error_responses import exception_handlers
from codegateway.edge.request_log import RequestLog
from codegateway.edge.telemetry import Telemetry
from codegateway.edge.validation_errors import on_validation_error
from codegateway.settings import Settings
from codegateway.store import Store, build_store


def create_admin_app(settings: Settings | None = None, store: Store | None = None) -> Any:
    """An ASGI app: the FastAPI routes inside the request-id and request-log wrapper."""
    settings = settings or Settings()
    app = FastAPI(
        title="CodeGateway admin API",
        version="1",
        # Behind an IAM-signed URL a browser cannot open docs pages; the schema stays for tools.
        docs_url=None,
        redoc_url=None,
        # Every route's log line names the admin who signed it (routes that write ledger entries
        # also take it as `Actor`; FastAPI resolves it once per request).
        dependencies=[Depends(iam_actor)],
        exception_handlers={**exception_handlers(), RequestValidationError: on_validation_error},
    )
    app.state.settings = settings
    app.state.store = store or build_store(settings)
    for module in (accounts, balance, caps, keys, usage, tiers):
        app.include_router(module.router)
    return RequestLog(app, Telemetry(settings), surface="admin")
