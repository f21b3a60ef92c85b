"""Start the real local stack (`cgw dev`) as a user would, and read what it prints."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from codegateway.dev.processes import free_port
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import ApiCaller, new_caller

REPO = Path(__file__).resolve().parents[2]
# The fast_stack fixture pings this often, so idle checks take seconds, not 65 s.
FAST_KEEPALIVE_S = 0.3


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    base_url: str
    api_key: str
    dynamodb_endpoint: str
    upstream_line: str
    emulator_url: str | None
    admin_url: str | None
    output: list[str] = field(default_factory=list)

    def emulator_requests(self, scenario: str | None = None) -> list[dict[str, Any]]:
        assert self.emulator_url
        params = {"scenario": scenario} if scenario else {}
        response = httpx.get(f"{self.emulator_url}/_emulator/requests", params=params)
        requests: list[dict[str, Any]] = response.json()["data"]
        return requests

    def request_log_line(self, request_id: str, timeout_s: float = 5.0) -> dict[str, Any]:
        """The request's log line in the stack's output (written once its answer is out: waited for)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.output):
                if line.startswith("{") and request_id in line:
                    parsed = orjson.loads(line)
                    if parsed.get("message") == "request" and parsed.get("request_id") == request_id:
                        return dict(parsed)
            time.sleep(0.05)
        raise AssertionError(f"no log line for {request_id}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class StackWithStore:
    """A running stack, its DynamoDB, and fresh callers on it."""

    running: RunningStack
    store: Store
    settings: Settings

    @property
    def port(self) -> int:
        return urlsplit(self.running.base_url).port or 0

    def caller(self, **options: Any) -> ApiCaller:
        return new_caller(self.store, self.settings, **options)


def start_stack(
    extra_env: dict[str, str] | None = None, args: list[str] | None = None, timeout_s: float = 60
) -> RunningStack:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "codegateway.cli", "dev", "--port", str(port), *(args or [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    lines: list[str] = []
    exports: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    assert process.stdout is not None
    while len(exports) < 3:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("cgw dev did not start:\n" + "".join(lines))
        line = process.stdout.readline()
        lines.append(line)
        match = re.fullmatch(r"export (\w+)=(\S+)\n", line)
        if match:
            exports[match.group(1)] = match.group(2)
    emulator = re.search(r"emulator at (http://127\.0\.0\.1:\d+)", lines[0])
    admin = re.search(r"Admin API on (http://127\.0\.0\.1:\d+)", "".join(lines))
    stack = RunningStack(
        process=process,
        base_url=exports["ANTHROPIC_BASE_URL"],
        api_key=exports["ANTHROPIC_API_KEY"],
        dynamodb_endpoint=exports["CGW_DYNAMODB_ENDPOINT"],
        upstream_line=lines[0],
        emulator_url=emulator.group(1) if emulator else None,
        admin_url=admin.group(1) if admin else None,
        output=lines,
    )
    _drain_in_background(process, lines)
    _wait_healthy(stack.base_url)
    return stack


def _drain_in_background(process: subprocess.Popen[str], lines: list[str]) -> None:
    import threading

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=drain, daemon=True).start()


def _wait_healthy(base_url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{base_url}/healthz never answered")
