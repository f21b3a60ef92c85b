"""What a check says: its name, pass / warn / fail, what it measured, and (unless it passed) the fix."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


class Status(enum.StrEnum):
    passed = "pass"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    value: str
    fix: str = ""


def passed(name: str, value: str) -> Check:
    return Check(name, Status.passed, value)


def warn(name: str, value: str, fix: str) -> Check:
    return Check(name, Status.warn, value, fix)


def fail(name: str, value: str, fix: str) -> Check:
    return Check(name, Status.fail, value, fix)


def exit_code(checks: Sequence[Check]) -> int:
    """0 when nothing failed (warnings included), else 1."""
    return 1 if any(check.status is Status.fail for check in checks) else 0


def as_json(checks: Sequence[Check]) -> dict[str, Any]:
    return {"checks": [{**asdict(check), "status": check.status.value} for check in checks]}
