"""The local stack's outbox is its output: read the codes it printed."""

from __future__ import annotations

import re
import time

from tests.support.stack import RunningStack


def printed_code(stack: RunningStack, email: str, after_line: int = 0, timeout_s: float = 5) -> str:
    """The newest `verification code for EMAIL: NNNNNN` printed after line `after_line`."""
    pattern = re.compile(rf"verification code for {re.escape(email)}: (\d{{6}})")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        codes = [match.group(1) for line in stack.output[after_line:] if (match := pattern.search(line))]
        if codes:
            return codes[-1]
        time.sleep(0.05)
    raise AssertionError(f"no code printed for {email}")
