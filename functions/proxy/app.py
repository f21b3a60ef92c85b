"""Entry point of the proxy function: run.sh starts uvicorn with `--factory app:create_app`.

Nothing is built at import; the gateway (DynamoDB client, upstream pool, caches) is built in the
app's start-up, inside Lambda's init phase, before the adapter's readiness check passes.
"""

from codegateway.web.app import create_app

__all__ = ["create_app"]
