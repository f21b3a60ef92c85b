"""The admin API app. Built by a factory: importing this module builds nothing."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from codegateway.admin_api import accounts, balance, caps, keys, tiers, usage
from codegateway.admin_api.errors import install_error_handlers
from codegateway.admin_api.request_log import AdminRequestLog
from codegateway.edge.telemetry import Telemetry
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
    )
    app.state.settings = settings
    app.state.store = store or build_store(settings)
    install_error_handlers(app)
    for module in (accounts, balance, caps, keys, usage, tiers):
        app.include_router(module.router)
    return AdminRequestLog(app, Telemetry(settings))
