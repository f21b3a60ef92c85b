"""Part 3: process start to the first 200 on /healthz, started exactly as Lambda starts the proxy
(run.sh: uvicorn --factory app:create_app), and where that time goes.

Every figure is the median of `runs` fresh processes. Bytecode is already compiled (the bench's own
proxy ran first), as in a deployed layer; a fresh Lambda sandbox also pays for a cold disk cache.
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from codegateway.dev.processes import free_port, stop
from tests.load.processes import PROXY_DIR, Upstream, proxy_env, start_proxy

RUNS = 5
TOP_IMPORTS = 15
TOP_PACKAGES = 10
POLL_INTERVAL_S = 0.002
TIMEOUT_S = 30.0

# What the proxy process does before it can answer, each step timed on its own in a fresh interpreter.
_PHASES = {
    "interpreter": "pass",
    "import uvicorn+uvloop+httptools": "import uvicorn, uvloop, httptools",
    "import app": "import app",
    "build_gateway (lifespan)": (
        "import app, time\n"
        "from codegateway.proxy.runtime import build_gateway\n"
        "from codegateway.settings import Settings\n"
        "started = time.perf_counter(); build_gateway(Settings())\n"
        "print(time.perf_counter() - started)"
    ),
}


@dataclass
class ImportLine:
    module: str
    self_ms: float
    cumulative_ms: float


@dataclass
class ColdStart:
    to_healthz_s: list[float] = field(default_factory=list)
    phases_s: dict[str, float] = field(default_factory=dict)
    top_imports: list[ImportLine] = field(default_factory=list)
    # Each top-level package's own import time (sum of its modules' self time): what trimming one saves.
    packages_ms: dict[str, float] = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return statistics.median(self.to_healthz_s)


def _first_healthz_200(port: int, process: subprocess.Popen[bytes], started: float) -> float:
    while time.perf_counter() - started < TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited with {process.returncode} before answering /healthz")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return time.perf_counter() - started
        except OSError:
            time.sleep(POLL_INTERVAL_S)
        finally:
            connection.close()
    raise RuntimeError(f"no 200 on /healthz within {TIMEOUT_S:.0f} s")


def time_to_first_healthz(dynamodb_endpoint: str, upstream: Upstream) -> float:
    port = free_port()
    env = proxy_env(dynamodb_endpoint, upstream, port)
    started = time.perf_counter()
    process = start_proxy(env)
    try:
        return _first_healthz_200(port, process, started)
    finally:
        stop(process)


def _python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "-c", code], cwd=PROXY_DIR, env=env, capture_output=True, text=True, check=True
    )


def _phase_seconds(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    output = _python(code, env).stdout.strip()
    wall_s = time.perf_counter() - started
    return float(output) if output else wall_s


def startup_phases(dynamodb_endpoint: str, upstream: Upstream, runs: int = RUNS) -> dict[str, float]:
    """Median wall time of each step in a fresh interpreter (imports include the interpreter's start)."""
    env = proxy_env(dynamodb_endpoint, upstream, 0)
    env["PYTHONPATH"] = str(PROXY_DIR)
    return {name: statistics.median(_phase_seconds(code, env) for _ in range(runs)) for name, code in _PHASES.items()}


def parse_importtime(stderr: str) -> list[ImportLine]:
    """`-X importtime` lines: 'import time: <self us> | <cumulative us> | <indented module>'."""
    lines = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, module = line.removeprefix("import time:").split("|", 2)
        lines.append(ImportLine(module.strip(), int(self_us) / 1000, int(cumulative_us) / 1000))
    return lines


def import_lines() -> list[ImportLine]:
    env = proxy_env("http://127.0.0.1:1", Upstream("http://127.0.0.1:1", "unused"), 0)
    env["PYTHONPATH"] = str(PROXY_DIR)
    return parse_importtime(_python("import app", env, "-X", "importtime").stderr)


def top_by_cumulative(lines: list[ImportLine], top: int = TOP_IMPORTS) -> list[ImportLine]:
    return sorted(lines, key=lambda line: line.cumulative_ms, reverse=True)[:top]


def self_ms_by_package(lines: list[ImportLine], top: int = TOP_PACKAGES) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in lines:
        package = line.module.split(".")[0]
        totals[package] = totals.get(package, 0.0) + line.self_ms
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]
    return {package: round(ms, 1) for package, ms in ranked}


def measure_cold_start(dynamodb_endpoint: str, upstream: Upstream, runs: int = RUNS) -> ColdStart:
    result = ColdStart()
    for _ in range(runs):
        result.to_healthz_s.append(time_to_first_healthz(dynamodb_endpoint, upstream))
    result.phases_s = startup_phases(dynamodb_endpoint, upstream, runs)
    lines = import_lines()
    result.top_imports = top_by_cumulative(lines)
    result.packages_ms = self_ms_by_package(lines)
    return result
