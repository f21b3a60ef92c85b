"""Read Claude Code's local files (~/.claude/.credentials.json, ~/.claude.json) down to a ClaudeState.
Only whether a login exists and when it expires is kept: never a token, never a key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codegateway.doctor.facts import ClaudeState

# Claude Code remembers the last 20 characters of each key it was told to use or not to use.
KEY_SUFFIX_CHARS = 20


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def read_claude_state(environ: Mapping[str, str], home: Path, key: str | None) -> ClaudeState:
    config_dir = Path(environ["CLAUDE_CONFIG_DIR"]) if environ.get("CLAUDE_CONFIG_DIR") else home / ".claude"
    credentials_path = config_dir / ".credentials.json"
    config_path = config_dir / ".claude.json" if environ.get("CLAUDE_CONFIG_DIR") else home / ".claude.json"
    try:
        credentials = _read_json(credentials_path) or {}
        config = _read_json(config_path) or {}
    except (OSError, ValueError) as error:
        return ClaudeState(unreadable=f"{type(error).__name__}: {error}")
    oauth = credentials.get("claudeAiOauth")
    expires = oauth.get("expiresAt") if isinstance(oauth, dict) else None
    responses = config.get("customApiKeyResponses")
    rejected = responses.get("rejected") if isinstance(responses, dict) else None
    suffix = key.strip()[-KEY_SUFFIX_CHARS:] if key else None
    return ClaudeState(
        credentials_path=str(credentials_path) if isinstance(oauth, dict) else None,
        has_login=isinstance(oauth, dict) or isinstance(config.get("oauthAccount"), dict),
        login_expires_ms=expires if isinstance(expires, int) else None,
        config_path=str(config_path) if config else None,
        key_rejected=bool(suffix and isinstance(rejected, list) and suffix in rejected),
    )
