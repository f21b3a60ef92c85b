"""Admit a request: count it against its key's RPM cap and reserve its estimated cost against the
available balance, atomically.

Check-then-charge would let concurrent requests overdraw (each sees the same balance); a conditional
reservation cannot: it succeeds only while the available balance still covers the hold. The two
DynamoDB writes run side by side, so admission costs one round trip before the upstream is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from codegateway.errors import AccountSuspended, AuthenticationFailed, InsufficientBalance, StoreUnavailable
from codegateway.estimate import estimate_cost_nano
from codegateway.forwarding import Exchange
from codegateway.pricing import nano_to_usd_str
from codegateway.rate_limit import RateLimiter
from codegateway.records import Hold
from codegateway.settings import Settings
from codegateway.store import ReservationRefused, Store


class Admission:
    def __init__(
        self, store: Store, settings: Settings, rate_limiter: RateLimiter, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._settings = settings
        self._rate_limiter = rate_limiter
        self._clock = clock

    async def admit(self, exchange: Exchange) -> None:
        """RateLimited (429), InsufficientBalance (402) or AccountSuspended (403), else the hold is set."""
        counted, reserved = await asyncio.gather(
            self._rate_limiter.take(exchange.caller), self.reserve(exchange), return_exceptions=True
        )
        if isinstance(counted, BaseException):
            if exchange.hold is not None:
                # Over the cap after all: give the money back before answering 429.
                await self._release(exchange.caller.account.account_id, exchange.hold)
                exchange.hold = None
            raise counted
        if isinstance(reserved, BaseException):
            raise reserved

    async def _release(self, account_id: str, hold: Hold) -> None:
        """Best effort: a hold this fails to release expires, and the tier job's sweep frees it."""
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._store.ledger.release_hold, account_id, hold)

    def hold_for(self, exchange: Exchange) -> Hold:
        assert exchange.message is not None
        estimate = estimate_cost_nano(
            exchange.message,
            exchange.caller.account.markup_bp,
            self._settings.typical_output_tokens,
            at=exchange.priced_at,
        )
        # The hold must outlive the longest possible request, so the sweep never frees a live one.
        lifetime_s = int(self._settings.total_timeout_s) + self._settings.hold_margin_s
        return Hold(exchange.request_id, estimate, int(self._clock()) + lifetime_s)

    async def reserve(self, exchange: Exchange) -> None:
        hold = self.hold_for(exchange)
        try:
            await asyncio.to_thread(self._store.ledger.reserve, exchange.caller.account.account_id, hold)
        except StoreUnavailable:
            # The write may have landed before the connection failed: undo it if it did.
            await self._release(exchange.caller.account.account_id, hold)
            raise
        except ReservationRefused as refused:
            if refused.reason == "suspended":
                raise AccountSuspended() from None
            if refused.reason == "missing":
                raise AuthenticationFailed() from None
            raise InsufficientBalance(
                f"Your CodeGateway balance cannot cover this request: it needs up to ${nano_to_usd_str(hold.nano)} "
                f"held while it runs, and ${nano_to_usd_str(refused.available_nano or 0)} is available. Ask your "
                "gateway administrator to top up the account (cgw topup), then retry."
            ) from None
        exchange.hold = hold
        exchange.log_fields["hold_nano"] = hold.nano
