"""Session and agent ids are stored only when they look like ids."""

from __future__ import annotations

import pytest

from codegateway.proxy.attribution import attribution_id


@pytest.mark.parametrize(
    "value",
    [
        "3f0c1c9e-5f3b-4d59-9b57-2f6f3c1d9a10",  # Claude Code's session id: a UUID
        "agent_01HZX8Q2J4K5M6N7P8Q9R0S1T2",
        "01HZX8Q2J4K5M6N7P8Q9R0S1T2",
        "team.build:42",
        "a" * 128,
    ],
)
def test_ids_claude_code_sends_are_kept_as_they_are(value: str) -> None:
    assert attribution_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "has space",
        "line\nbreak",
        "http://evil.example/x",
        "ünïcode",
        "a" * 129,
        "a" * (1024 * 1024),
    ],
    ids=["none", "empty", "formula", "plus", "minus", "at", "tab", "space", "newline", "url", "unicode", "129", "1mb"],
)
def test_anything_else_is_dropped_not_truncated(value: str | None) -> None:
    assert attribution_id(value) is None
