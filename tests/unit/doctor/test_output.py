"""How `cgw doctor` reads in a terminal: the status as a word (NO_COLOR and pipes lose nothing), the fix
under what did not pass, and nothing wider than the terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from codegateway.cli.doctor import print_check, summary
from codegateway.doctor import fixes
from codegateway.doctor.report import fail, passed, warn

CHECKS = [
    passed("env.base_url", "https://gateway.example.com"),
    warn("gateway.first_byte", "1400 ms to the first byte of a stream (over 1 s)", fixes.SLOW_FIRST_BYTE),
    fail("gateway.idle", "cut after 30.2 s of 65 s idle (3 pings): ECONNRESET", fixes.ECONNRESET_IDLE),
]


def _render(width: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, no_color=True, force_terminal=False, highlight=False)
    for check in CHECKS:
        print_check(console, check)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 80, 120])
def test_every_line_fits_the_terminal_and_says_the_status_in_words(width: int) -> None:
    text = _render(width)
    assert all(len(line) <= width for line in text.splitlines())
    assert "\x1b[" not in text
    for word, name in (("pass", "env.base_url"), ("warn", "gateway.first_byte"), ("fail", "gateway.idle")):
        assert any(line.startswith(word) and name in line for line in text.splitlines())


@pytest.mark.parametrize("width", [40, 80])
def test_the_fix_is_printed_whole_for_what_did_not_pass(width: int) -> None:
    flat = " ".join(_render(width).split())
    assert " ".join(("fix: " + fixes.ECONNRESET_IDLE).split()) in flat
    assert " ".join(fixes.SLOW_FIRST_BYTE.split()) in flat
    assert flat.count("fix:") == 2


def test_a_url_is_never_broken_across_lines() -> None:
    assert "https://gateway.example.com" in _render(40)


def test_the_summary_counts_and_suggests_the_idle_check() -> None:
    assert summary(CHECKS[:2], idle_run=False).startswith("1 passed, 1 warning, 0 failed.")
    assert "--idle" in summary(CHECKS[:2], idle_run=False)
    assert "--idle" not in summary(CHECKS, idle_run=False)
