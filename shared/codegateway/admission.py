"""Admit a request: reserve its estimated cost against the available balance, atomically.

Check-then-charge would let concurrent requests overdraw (each sees the same balance); a conditional
reservation cannot: it succeeds only while the available balance still covers the hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from codegateway.errors import AccountSuspended, AuthenticationFailed, InsufficientBalance
from codegateway.estimate import estimate_cost_nano
from codegateway.forwarding import Exchange
from codegateway.pricing import nano_to_usd_str
from codegateway.records import Hold
from codegateway.settings import Settings
from codegateway.store import ReservationRefused, Store


class Admission:
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def hold_for(self, exchange: Exchange) -> Hold:
        assert exchange.message is not None
        estimate = estimate_cost_nano(
            exchange.message, exchange.caller.account.markup_bp, self._settings.typical_output_tokens
        )
        # The hold must outlive the longest possible request, so the sweep never frees a live one.
        lifetime_s = int(self._settings.total_timeout_s) + self._settings.hold_margin_s
        return Hold(exchange.request_id, estimate, int(self._clock()) + lifetime_s)

    async def reserve(self, exchange: Exchange) -> None:
        hold = self.hold_for(exchange)
        try:
            await asyncio.to_thread(self._store.ledger.reserve, exchange.caller.account.account_id, hold)
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
