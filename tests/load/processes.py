"""The bench's own stack: moto's DynamoDB, the emulator and the proxy, each a child process on a free
loopback port. The proxy is started exactly as Lambda starts it (functions/proxy/run.sh), so what is
timed here is the deployed entry point, not a development server."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from codegateway.dev.processes import free_port, start_python_module, stop, wait_until_ready
from codegateway.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PROXY_DIR = REPO / "functions" / "proxy"
RUN_SH = PROXY_DIR / "run.sh"


@dataclass
class Upstream:
    url: str
    api_key: str


def proxy_env(dynamodb_endpoint: str, upstream: Upstream, port: int, task_root: Path = PROXY_DIR) -> dict[str, str]:
    """The environment run.sh sees under Lambda, pointed at the bench's DynamoDB and emulator."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CGW_")}
    env.update(
        # run.sh calls `python`: this interpreter's, with the project installed.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        LAMBDA_TASK_ROOT=str(task_root),
        AWS_LWA_PORT=str(port),
        CGW_DYNAMODB_ENDPOINT=dynamodb_endpoint,
        CGW_UPSTREAM_URL=upstream.url,
        CGW_UPSTREAM_API_KEY=upstream.api_key,
        # As template.yaml deploys it: EMF metrics in each request's log line, whose CPU
        # is part of every request's.
        CGW_EMIT_METRICS="true",
    )
    return env


def start_proxy(env: dict[str, str], output: IO[bytes] | int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """run.sh `exec`s python, so the child's pid is the proxy's own (its /proc/PID/stat is the proxy's)."""
    return subprocess.Popen(
        ["/bin/sh", str(RUN_SH)],
        cwd=env["LAMBDA_TASK_ROOT"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )


def die_with_parent() -> None:
    # Linux: the proxy gets SIGTERM if the bench dies, even by SIGKILL (no orphan left on a port).
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class BenchStack:
    """Starts the pieces one by one; `stop()` ends every process it started, newest first."""

    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    dynamodb_endpoint: str = ""
    upstream: Upstream | None = None
    proxy_url: str = ""
    proxy_process: subprocess.Popen[bytes] | None = None
    # Each process's pid by role, for CPU readings: dynamodb, emulator, proxy, ...
    pids: dict[str, int] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start_dynamodb(self, stock_moto: bool = False) -> str:
        port = free_port()
        stock = ["--stock"] if stock_moto else []
        process = start_python_module(["codegateway.dev.dynamodb_server", "--port", str(port), *stock])
        self.processes.append(process)
        self.pids["dynamodb"] = process.pid
        self.dynamodb_endpoint = f"http://127.0.0.1:{port}"
        wait_until_ready(self.dynamodb_endpoint + "/moto-api/", process)
        return self.dynamodb_endpoint

    def start_emulator(self) -> Upstream:
        port = free_port()
        api_key = "sk-emulator-" + secrets.token_urlsafe(16)
        process = start_python_module(["codegateway.dev.emulator_server", "--port", str(port), "--api-key", api_key])
        self.processes.append(process)
        self.pids["emulator"] = process.pid
        self.upstream = Upstream(f"http://127.0.0.1:{port}", api_key)
        wait_until_ready(self.upstream.url + "/healthz", process)
        return self.upstream

    def start_proxy(self) -> str:
        assert self.upstream is not None and self.dynamodb_endpoint
        port = free_port()
        log = self.open_log("proxy.log")
        process = start_proxy(proxy_env(self.dynamodb_endpoint, self.upstream, port), output=log)
        self.processes.append(process)
        self.pids["proxy"] = process.pid
        self.proxy_process = process
        self.proxy_url = f"http://127.0.0.1:{port}"
        wait_until_ready(self.proxy_url + "/healthz", process)
        return self.proxy_url

    def start_proxy_on_instant_dynamodb(self) -> tuple[str, int]:
        """The same run.sh, pointed at tests/load/instant_dynamodb.py in front of moto (make profile)."""
        assert self.upstream is not None and self.dynamodb_endpoint
        stand_in_port = free_port()
        stand_in = start_python_module(["tests.load.instant_dynamodb", self.dynamodb_endpoint, str(stand_in_port)])
        self.processes.append(stand_in)
        stand_in_url = f"http://127.0.0.1:{stand_in_port}"
        wait_until_ready(stand_in_url + "/moto-api/", stand_in)
        port = free_port()
        process = start_proxy(
            proxy_env(stand_in_url, self.upstream, port), output=self.open_log("proxy-instant-dynamodb.log")
        )
        self.processes.append(process)
        self.pids["proxy-instant-dynamodb"] = process.pid
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url + "/healthz", process)
        return url, process.pid

    def start_in_memory_proxy(self) -> tuple[str, subprocess.Popen[bytes]]:
        """The same run.sh, whose `app` module serves the proxy on an in-memory store (in_memory_store.py)."""
        assert self.upstream is not None and self.dynamodb_endpoint
        task_root = self.log_dir / "in-memory-proxy"
        task_root.mkdir(parents=True, exist_ok=True)
        (task_root / "app.py").write_text("from tests.load.in_memory_store import create_app\n")
        port = free_port()
        env = proxy_env(self.dynamodb_endpoint, self.upstream, port, task_root)
        env["PYTHONPATH"] = str(REPO)
        process = start_proxy(env, output=self.open_log("proxy-in-memory.log"))
        self.processes.append(process)
        self.pids["proxy-in-memory"] = process.pid
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url + "/healthz", process)
        return url, process

    def set_emulator_defaults(self, knobs: dict[str, str]) -> None:
        """Knobs the emulator applies to every later request (PUT /_emulator/defaults; {} resets them)."""
        assert self.upstream is not None
        request = urllib.request.Request(
            self.upstream.url + "/_emulator/defaults", data=json.dumps(knobs).encode(), method="PUT"
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()

    def dynamodb_stats(self) -> dict[str, Any] | None:
        """Requests served and seconds the lock was held (codegateway.dev.dynamodb_server's /_stats)."""
        try:
            with urllib.request.urlopen(self.dynamodb_endpoint + "/_stats", timeout=5) as answer:
                stats = json.loads(answer.read())
        except (OSError, ValueError):
            return None
        return stats if isinstance(stats, dict) and "busy_s" in stats else None

    def settings(self) -> Settings:
        """The same settings the proxy reads from its environment (table names, endpoint)."""
        return Settings(dynamodb_endpoint=self.dynamodb_endpoint)

    def open_log(self, name: str) -> IO[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / name).open("wb")
        self._logs.append(log)
        return log

    def adopt(self, role: str, process: subprocess.Popen[bytes]) -> None:
        """A process started elsewhere (LiteLLM's proxy) that must stop with the stack."""
        self.processes.append(process)
        self.pids[role] = process.pid

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)
        for log in self._logs:
            log.close()
