"""Admit a request: count it against its key's RPM cap and reserve its estimated cost against the
available balance, atomically (the estimate rule: estimate.py).

Check-then-charge would let concurrent requests overdraw (each sees the same balance); a conditional
reservation cannot: it succeeds only while the available balance still covers the hold. The two
DynamoDB writes run side by side, so admission costs one round trip before the upstream is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from codegateway.domain.estimate import estimate_hold
from codegateway.domain.outcomes import Refusal
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.domain.records import Hold
from codegateway.domain.spend_caps import CapWindow, cap_reached_message, cap_use_header, retry_after_s, windows_for
from codegateway.errors import (
    AccountSuspended,
    AuthenticationFailed,
    InsufficientBalance,
    SpendCapReached,
    StoreUnavailable,
)
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.hold_growth import HoldGrowth
from codegateway.proxy.ledger_calls import ledger_call
from codegateway.proxy.prompt_history import PromptHistory
from codegateway.proxy.rate_limit import RateLimiter
from codegateway.proxy.speculation import Speculation
from codegateway.settings import Settings
from codegateway.store import ReservationRefused, Store


@dataclass(frozen=True, slots=True)
class Planned:
    """A request's first hold, and what of it the available balance itself must cover."""

    hold: Hold
    must_cover_nano: int


class Admission:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        rate_limiter: RateLimiter,
        prompt_history: PromptHistory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings = settings
        self._rate_limiter = rate_limiter
        self._clock = clock
        self._prompt_history = prompt_history
        self.speculation = Speculation(rate_limiter, enabled=settings.speculative_admission)

    def plan(self, exchange: Exchange, *, cache_history: bool = True) -> Planned:
        """The spend caps the request counts on (set on the exchange) and its first hold.
        cache_history=False: as if none of the prompt were cached, the largest the hold can be (this
        hashes nothing of the prompt: prompt_shape.Conversation)."""
        caller = exchange.caller
        now = datetime.fromtimestamp(self._clock(), UTC)
        exchange.cap_windows = tuple(
            windows_for(
                caller.key.key_id, caller.key.spend_caps, caller.account.account_id, caller.account.spend_caps, now
            )
        )
        return Planned(*self.hold_for(exchange, cache_history=cache_history))

    async def admit(self, exchange: Exchange, planned: Planned | None = None) -> None:
        """RateLimited (429), SpendCapReached (429), InsufficientBalance (402) or AccountSuspended
        (403), else the hold is set."""
        planned = planned or self.plan(exchange)
        counted, reserved = await asyncio.gather(
            self._rate_limiter.take(exchange.caller), self.reserve(exchange, planned), return_exceptions=True
        )
        if isinstance(counted, BaseException):
            if exchange.hold is not None:
                # Over the cap after all: give the money back before answering 429.
                await self._release(exchange.caller.account.account_id, exchange.hold)
                exchange.hold = None
            raise counted
        self.speculation.saw_window(exchange.caller.key.key_id, counted)
        if isinstance(reserved, BaseException):
            raise reserved
        if exchange.cap_windows:
            # Read while the upstream call runs; the relay waits for it only as long as it must.
            exchange.cap_use_shown = asyncio.create_task(self._show_key_caps(exchange))

    async def _show_key_caps(self, exchange: Exchange) -> None:
        """Read the cap counters (this request's hold included) for the response headers (the key's
        caps) and the request's metrics (a cap past 80%). Best effort: this is information; the
        reservation is what enforces."""
        windows = exchange.cap_windows
        account_id = exchange.caller.account.account_id
        ledger = self._store.ledger
        with contextlib.suppress(Exception):
            used = await ledger_call(ledger, ledger.cap_use, account_id, [w.counter_id for w in windows])
            self.speculation.saw_cap_use(used)
            exchange.extra_response_headers += [
                cap_use_header(window, used[window.counter_id]) for window in windows if window.scope == "key"
            ]
            nearly = sum(used[window.counter_id] * 5 >= window.limit_nano * 4 for window in windows)
            if nearly:
                exchange.log_fields["spend_caps_over_80_percent"] = nearly

    async def _release(self, account_id: str, hold: Hold) -> None:
        """Best effort: a hold this fails to release expires, and the tier job's sweep frees it.
        Shielded: a request cancelled (a shutdown) while it runs still gives the money back."""
        ledger = self._store.ledger
        with contextlib.suppress(Exception):
            await asyncio.shield(ledger_call(ledger, ledger.release_hold, account_id, hold))

    def hold_for(self, exchange: Exchange, *, cache_history: bool = True) -> tuple[Hold, int]:
        """The first hold, and what of it the available balance itself must cover."""
        message = exchange.message
        assert message is not None and message.shape is not None
        cached = self._prompt_history.cached_tokens(exchange.caller.key.key_id, message.shape) if cache_history else 0
        estimate = estimate_hold(message, exchange.caller.account.markup_bp, cached, at=exchange.priced_at)
        exchange.log_fields.update(hold_prompt_tokens=estimate.prompt_tokens, hold_cached_tokens=estimate.cached_tokens)
        # The hold must outlive the longest possible request, so the sweep never frees a live one.
        lifetime_s = int(self._settings.total_timeout_s) + self._settings.hold_margin_s
        counters = tuple(window.counter_id for window in exchange.cap_windows)
        hold = Hold(exchange.request_id, estimate.nano, int(self._clock()) + lifetime_s, counters)
        return hold, estimate.must_cover_nano

    def overdraft_nano(self, exchange: Exchange) -> int:
        limit = exchange.caller.account.overdraft_nano
        return self._settings.default_overdraft_nano if limit is None else limit

    def hold_growth(self, exchange: Exchange) -> HoldGrowth | None:
        """For a streamed, held request: what grows its hold while it streams (plain answers hold
        max_tokens up front and cannot be cut, count_tokens holds nothing)."""
        if exchange.hold is None or exchange.message is None or not exchange.message.stream:
            return None
        return HoldGrowth(self._store, exchange, self.overdraft_nano(exchange), self._clock)

    async def reserve(self, exchange: Exchange, planned: Planned) -> None:
        hold, must_cover_nano = planned.hold, planned.must_cover_nano
        ledger = self._store.ledger
        try:
            await ledger_call(
                ledger,
                ledger.reserve,
                exchange.caller.account.account_id,
                hold,
                must_cover_nano=must_cover_nano,
                overdraft_nano=self.overdraft_nano(exchange),
                caps=exchange.cap_windows,
            )
        except StoreUnavailable:
            # The write may have landed before the connection failed: undo it if it did.
            await self._release(exchange.caller.account.account_id, hold)
            raise
        except ReservationRefused as refused:
            if refused.reason == Refusal.SUSPENDED:
                raise AccountSuspended() from None
            if refused.reason == Refusal.MISSING:
                raise AuthenticationFailed() from None
            if refused.window is not None:
                raise await self._cap_reached(exchange, refused.window) from None
            assert exchange.message is not None
            plain = "" if exchange.message.stream else " (a plain answer holds its whole max_tokens: stream it)"
            raise InsufficientBalance(
                f"Your CodeGateway balance cannot cover this request: it needs ${nano_to_usd_str(must_cover_nano)} "
                f"available to start{plain}, and ${nano_to_usd_str(refused.available_nano or 0)} is available. "
                "Ask your gateway administrator to top up the account (cgw topup), then retry."
            ) from None
        exchange.hold = hold
        exchange.log_fields["hold_nano"] = hold.nano

    async def _cap_reached(self, exchange: Exchange, window: CapWindow) -> SpendCapReached:
        now = datetime.fromtimestamp(self._clock(), UTC)
        ledger = self._store.ledger
        try:
            used = await ledger_call(ledger, ledger.cap_use, exchange.caller.account.account_id, [window.counter_id])
            self.speculation.saw_cap_use(used)
        except StoreUnavailable:
            used = {window.counter_id: window.limit_nano}
        exchange.log_fields["spend_cap"] = f"{window.scope}:{window.period}"
        return SpendCapReached(
            cap_reached_message(window, used[window.counter_id], now), retry_after_s=retry_after_s(window, now)
        )
