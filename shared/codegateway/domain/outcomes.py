"""The gateway's closed sets of words: how a request ended, why the ledger refused money, which API
surface a request came in on.

StrEnums, so each member is its string: usage records, logs and metrics keep the same bytes, and a
comparison with the plain string still holds.
"""

from __future__ import annotations

from enum import StrEnum


class Ended(StrEnum):
    """How a request ended: the `ended` field of its usage record and of its log line."""

    COMPLETED = "completed"
    CLIENT_DISCONNECTED = "client_disconnected"
    UPSTREAM_RESET = "upstream_reset"
    TIMEOUT = "timeout"
    # The stream was stopped because the account's balance could not take its hold growing.
    BALANCE_EXHAUSTED = "balance_exhausted"
    # Nothing reached the client: the upstream call failed before its response started.
    UPSTREAM_FAILED = "upstream_failed"
    # Sent upstream beside admission and refused by it: closed unread, billed $0.
    SPECULATION_REFUSED = "speculation_refused"


# Endings the upstream (or the wait for it) caused: counted as upstream errors.
UPSTREAM_ERROR_ENDINGS = frozenset({Ended.UPSTREAM_FAILED, Ended.UPSTREAM_RESET, Ended.TIMEOUT})


class Refusal(StrEnum):
    """Why the ledger refused to reserve a hold or grow one."""

    BALANCE = "balance"
    SUSPENDED = "suspended"
    MISSING = "missing"  # no such account
    CAP = "cap"  # a spend cap


class ApiSurface(StrEnum):
    """The API a request was made in: the `source` of its usage record."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"  # Chat Completions, translated to and from Messages
