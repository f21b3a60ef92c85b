"""Codes sent by email to sign up or sign in: six digits, valid 10 minutes, 5 tries, stored only
as a salted hash. Pure apart from the store handed in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from codegateway.domain.clock import window_of
from codegateway.errors import CodeRefused, RateLimited
from codegateway.store import Store, StoredCode

CODE_DIGITS = 6
CODE_VALID_S = 600
CODE_MAX_TRIES = 5
# Codes asked for per address and per client address in one minute: a person needs one or two;
# a script flooding someone's mailbox (or SES's sending quota) gets a 429.
CODES_PER_EMAIL_PER_MINUTE = 3
CODES_PER_CLIENT_PER_MINUTE = 20


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(salt: str, email: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{email}:{code}".encode()).hexdigest()


def take_code_request(store: Store, email: str, client_ip: str, now: float) -> None:
    """Count one code request against the address's and the client's minute windows."""
    window_start, retry_after_s = window_of(now)
    expires_at = window_start + 120
    for window_key, limit in ((f"codes-email#{email}", CODES_PER_EMAIL_PER_MINUTE),
                              (f"codes-ip#{client_ip}", CODES_PER_CLIENT_PER_MINUTE)):  # fmt: skip
        if not store.rate_limits.take(window_key, window_start, limit, expires_at):
            raise RateLimited(f"Too many codes asked for; try again in {retry_after_s} s.", retry_after_s=retry_after_s)


def issue_code(store: Store, email: str, now: float) -> str:
    """A new code for the address (any earlier one stops working); returns its plaintext to send."""
    code = new_code()
    salt = secrets.token_hex(16)
    store.email_codes.put(email, StoredCode(code_hash(salt, email, code), salt, int(now) + CODE_VALID_S, 0))
    return code


def redeem_code(store: Store, email: str, code: str, clock: Callable[[], float] = time.time) -> None:
    """Use the address's code once; CodeRefused when it is wrong, used, expired or out of tries."""
    stored = store.email_codes.get(email)
    if stored is None or stored.expires_at <= clock() or stored.tries >= CODE_MAX_TRIES:
        raise CodeRefused()
    if not hmac.compare_digest(stored.code_hash, code_hash(stored.salt, email, code.strip())):
        store.email_codes.count_try(email, stored.code_hash, CODE_MAX_TRIES)
        raise CodeRefused()
    if not store.email_codes.consume(email, stored.code_hash):
        raise CodeRefused()
