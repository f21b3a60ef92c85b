"""Invoke the admin function's Lambda handler (functions/admin/app.py) with the Function URL events
in events/, as `sam local invoke AdminFunction -e events/<file>.json` would, against the local stack."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from codegateway.settings import Settings

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"


@dataclass
class AdminResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def _load_handler_module() -> ModuleType:
    # Loaded from its file under its own name: the proxy's entry point is also called `app`.
    spec = importlib.util.spec_from_file_location("admin_function_app", REPO / "functions" / "admin" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AdminFunction:
    """The handler as Lambda runs it, configured by the CGW_* variables template.yaml sets."""

    def __init__(self, settings: Settings) -> None:
        self._env = pytest.MonkeyPatch()
        self._env.setenv("CGW_DYNAMODB_ENDPOINT", str(settings.dynamodb_endpoint))
        for name in ("accounts_table", "api_keys_table", "usage_table", "rate_limits_table"):
            self._env.setenv(f"CGW_{name.upper()}", getattr(settings, name))
        self.module = _load_handler_module()

    def close(self) -> None:
        self._env.undo()

    def invoke(
        self,
        event_name: str,
        *,
        method: str | None = None,
        path: str | None = None,
        query: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        without_headers: tuple[str, ...] = (),
        authorizer: dict[str, Any] | None = None,
    ) -> AdminResponse:
        """The event file, with what this call changes: its method, path, query, JSON body, headers."""
        event = load_event(event_name)
        http = event["requestContext"]["http"]
        if method:
            http["method"] = method
        if path:
            event["rawPath"] = http["path"] = path
        if query is not None:
            event["rawQueryString"] = query
        if body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
        elif method == "GET":
            event.pop("body", None)
        event["headers"].update(headers or {})
        for name in without_headers:
            event["headers"].pop(name, None)
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        answer = self.module.handler(event, None)
        return AdminResponse(answer["statusCode"], answer.get("headers", {}), answer.get("body", ""))

    def get(self, path: str, query: str = "", headers: dict[str, str] | None = None) -> AdminResponse:
        return self.invoke("admin-accounts", method="GET", path=path, query=query, headers=headers)

    def post(self, path: str, body: Any = "", headers: dict[str, str] | None = None) -> AdminResponse:
        return self.invoke("admin-accounts", method="POST", path=path, body=body, headers=headers)
