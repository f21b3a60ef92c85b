"""Claude Code's local state: a stale claude.ai login or a refused key while a base URL is set (the /login loop)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegateway.doctor import fixes
from codegateway.doctor.checks_claude import check_claude_login
from codegateway.doctor.claude_state import read_claude_state
from codegateway.doctor.facts import ClaudeState
from codegateway.doctor.report import Status

NOW_MS = 1_800_000_000_000
KEY = "sk-cg-0123456789abcdef_" + "s" * 43


@pytest.mark.parametrize(
    ("state", "base_url_set", "status", "fix"),
    [
        (ClaudeState(), True, Status.passed, ""),
        (ClaudeState(has_login=True, login_expires_ms=NOW_MS - 1), False, Status.passed, ""),
        (ClaudeState(has_login=True, login_expires_ms=NOW_MS - 1), True, Status.fail, fixes.LOGIN_LOOP),
        (ClaudeState(has_login=True, login_expires_ms=NOW_MS + 60_000), True, Status.warn, fixes.LOGIN_LOOP),
        (ClaudeState(has_login=True), True, Status.warn, fixes.LOGIN_LOOP),
        (ClaudeState(key_rejected=True, config_path="/h/.claude.json"), True, Status.fail, fixes.KEY_REJECTED),
    ],
)
def test_a_stale_login_beside_a_base_url_is_the_login_loop(
    state: ClaudeState, base_url_set: bool, status: Status, fix: str
) -> None:
    check = check_claude_login(state, base_url_set=base_url_set, now_ms=NOW_MS)
    assert (check.status, check.fix) == (status, fix)


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_the_state_is_read_from_claude_codes_files_without_keeping_a_token(tmp_path: Path) -> None:
    _write(
        tmp_path / ".claude" / ".credentials.json",
        {"claudeAiOauth": {"accessToken": "sk-ant-oat01-SECRET", "expiresAt": NOW_MS - 5}},
    )
    _write(tmp_path / ".claude.json", {"customApiKeyResponses": {"approved": [], "rejected": [KEY[-20:]]}})
    state = read_claude_state({}, tmp_path, KEY)
    assert state.has_login and state.login_expires_ms == NOW_MS - 5 and state.key_rejected
    assert "SECRET" not in repr(state)


def test_claude_config_dir_moves_both_files(tmp_path: Path) -> None:
    _write(tmp_path / "cfg" / ".claude.json", {"oauthAccount": {"emailAddress": "a@example.com"}})
    state = read_claude_state({"CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}, tmp_path, None)
    assert state.has_login and state.login_expires_ms is None


def test_no_files_means_no_login(tmp_path: Path) -> None:
    assert read_claude_state({}, tmp_path, KEY) == ClaudeState()


def test_a_broken_file_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / ".claude.json").write_text("{not json")
    state = read_claude_state({}, tmp_path, KEY)
    assert state.unreadable
    assert check_claude_login(state, base_url_set=True, now_ms=NOW_MS).status is Status.warn
