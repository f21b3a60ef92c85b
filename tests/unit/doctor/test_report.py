"""What `cgw doctor` exits with and prints for scripts."""

from __future__ import annotations

from codegateway.doctor.report import Status, as_json, exit_code, fail, passed, warn


def test_warnings_exit_0_and_any_failure_exits_1() -> None:
    assert exit_code([]) == 0
    assert exit_code([passed("a", "1"), warn("b", "2", "fix b")]) == 0
    assert exit_code([passed("a", "1"), fail("c", "3", "fix c")]) == 1


def test_json_has_name_status_value_and_fix_for_every_check() -> None:
    report = as_json([passed("a", "1"), fail("c", "3", "fix c")])
    assert report == {
        "checks": [
            {"name": "a", "status": "pass", "value": "1", "fix": ""},
            {"name": "c", "status": "fail", "value": "3", "fix": "fix c"},
        ]
    }
    assert {check["status"] for check in report["checks"]} <= {status.value for status in Status}
