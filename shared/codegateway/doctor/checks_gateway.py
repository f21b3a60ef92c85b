"""Checks of the gateway's answers: HEAD /, models, the key, the balance, RPM headroom, first byte, idle. Pure."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from codegateway.doctor import fixes
from codegateway.doctor.checks_network import ms
from codegateway.doctor.facts import HttpAnswer, StreamFacts
from codegateway.doctor.report import Check, fail, passed, warn

# Middleboxes cut connections idle for 30-60 s; 65 s of pings-only silence proves the path holds.
IDLE_S = 65.0
SLOW_FIRST_BYTE_S = 1.0  # the guide's threshold: above 1 s Claude Code feels stuck before it starts
LOW_BALANCE_USD = Decimal("1.00")
RPM_HEADROOM_MIN_FRACTION = 0.1
# A ping every keepalive interval; a gap twice that long means something held the pings back.
BUFFERED_SILENCE_FACTOR = 2.0


def check_root(answer: HttpAnswer) -> Check:
    name = "gateway.head"
    if answer.error:
        return fail(name, f"HEAD /: {answer.error}", fixes.TRANSIENT_5XX)
    status = answer.status or 0
    if 300 <= status < 400:
        return fail(name, f"HEAD / -> {status} redirect to {answer.location or '?'}", fixes.REDIRECT)
    if status >= 500:
        return fail(name, f"HEAD / -> {status}", fixes.TRANSIENT_5XX)
    if status >= 400:
        return warn(name, f"HEAD / -> {status}", fixes.NOT_A_GATEWAY)
    return passed(name, f"HEAD / -> {status} in {ms(answer.elapsed_s)}")


def served_model_ids(models: HttpAnswer) -> list[str] | None:
    if models.status != 200 or not isinstance(models.body, dict) or not isinstance(models.body.get("data"), list):
        return None
    entries = [entry for entry in models.body["data"] if isinstance(entry, dict)]
    return [entry["id"] for entry in entries if isinstance(entry.get("id"), str)]


def check_key(models: HttpAnswer, shown_key: str) -> Check:
    name = "gateway.key"
    if models.status == 401:
        return fail(name, f"{shown_key}: 401 {models.error_type or 'authentication_error'}", fixes.WRONG_KEY_401)
    if models.status == 403:
        return fail(name, f"{shown_key}: 403 {models.error_type or 'permission_error'}", fixes.SUSPENDED_403)
    if models.status == 200:
        return passed(name, f"{shown_key} accepted")
    return fail(name, f"GET /v1/models -> {_status_text(models)}", _fix_for_status(models.status))


def check_models(models: HttpAnswer) -> Check | None:
    if models.status in (401, 403):
        return None  # the key check says why
    name = "gateway.models"
    ids = served_model_ids(models)
    if ids is None:
        return fail(name, f"GET /v1/models -> {_status_text(models)}", _fix_for_status(models.status))
    return passed(name, f"{len(ids)} models in {ms(models.elapsed_s)}")


def check_balance(account: HttpAnswer) -> Check | None:
    name = "gateway.balance"
    if account.status in (401, 403):
        return None
    body = account.body if isinstance(account.body, dict) else {}
    if account.status != 200 or "available_usd" not in body:
        return warn(name, f"GET /v1/account -> {_status_text(account)}", fixes.NOT_A_GATEWAY)
    try:
        available = Decimal(str(body["available_usd"]))
    except InvalidOperation:
        return warn(name, f"available_usd={body['available_usd']!r}", fixes.NOT_A_GATEWAY)
    shown = f"${available} available"
    if available <= 0:
        return fail(name, f"{shown}: requests get 402 billing_error", fixes.BALANCE_402)
    if available < LOW_BALANCE_USD:
        return warn(name, f"{shown} (under ${LOW_BALANCE_USD})", fixes.LOW_BALANCE)
    return passed(name, shown)


def check_rpm_headroom(stream: StreamFacts) -> Check | None:
    name = "gateway.rpm"
    start = stream.start or {}
    limit, used = start.get("rpm_limit"), start.get("rpm_used")
    if not isinstance(limit, int) or not isinstance(used, int):
        return None
    if limit == 0:
        return passed(name, "no requests-per-minute cap")
    left = max(0, limit - used)
    shown = f"{left} of {limit} requests left this minute"
    if left <= max(1, int(limit * RPM_HEADROOM_MIN_FRACTION)):
        return warn(name, shown, fixes.RATE_LIMIT_429)
    return passed(name, shown)


def check_first_byte(stream: StreamFacts) -> Check | None:
    name = "gateway.first_byte"
    answer = stream.answer
    if answer is not None and answer.status in (401, 403):
        return None
    if answer is not None and answer.status == 404:
        return warn(name, "GET /v1/diagnostics/stream -> 404", fixes.NO_DIAGNOSTICS)
    if answer is not None and answer.status == 429:
        return warn(name, "diagnostics streams capped for this minute (429)", fixes.RATE_LIMIT_429)
    if answer is not None or stream.first_byte_s is None:
        shown = _status_text(answer) if answer is not None else stream.error or "no byte"
        return fail(name, f"diagnostics stream: {shown}", fixes.SLOW_FIRST_BYTE)
    shown = f"{ms(stream.first_byte_s)} to the first byte of a stream"
    if stream.first_byte_s > SLOW_FIRST_BYTE_S:
        return warn(name, f"{shown} (over {SLOW_FIRST_BYTE_S:g} s)", fixes.SLOW_FIRST_BYTE)
    return passed(name, shown)


def check_idle(stream: StreamFacts, idle_s: float) -> Check:
    name = "gateway.idle"
    if stream.answer is not None:
        return fail(name, f"diagnostics stream: {_status_text(stream.answer)}", _fix_for_status(stream.answer.status))
    if stream.done is None:
        cut = stream.error or "the stream ended without its done event"
        return fail(
            name, f"cut after {stream.total_s:.1f} s of {idle_s:g} s idle ({_pings(stream.pings)}): {cut}",
            fixes.ECONNRESET_IDLE,
        )  # fmt: skip
    shown = f"{idle_s:g} s idle survived: {_pings(stream.pings)}, longest silence {stream.longest_silence_s:.1f} s"
    interval = (stream.start or {}).get("keepalive_interval_s")
    if not isinstance(interval, int | float):
        return passed(name, shown)
    if idle_s > interval and stream.longest_silence_s > BUFFERED_SILENCE_FACTOR * interval:
        return warn(name, f"{shown} (pings every {interval:g} s were held back)", fixes.STREAM_BUFFERED)
    return passed(name, shown)


def _pings(count: int) -> str:
    return f"{count} ping" if count == 1 else f"{count} pings"


def _status_text(answer: HttpAnswer) -> str:
    if answer.error:
        return answer.error
    return f"{answer.status} {answer.error_type or ''}".strip()


def _fix_for_status(status: int | None) -> str:
    return {
        401: fixes.WRONG_KEY_401,
        402: fixes.BALANCE_402,
        403: fixes.SUSPENDED_403,
        422: fixes.UNKNOWN_MODEL_422,
        429: fixes.RATE_LIMIT_429,
    }.get(status or 0, fixes.TRANSIENT_5XX if (status or 500) >= 500 else fixes.NOT_A_GATEWAY)
