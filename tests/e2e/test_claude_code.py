"""Claude Code itself, pointed at the local stack, as a user would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from codegateway.dev.emulator_script import DEFAULT_TEXT
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

_LOCAL_BIN = Path(__file__).parent / "node_modules" / ".bin" / "claude"


def _claude_binary() -> str | None:
    candidate = os.environ.get("CLAUDE_BIN") or (str(_LOCAL_BIN) if _LOCAL_BIN.exists() else shutil.which("claude"))
    return candidate if candidate and Path(candidate).exists() else None


CLAUDE = _claude_binary()
needs_claude = pytest.mark.skipif(
    CLAUDE is None,
    reason="Claude Code binary not installed: run `make e2e` (npm install @anthropic-ai/claude-code)",
)


def _run_claude(
    stack: RunningStack, credentials: dict[str, str], prompt: str = "say hi"
) -> subprocess.CompletedProcess[str]:
    assert CLAUDE is not None
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "ANTHROPIC_BASE_URL": stack.base_url,
            # Newer Claude Code releases default to models the catalog does not price yet.
            "ANTHROPIC_MODEL": "claude-opus-4-8",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            **credentials,
        }
        return subprocess.run(
            [CLAUDE, "--print", prompt],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )


@needs_claude
def test_claude_print_shows_the_emulators_text_through_the_gateway(stack: RunningStack) -> None:
    result = _run_claude(stack, {"ANTHROPIC_API_KEY": stack.api_key})
    assert result.returncode == 0, result.stderr + result.stdout
    assert DEFAULT_TEXT in result.stdout


@needs_claude
def test_claude_with_a_bearer_token_works_too(stack: RunningStack) -> None:
    result = _run_claude(stack, {"ANTHROPIC_AUTH_TOKEN": stack.api_key})
    assert result.returncode == 0, result.stderr + result.stdout
    assert DEFAULT_TEXT in result.stdout


@needs_claude
def test_claude_shows_the_gateways_error_for_a_bad_key(stack: RunningStack) -> None:
    result = _run_claude(stack, {"ANTHROPIC_API_KEY": "sk-cg-0000000000000000_" + "x" * 43})
    assert result.returncode != 0
    assert "Invalid API key" in result.stdout + result.stderr
