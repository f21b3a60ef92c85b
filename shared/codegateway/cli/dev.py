"""cgw dev (the whole local stack), cgw serve (the proxy alone), cgw emulator (the upstream stand-in)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import uvicorn

from codegateway.cli.context import EXIT_FAILED, fail
from codegateway.settings import Settings


def _config(app: Any, lifespan: Literal["on", "off"]) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan=lifespan,
        timeout_keep_alive=75,
    )


def _serve(settings: Settings, listener: socket.socket) -> None:
    from codegateway.web.app import create_app

    uvicorn.Server(_config(create_app(settings), lifespan="on")).run(sockets=[listener])


def _serve_admin_in_background(settings: Settings, listener: socket.socket) -> None:
    """The admin API beside the proxy. Off the main thread, uvicorn leaves Ctrl-C to the proxy."""
    from codegateway.admin_api.app import create_admin_app

    server = uvicorn.Server(_config(create_admin_app(settings), lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="admin-api").start()


def dev(
    port: Annotated[int, typer.Option(help="The proxy's port on 127.0.0.1.")] = 8080,
    upstream: Annotated[
        str | None,
        typer.Option(help="Upstream URL (e.g. https://api.anthropic.com); default: the bundled emulator."),
    ] = None,
    admin_port: Annotated[int, typer.Option(help="The admin API's port on 127.0.0.1 (0: any free port).")] = 0,
    dynamodb_port: Annotated[int, typer.Option(help="Port for the embedded DynamoDB (0: any free port).")] = 0,
    dynamodb_endpoint: Annotated[
        str | None, typer.Option(help="Use this DynamoDB (e.g. another stack's) instead of starting one.")
    ] = None,
    template: Annotated[Path | None, typer.Option(help="template.yaml holding the table definitions.")] = None,
) -> None:
    """Start the local stack: embedded DynamoDB, tables, emulator, a demo key and the proxy."""
    from codegateway.dev.stack import LocalStack, provision
    from codegateway.dev.table_schema import find_template

    template_path = template or find_template()
    listener = _listen(port, "127.0.0.1")
    stack = LocalStack(port=port, template=template_path, dynamodb_port=dynamodb_port)
    try:
        port = listener.getsockname()[1]
        dynamodb_endpoint = dynamodb_endpoint or stack.start_dynamodb()
        if upstream:
            upstream_url, upstream_key = upstream, os.environ.get("CGW_UPSTREAM_API_KEY")
            source = f"{upstream_url} (key from CGW_UPSTREAM_API_KEY{'' if upstream_key else ': NOT SET'})"
        else:
            upstream_url, upstream_key = stack.start_emulator()
            source = f"the bundled emulator at {upstream_url} (pass --upstream URL for a real upstream)"
        settings = stack.settings(dynamodb_endpoint, upstream_url, upstream_key)
        demo_key = provision(settings, template_path)
        print(f"CodeGateway local stack: upstream is {source}", flush=True)
        admin_listener = _listen(admin_port, "127.0.0.1")
        admin_url = f"http://127.0.0.1:{admin_listener.getsockname()[1]}"
        print(f"Proxy on http://127.0.0.1:{port}, DynamoDB (moto) on {dynamodb_endpoint}.", flush=True)
        print(f"Admin API on {admin_url} (loopback only, no auth: deployed, it sits behind IAM).", flush=True)
        print("Point Claude Code (or any Anthropic SDK) at it by running these in your shell:", flush=True)
        print(f"export ANTHROPIC_BASE_URL=http://127.0.0.1:{port}", flush=True)
        print(f"export ANTHROPIC_API_KEY={demo_key}", flush=True)
        print(f"export CGW_DYNAMODB_ENDPOINT={dynamodb_endpoint}", flush=True)
        print("The demo key is shown once. Ctrl-C stops the stack (its data lives in memory only).", flush=True)
        _serve_admin_in_background(settings, admin_listener)
        _serve(settings, listener)
    finally:
        stack.stop()


def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Run the proxy alone, configured from CGW_* variables (tables must exist)."""
    _serve(Settings(), _listen(port, host))


def _listen(port: int, host: str) -> socket.socket:
    """The bound socket, or a one-line error naming the busy port instead of OSError's traceback."""
    from codegateway.dev.stack import PortInUse, bind_socket

    try:
        return bind_socket(port, host)
    except PortInUse as busy:
        fail(f"{busy}. Stop it, or pick another port (make run PORT=8081, or --port 8081).", EXIT_FAILED)


def emulator(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8090,
    api_key: Annotated[str | None, typer.Option(help="Require this x-api-key (default: accept any).")] = None,
) -> None:
    """Run the upstream emulator alone (a Messages API stand-in)."""
    from codegateway.dev.emulator import create_emulator

    uvicorn.run(create_emulator(api_key=api_key), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def register_dev_commands(app: typer.Typer) -> None:
    app.command()(dev)
    app.command()(serve)
    app.command()(emulator)
