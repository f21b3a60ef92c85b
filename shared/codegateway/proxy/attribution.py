"""Attribution ids callers send (Claude Code's session and agent ids): kept only when they look like
ids. No I/O.

Claude Code sends `x-claude-code-session-id` (a UUID) and, on subagent requests,
`x-claude-code-agent-id` / `x-claude-code-parent-agent-id` (docs/reference/claude-code-wire.md).
Any caller can put any text there, and it is stored with the usage record and shown in listings and
the CSV export: a formula, a URL, control characters or a 1 MB value must not land there. The
session id and the (subagent) agent id are stored.
"""

from __future__ import annotations

import re

SESSION_ID_HEADER = "x-claude-code-session-id"
AGENT_ID_HEADER = "x-claude-code-agent-id"

# UUIDs, ULIDs, `agent_01...`-style ids and dotted/colon-separated ids: letters, digits, `_.:-`, at
# most 128 characters, and the first one a letter or digit (so no cell can start a formula with `-`).
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def attribution_id(value: str | None) -> str | None:
    """`value` if it looks like an id, else None (the record is kept, without the attribution)."""
    if value is None or len(value) > 128 or not _ID_RE.fullmatch(value):
        return None
    return value
