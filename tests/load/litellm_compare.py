"""Part 5: LiteLLM's proxy, in its own virtualenv (`make bench-compare`), pointed at the same emulator.

Configured with a master key and one model route only: no database (LiteLLM runs without one when
none is configured; virtual keys, spend tracking and budgets are then off). It serves Anthropic's
/v1/messages natively (its "unified" Messages endpoint; for an `anthropic/` model it relays the
provider's events as they come), so both proxies are timed on the same request and the same stream.
LiteLLM forwards no `x-emulator-*` header, which is why the overhead run uses the emulator's defaults.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codegateway.dev.processes import free_port, wait_until_ready
from tests.load.processes import REPO, Upstream, die_with_parent
from tests.load.streams import MODEL, Target

LITELLM_BIN = REPO / ".venv-litellm" / "bin" / "litellm"
START_TIMEOUT_S = 180.0


@dataclass
class LiteLLMProxy:
    target: Target
    process: subprocess.Popen[bytes]
    start_to_ready_s: float
    version: str


def config_yaml(upstream: Upstream, master_key: str) -> str:
    # The upstream key is a throwaway made for this run's emulator.
    return (
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: anthropic/{MODEL}\n"
        f"      api_base: {upstream.url}\n"
        f"      api_key: {upstream.api_key}\n"
        "general_settings:\n"
        f"  master_key: {master_key}\n"
    )


def installed_version() -> str:
    python = LITELLM_BIN.parent / "python"
    return subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def start_litellm(upstream: Upstream, work_dir: Path, log: IO[bytes]) -> LiteLLMProxy:
    if not LITELLM_BIN.exists():
        raise RuntimeError(f"{LITELLM_BIN} is missing: run `make bench-compare` (it creates .venv-litellm)")
    master_key = "sk-litellm-bench-" + secrets.token_hex(8)
    config = work_dir / "litellm-config.yaml"
    config.write_text(config_yaml(upstream, master_key))
    port = free_port()
    env = {
        **os.environ,
        # The model price map ships in the package; don't try to fetch a newer one at start-up.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
    }
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(LITELLM_BIN), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        cwd=work_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_ready(base_url + "/health/liveliness", process, timeout_s=START_TIMEOUT_S)
    target = Target("litellm", base_url + "/v1/messages", {"x-api-key": master_key})
    return LiteLLMProxy(target, process, time.perf_counter() - started, installed_version())
