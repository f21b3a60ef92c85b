"""Entry point of the admin function (template.yaml AdminFunction, `app.handler`): a Lambda Function
URL event (payload 2.0, IAM-signed) -> Mangum -> the admin API (codegateway.admin_api).

Nothing is built at import; the app, its settings and its DynamoDB client are built on the first
invocation and kept for warm ones.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from mangum import Mangum

from codegateway.admin_api.app import create_admin_app


@functools.cache
def _adapter() -> Mangum:
    # Mangum runs each request on asyncio.get_event_loop(), which no longer makes a loop implicitly
    # (deprecated since Python 3.12): give this thread one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    # No lifespan: the app is complete when built, and a buffered Function URL has nothing to stream.
    return Mangum(create_admin_app(), lifespan="off")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _adapter()(event, context)
