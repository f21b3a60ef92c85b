"""`cgw dev`: DynamoDB (moto's server), tables from template.yaml, the emulator, a demo key, the proxy."""

from __future__ import annotations

import errno
import os
import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from codegateway.accounts.accounts import create_account
from codegateway.accounts.keys import create_key
from codegateway.dev.processes import free_port, start_python_module, stop, wait_until_ready
from codegateway.dev.table_schema import create_tables
from codegateway.settings import Settings
from codegateway.store import build_store

DEMO_EMAIL = "demo@codegateway.local"


@dataclass
class LocalStack:
    port: int
    template: Path
    upstream_url: str | None = None
    upstream_api_key: str | None = None
    dynamodb_port: int = 0
    emulator_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_dynamodb(self) -> str:
        port = self.dynamodb_port or free_port()
        process = start_python_module(["codegateway.dev.dynamodb_server", "--port", str(port)])
        self.processes.append(process)
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_ready(endpoint + "/moto-api/", process)
        return endpoint

    def start_emulator(self) -> tuple[str, str]:
        port = self.emulator_port or free_port()
        api_key = "sk-emulator-" + secrets.token_urlsafe(16)
        process = start_python_module(["codegateway.dev.emulator_server", "--port", str(port), "--api-key", api_key])
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url + "/healthz", process)
        return url, api_key

    def settings(self, dynamodb_endpoint: str, upstream_url: str, upstream_api_key: str | None) -> Settings:
        # Sign-up is open locally, codes go to this process's output, cookies work over plain http.
        overrides: dict[str, object] = {
            "dynamodb_endpoint": dynamodb_endpoint,
            "upstream_url": upstream_url,
            "signup_mode": "open",
            "outbox": "console",
            "dashboard_secure_cookies": False,
        }
        if upstream_api_key:
            overrides["upstream_api_key"] = upstream_api_key
        # Like the deployed proxy: a catalog imported with `cgw prices import` applies without a restart.
        if "CGW_PRICING_CATALOG_SOURCE" not in os.environ:
            overrides["pricing_catalog_source"] = "dynamodb"
        return Settings(**overrides)  # type: ignore[arg-type]

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)


def provision(settings: Settings, template: Path) -> str:
    """Create missing tables, the demo account (unless it exists: a shared DynamoDB) and a new demo
    key; returns the key's plaintext."""
    store = build_store(settings)
    create_tables(store.client, template, settings)
    account = store.accounts.find_by_email(DEMO_EMAIL) or create_account(store, settings, DEMO_EMAIL, name="Demo")
    return create_key(store, settings, account.account_id, name="demo").plaintext


class PortInUse(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is in use (is another `make run` or `cgw dev` still running?)")


def bind_socket(port: int, host: str = "127.0.0.1") -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from error
        raise
    return listener
