"""Claude Code itself, pointed at the local stack, as a user would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from codegateway.dev.emulator_script import DEFAULT_TEXT
from codegateway.settings import Settings
from codegateway.store import Store
from tests.support.accounts import new_caller
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
    stack: RunningStack,
    credentials: dict[str, str],
    prompt: str = "say hi",
    *,
    args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    home: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    if home is not None:
        return _run_claude_in(home, stack, credentials, prompt, args, extra_env or {})
    with tempfile.TemporaryDirectory() as temporary_home:
        return _run_claude_in(Path(temporary_home), stack, credentials, prompt, args, extra_env or {})


def _run_claude_in(
    home: Path,
    stack: RunningStack,
    credentials: dict[str, str],
    prompt: str,
    args: tuple[str, ...],
    extra_env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    assert CLAUDE is not None
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": stack.base_url,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        **credentials,
        **extra_env,
    }
    return subprocess.run(
        [CLAUDE, "--print", *args, prompt],
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


# Every request Claude Code sends reports this usage (the emulator's knob, passed on by the gateway).
# Every class given: the emulator fills the classes a knob leaves out from its prompt-cache model.
USAGE_KNOB = "input=1000,output=100,cache_read=20000,cache_write_5m=0,cache_write_1h=0"
# 1,000 input + 100 output + 20,000 cache reads, at each model's list prices, x 1.5 (a starter account).
EXPECTED_COST_USD = {
    # 1,000 x $4 + 100 x $20 + 20,000 x $0.20 per MTok = $0.01 -> $0.015
    "claude-opus-5-5": "0.015",
    # 1,000 x $2 + 100 x $10 + 20,000 x $0.10 (the rate since 2026-10-07) = $0.005 -> $0.0075
    "claude-sonnet-5-5": "0.0075",
    # Haiku 5.5, prompt 21,000 (low band): 1,000 x $0.10 + 100 x $0.50 + 20,000 x $0.01 = $0.00035 -> $0.000525
    "claude-haiku-5-5": "0.000525",
    # Haiku 4.5 (what pricing.md says `haiku` means behind a gateway): $0.001 + $0.0005 + $0.002 -> $0.00525
    "claude-haiku-4-5": "0.00525",
    # 1,000 x $8 + 100 x $40 + 20,000 x $0.20 = $0.016 -> $0.024
    "claude-fable-5-2": "0.024",
}


def _records_of_a_run(
    stack: RunningStack, store: Store, settings: Settings, args: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    caller = new_caller(store, settings)
    result = _run_claude(
        stack,
        {"ANTHROPIC_API_KEY": caller.api_key},
        args=args,
        extra_env={"ANTHROPIC_CUSTOM_HEADERS": f"x-emulator-usage: {USAGE_KNOB}"},
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert DEFAULT_TEXT in result.stdout
    usage: list[dict[str, Any]] = httpx.get(
        f"{stack.base_url}/v1/account/usage", headers={"x-api-key": caller.api_key}
    ).json()["data"]
    assert usage, "Claude Code's request left no usage record"
    return usage


@needs_claude
@pytest.mark.parametrize(
    ("args", "models"),
    [
        ((), {"claude-opus-5-5"}),
        (("--model", "sonnet"), {"claude-sonnet-5-5"}),
        (("--model", "haiku"), {"claude-haiku-5-5", "claude-haiku-4-5"}),
        (("--model", "fable"), {"claude-fable-5-2"}),
    ],
    ids=["default", "sonnet", "haiku", "fable"],
)
def test_claude_codes_models_are_served_and_billed_at_their_own_rates(
    stack: RunningStack, store: Store, stack_settings: Settings, args: tuple[str, ...], models: set[str]
) -> None:
    records = _records_of_a_run(stack, store, stack_settings, args)
    for record in records:
        assert record["model"] in models, record
        assert record["priced_as"] is None
        assert record["cost_usd"] == EXPECTED_COST_USD[record["model"]], record


@needs_claude
def test_claude_codes_fast_mode_is_billed_at_the_fast_rate(
    stack: RunningStack, store: Store, stack_settings: Settings
) -> None:
    # Claude Code 2.1.3xx turns fast on from its settings (`/fast` writes "fastMode": true); it then
    # sends "speed": "fast" and the emulator, like the API, reports usage.speed "fast".
    records = _records_of_a_run(stack, store, stack_settings, ("--settings", '{"fastMode": true}'))
    (record,) = [record for record in records if record["model"] == "claude-opus-5-5"]
    # Opus 5.5 at 2x: $0.01 x 2 = $0.02 -> $0.03
    assert (record["speed"], record["cost_usd"]) == ("fast", "0.03")


@needs_claude
def test_claude_codes_model_discovery_lists_todays_models_newest_first(stack: RunningStack, tmp_path: Path) -> None:
    # With CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1 Claude Code reads GET /v1/models?limit=1000 at
    # start-up and keeps the models its picker offers in ~/.claude/cache/gateway-models.json.
    result = _run_claude(
        stack,
        {"ANTHROPIC_API_KEY": stack.api_key},
        extra_env={"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"},
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    cached = json.loads((tmp_path / ".claude" / "cache" / "gateway-models.json").read_text())
    models = [(model["id"], model["display_name"]) for model in cached["models"]]
    assert models[:5] == [
        ("claude-fable-5-2", "Claude Fable 5.2"),
        ("claude-mythos-5-2", "Claude Mythos 5.2"),
        ("claude-haiku-5-5", "Claude Haiku 5.5"),
        ("claude-sonnet-5-5", "Claude Sonnet 5.5"),
        ("claude-opus-5-5", "Claude Opus 5.5"),
    ]
    assert "claude-opus-4-1" not in {model_id for model_id, _ in models}  # retired: not offered
