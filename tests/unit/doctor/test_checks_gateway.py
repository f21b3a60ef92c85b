"""The gateway checks: redirects, the key, the balance, RPM headroom, the first byte and the idle stream."""

from __future__ import annotations

import pytest

from codegateway.doctor import fixes
from codegateway.doctor.checks_gateway import (
    check_balance,
    check_first_byte,
    check_idle,
    check_key,
    check_models,
    check_root,
    check_rpm_headroom,
    served_model_ids,
)
from codegateway.doctor.facts import HttpAnswer, StreamFacts
from codegateway.doctor.report import Status

ERROR_401 = {"type": "error", "error": {"type": "authentication_error", "message": "Invalid API key."}}
MODELS = {"data": [{"id": "claude-opus-4-8"}, {"id": "claude-sonnet-4-6"}]}


@pytest.mark.parametrize(
    ("answer", "status", "fix"),
    [
        (HttpAnswer(200, 0.003), Status.passed, ""),
        (HttpAnswer(301, location="https://gw.example.com/"), Status.fail, fixes.REDIRECT),
        (HttpAnswer(307, location="/login"), Status.fail, fixes.REDIRECT),
        (HttpAnswer(503), Status.fail, fixes.TRANSIENT_5XX),
        (HttpAnswer(404), Status.warn, fixes.NOT_A_GATEWAY),
        (HttpAnswer(error="ECONNRESET"), Status.fail, fixes.TRANSIENT_5XX),
    ],
)
def test_any_redirect_on_head_fails_as_claude_code_treats_it(answer: HttpAnswer, status: Status, fix: str) -> None:
    check = check_root(answer)
    assert (check.status, check.fix) == (status, fix)


def test_a_redirect_says_where_it_points() -> None:
    assert "https://gw.example.com/" in check_root(HttpAnswer(301, location="https://gw.example.com/")).value


@pytest.mark.parametrize(
    ("answer", "status", "fix"),
    [
        (HttpAnswer(200, body=MODELS), Status.passed, ""),
        (HttpAnswer(401, body=ERROR_401), Status.fail, fixes.WRONG_KEY_401),
        (HttpAnswer(403), Status.fail, fixes.SUSPENDED_403),
        (HttpAnswer(502), Status.fail, fixes.TRANSIENT_5XX),
    ],
)
def test_the_key_check_reads_the_models_answer(answer: HttpAnswer, status: Status, fix: str) -> None:
    check = check_key(answer, "sk-cg-0123456789abcdef_...")
    assert (check.status, check.fix) == (status, fix)


def test_the_models_check_counts_models_and_leaves_a_refused_key_to_the_key_check() -> None:
    assert served_model_ids(HttpAnswer(200, body=MODELS)) == ["claude-opus-4-8", "claude-sonnet-4-6"]
    check = check_models(HttpAnswer(200, body=MODELS))
    assert check is not None and check.status is Status.passed and "2 models" in check.value
    assert check_models(HttpAnswer(401, body=ERROR_401)) is None
    assert served_model_ids(HttpAnswer(200, body={"data": "nope"})) is None


@pytest.mark.parametrize(
    ("available", "status", "fix"),
    [
        ("2.00", Status.passed, ""),
        ("0.40", Status.warn, fixes.LOW_BALANCE),
        ("0.00", Status.fail, fixes.BALANCE_402),
        ("-0.12", Status.fail, fixes.BALANCE_402),
    ],
)
def test_an_empty_balance_fails_with_the_top_up_and_a_low_one_warns(available: str, status: Status, fix: str) -> None:
    check = check_balance(HttpAnswer(200, body={"available_usd": available}))
    assert check is not None and (check.status, check.fix) == (status, fix)
    assert f"${available}" in check.value


def test_no_balance_verdict_for_a_refused_key() -> None:
    assert check_balance(HttpAnswer(401, body=ERROR_401)) is None


@pytest.mark.parametrize(
    ("limit", "used", "status"),
    [(0, 0, Status.passed), (120, 3, Status.passed), (120, 110, Status.warn), (5, 4, Status.warn), (5, 9, Status.warn)],
)
def test_rpm_headroom_warns_near_the_keys_cap(limit: int, used: int, status: Status) -> None:
    check = check_rpm_headroom(StreamFacts(start={"rpm_limit": limit, "rpm_used": used}))
    assert check is not None and check.status is status
    if status is Status.warn:
        assert check.fix == fixes.RATE_LIMIT_429


@pytest.mark.parametrize(
    ("stream", "status", "fix"),
    [
        (StreamFacts(200, first_byte_s=0.04), Status.passed, ""),
        (StreamFacts(200, first_byte_s=1.4), Status.warn, fixes.SLOW_FIRST_BYTE),
        (StreamFacts(200, error="ETIMEDOUT (ReadTimeout)"), Status.fail, fixes.SLOW_FIRST_BYTE),
        (StreamFacts(404, answer=HttpAnswer(404)), Status.warn, fixes.NO_DIAGNOSTICS),
        (StreamFacts(429, answer=HttpAnswer(429)), Status.warn, fixes.RATE_LIMIT_429),
    ],
)
def test_a_first_byte_over_one_second_warns(stream: StreamFacts, status: Status, fix: str) -> None:
    check = check_first_byte(stream)
    assert check is not None and (check.status, check.fix) == (status, fix)


START = {"keepalive_interval_s": 10}


@pytest.mark.parametrize(
    ("stream", "status", "fix"),
    [
        (StreamFacts(200, 0.01, 65.0, START, {"type": "done"}, pings=6, longest_silence_s=10.0), Status.passed, ""),
        (
            StreamFacts(200, 0.01, 30.2, START, None, pings=3, error="ECONNRESET ([Errno 104])"),
            Status.fail,
            fixes.ECONNRESET_IDLE,
        ),
        (StreamFacts(200, 0.01, 30.2, START, None, pings=3), Status.fail, fixes.ECONNRESET_IDLE),
        (
            StreamFacts(200, 0.01, 65.0, START, {"type": "done"}, pings=6, longest_silence_s=64.0),
            Status.warn,
            fixes.STREAM_BUFFERED,
        ),
    ],
)
def test_an_idle_stream_cut_before_done_fails_with_the_econnreset_advice(
    stream: StreamFacts, status: Status, fix: str
) -> None:
    check = check_idle(stream, 65)
    assert (check.status, check.fix) == (status, fix)


def test_a_cut_idle_stream_says_when_it_was_cut() -> None:
    check = check_idle(StreamFacts(200, 0.01, 30.2, START, None, pings=3, error="ECONNRESET"), 65)
    assert "30.2 s" in check.value and "ECONNRESET" in check.value
