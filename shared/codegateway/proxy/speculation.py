"""When a request may go upstream while admission is still answering (a speculative send).

Admission (RPM window + hold) is one DynamoDB round trip; the upstream spends far longer than that
before its first byte. A request is sent upstream at once, beside admission, only when the caller's
cached records show headroom, so admission all but never refuses it:

- balance: the cached account's available balance is at least BALANCE_FACTOR times this request's
  hold (the record is at most CGW_RECORD_MAX_AGE_S old: a second at most);
- RPM: the key has no cap, or this process saw the key's current window at most half full (the
  count DynamoDB returned with this process's last take in the same minute);
- spend caps: every cap the request counts on was read by this process within CAP_USE_MAX_AGE_S and
  had room for BALANCE_FACTOR times the hold.

Otherwise admission runs first, as it always did. A refused speculative send closes its upstream
request at once and costs the account nothing; the operator pays whatever the upstream charges for a
request closed milliseconds after it was sent. What bounds that: one speculation per account in
flight per process, and after a refusal no speculation for that account in this process for
COOLDOWN_S - at most one refused speculative send per account per process per minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from codegateway.proxy.exchange import Exchange
from codegateway.proxy.rate_limit import UNLIMITED, Counted, RateLimiter

BALANCE_FACTOR = 4
CAP_USE_MAX_AGE_S = 5.0
COOLDOWN_S = 60.0
# Bounds the per-process memory the observations take (keys, counters, accounts).
_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _CapUse:
    used_nano: int
    seen_at: float


class Ticket:
    """One speculative send: resolved once admission answered."""

    __slots__ = ("_account_id", "_speculation")

    def __init__(self, speculation: Speculation, account_id: str) -> None:
        self._speculation = speculation
        self._account_id = account_id

    def admitted(self) -> None:
        self._speculation.resolved(self._account_id, refused=False)

    def refused(self) -> None:
        self._speculation.resolved(self._account_id, refused=True)


class Speculation:
    def __init__(
        self, rate_limiter: RateLimiter, *, enabled: bool = True, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate_limiter = rate_limiter
        self._enabled = enabled
        self._monotonic = monotonic
        self._windows: dict[str, Counted] = {}
        self._cap_use: dict[str, _CapUse] = {}
        self._refused_at: dict[str, float] = {}
        self._in_flight: set[str] = set()

    def ticket(self, exchange: Exchange, hold_nano: int) -> Ticket | None:
        """A ticket when this request may be sent before admission answers, else None."""
        account = exchange.caller.account
        if not self._enabled or account.account_id in self._in_flight:
            return None
        refused_at = self._refused_at.get(account.account_id)
        if refused_at is not None and self._monotonic() - refused_at < COOLDOWN_S:
            return None
        if account.available_nano < BALANCE_FACTOR * hold_nano:
            return None
        if not self._window_has_room(exchange) or not self._caps_have_room(exchange, hold_nano):
            return None
        self._in_flight.add(account.account_id)
        return Ticket(self, account.account_id)

    def resolved(self, account_id: str, *, refused: bool) -> None:
        self._in_flight.discard(account_id)
        if refused:
            self._remember(self._refused_at, account_id, self._monotonic())

    def _window_has_room(self, exchange: Exchange) -> bool:
        limit = self._rate_limiter.limit_of(exchange.caller)
        if limit == UNLIMITED:
            return True
        seen = self._windows.get(exchange.caller.key.key_id)
        if seen is None or seen.window_start != self._rate_limiter.window_now():
            return False
        return (seen.count + 1) * 2 <= limit

    def _caps_have_room(self, exchange: Exchange, hold_nano: int) -> bool:
        now = self._monotonic()
        for window in exchange.cap_windows:
            seen = self._cap_use.get(window.counter_id)
            if seen is None or now - seen.seen_at > CAP_USE_MAX_AGE_S:
                return False
            if seen.used_nano + BALANCE_FACTOR * hold_nano > window.limit_nano:
                return False
        return True

    def saw_window(self, key_id: str, counted: Counted | None) -> None:
        if counted is not None:
            self._remember(self._windows, key_id, counted)

    def saw_cap_use(self, used: Mapping[str, int]) -> None:
        now = self._monotonic()
        for counter_id, used_nano in used.items():
            self._remember(self._cap_use, counter_id, _CapUse(used_nano, now))

    @staticmethod
    def _remember[V](entries: dict[str, V], name: str, value: V) -> None:
        entries.pop(name, None)
        entries[name] = value
        if len(entries) > _MAX_ENTRIES:
            del entries[next(iter(entries))]
