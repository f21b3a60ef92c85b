"""Claude Code's local state: a stale claude.ai login or a refused key behind a gateway (the /login loop). Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from codegateway.doctor import fixes
from codegateway.doctor.facts import ClaudeState
from codegateway.doctor.report import Check, fail, passed, warn


def check_claude_login(state: ClaudeState, *, base_url_set: bool, now_ms: int) -> Check:
    name = "claude.login"
    if state.unreadable:
        return warn(name, f"cannot read Claude Code's files: {state.unreadable}", fixes.LOGIN_LOOP)
    if state.key_rejected:
        return fail(name, f"this key is in customApiKeyResponses.rejected ({state.config_path})", fixes.KEY_REJECTED)
    if not state.has_login:
        return passed(name, "no claude.ai login stored: Claude Code uses the key")
    where = state.credentials_path or state.config_path or "~/.claude"
    if not base_url_set:
        return passed(name, f"claude.ai login in {where} (no base URL set: not in the way)")
    if state.login_expires_ms is not None and state.login_expires_ms < now_ms:
        expired = datetime.fromtimestamp(state.login_expires_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return fail(name, f"stale claude.ai login in {where} (expired {expired}) beside a base URL", fixes.LOGIN_LOOP)
    return warn(name, f"claude.ai login in {where} beside a base URL", fixes.LOGIN_LOOP)
