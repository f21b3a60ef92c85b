"""`make smoke` passes against the local stack (cgw dev with the upstream emulator), run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.stack import RunningStack

SMOKE = Path(__file__).with_name("smoke.py")


def _run_smoke(*args: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SMOKE), *args],
        env={**os.environ, "CGW_SMOKE_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_smoke_checks_pass_against_a_working_gateway(stack: RunningStack) -> None:
    result = _run_smoke("--url", stack.base_url, key=stack.api_key)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["ok", "healthz"], ["ok", "stream"], ["ok", "usage"]]
    assert stack.api_key not in result.stdout + result.stderr


def test_smoke_fails_clearly_with_a_wrong_key(stack: RunningStack) -> None:
    result = _run_smoke("--url", stack.base_url, key="sk-cg-unknown_" + "x" * 43)
    assert result.returncode == 1
    assert "ok    healthz" in result.stdout
    assert "FAIL  stream   POST /v1/messages answered 401" in result.stdout


def test_smoke_flags_a_function_url_that_serves_requests_without_the_origin_header(stack: RunningStack) -> None:
    # The local stack has no edge: its URL stands in for a Function URL that forgot the origin check.
    result = _run_smoke("--url", stack.base_url, "--direct-url", stack.base_url, key=stack.api_key)
    assert result.returncode == 1
    assert "FAIL  origin   the Function URL answered 200" in result.stdout
