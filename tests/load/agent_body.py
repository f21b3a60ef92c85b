"""A Claude Code-shaped Messages request of about 89.5 KB, built the same way every time.

The shape follows docs/reference/claude-code-wire.md: `?beta=true`, Claude Code's headers, a `system`
array whose first block is the attribution block and whose next two carry 1-hour `cache_control`
breakpoints, 30 tools (Claude Code's own and MCP ones) with JSON schemas, and a tool-using history
whose last user block is the third breakpoint. The text is filler from a fixed vocabulary; only its
size and structure matter to a proxy (parsing, the hold estimate, copying, forwarding).
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.load.streams import MODEL

BODY_BYTES = 89_500
QUERY = "?beta=true"
HEADERS = {
    "anthropic-beta": (
        "claude-code-20250219,interleaved-thinking-2025-05-14,extended-cache-ttl-2025-04-11,"
        "context-management-2025-06-27"
    ),
    "anthropic-dangerous-direct-browser-access": "true",
    "x-app": "cli",
    "user-agent": "claude-cli/2.1.197 (external, sdk-cli)",
    "x-claude-code-session-id": "5f0c2d7e-8a41-4b6e-9d3a-0c1f2e3d4b5a",
}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}

_VOCABULARY = (
    "the tool reads a file from the repository and returns its contents with line numbers so that later "
    "edits can quote exact text when a command fails report the error and the exit status instead of "
    "guessing prefer small focused changes keep tests passing never commit secrets run the linter before "
    "finishing use absolute paths quote arguments that contain spaces search before reading whole "
    "directories summarise what changed and why"
)
_WORDS = tuple(_VOCABULARY.split())
_TOOL_LIST = (
    "Task Bash Glob Grep ExitPlanMode Read Edit Write NotebookEdit WebFetch TodoWrite WebSearch "
    "BashOutput KillShell SlashCommand Skill AskUserQuestion MultiEdit mcp__ide__getDiagnostics "
    "mcp__ide__executeCode mcp__github__get_file_contents mcp__github__create_issue "
    "mcp__github__create_pull_request mcp__github__list_commits mcp__github__search_code "
    "mcp__playwright__browser_navigate mcp__playwright__browser_click mcp__playwright__browser_snapshot "
    "mcp__playwright__browser_type mcp__linear__create_issue"
)
_TOOL_NAMES = tuple(_TOOL_LIST.split())
# Description sizes in characters: Bash and Task carry long manuals in Claude Code, most tools a paragraph.
_DESCRIPTION_CHARS = {"Bash": 6_000, "Task": 3_500, "TodoWrite": 3_000, "Read": 1_500, "Edit": 1_200, "Grep": 1_400}


def prose(seed: int, chars: int) -> str:
    """Deterministic sentences of about `chars` characters."""
    words: list[str] = []
    size = 0
    state = seed
    while size < chars:
        state = (state * 1_103_515_245 + 12_345) % 2**31  # a linear congruential generator: same text every run
        word = _WORDS[(state >> 16) % len(_WORDS)]
        if len(words) % 13 == 12:
            word += "."
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:chars]


def _code(seed: int, lines: int) -> str:
    """Line-numbered Python-looking text, as the Read tool returns a file."""
    rows = []
    for number in range(1, lines + 1):
        name = _WORDS[(number * 5 + seed) % len(_WORDS)]
        rows.append(f"{number:6d}\t    {name}_nano = settle({name}, hold_nano={number * 1000}, clock=clock)")
    return "\n".join(rows)


def _tool(position: int, name: str) -> dict[str, Any]:
    properties = {
        f"{_WORDS[(position + n) % len(_WORDS)]}_{n}": {
            "type": "string" if n % 3 else "integer",
            "description": prose(position * 31 + n, 90),
        }
        for n in range(4 + position % 4)
    }
    return {
        "name": name,
        "description": prose(position, _DESCRIPTION_CHARS.get(name, 300 + 20 * position)),
        "input_schema": {
            "type": "object",
            "properties": properties,
            "required": sorted(properties)[:2],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    }


def _tool_use(turn: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_01{turn:022d}", "name": name, "input": arguments}


def _tool_result(turn: int, text: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": f"toolu_01{turn:022d}", "content": text}


def _messages(file_lines: int) -> list[dict[str, Any]]:
    reminder = "<system-reminder>\nContents of /repo/CLAUDE.md:\n" + prose(101, 3_000) + "\n</system-reminder>"
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": reminder},
                {"type": "text", "text": "The settlement test is flaky on CI. Find out why and fix it."},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "I'll look for the settlement tests first."},
                _tool_use(1, "Grep", {"pattern": "def test_settle", "path": "/repo/tests", "output_mode": "content"}),
            ],
        },
        {"role": "user", "content": [_tool_result(1, prose(202, 1_500))]},
        {"role": "assistant", "content": [_tool_use(2, "Read", {"file_path": "/repo/shared/proxy/settlement.py"})]},
        {"role": "user", "content": [_tool_result(2, _code(3, file_lines))]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": prose(303, 400)},
                _tool_use(
                    3,
                    "Edit",
                    {
                        "file_path": "/repo/shared/proxy/settlement.py",
                        "old_string": prose(7, 300),
                        "new_string": prose(8, 320),
                    },
                ),
            ],
        },
        {"role": "user", "content": [_tool_result(3, "The file /repo/shared/proxy/settlement.py has been updated.")]},
        {
            "role": "assistant",
            "content": [_tool_use(4, "Bash", {"command": "make unit", "description": "Run the unit tests"})],
        },
        {
            "role": "user",
            "content": [
                _tool_result(4, prose(404, 2_500)),
                {
                    "type": "text",
                    "text": "<system-reminder>\nThe todo list: " + prose(505, 600) + "\n</system-reminder>",
                    "cache_control": ONE_HOUR,
                },
            ],
        },
    ]


def _payload(file_lines: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 32_000,
        "stream": True,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli"},
            {
                "type": "text",
                "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                "cache_control": ONE_HOUR,
            },
            {"type": "text", "text": prose(11, 14_000), "cache_control": ONE_HOUR},
        ],
        "tools": [_tool(position, name) for position, name in enumerate(_TOOL_NAMES)],
        "messages": _messages(file_lines),
        "metadata": {"user_id": "user_" + "0f" * 32 + "_account__session_5f0c2d7e-8a41-4b6e-9d3a-0c1f2e3d4b5a"},
        "thinking": {"type": "enabled", "budget_tokens": 31_999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    }


def agent_body(target_bytes: int = BODY_BYTES) -> bytes:
    """The body as Claude Code sends it (compact JSON), its file read grown until it reaches `target_bytes`."""
    file_lines = 0
    body = orjson.dumps(_payload(file_lines))
    line_bytes = len(orjson.dumps(_code(3, 2))) - len(orjson.dumps(_code(3, 1)))
    file_lines = max(0, (target_bytes - len(body)) // line_bytes)
    body = orjson.dumps(_payload(file_lines))
    while len(body) < target_bytes:
        file_lines += 1
        body = orjson.dumps(_payload(file_lines))
    return body
