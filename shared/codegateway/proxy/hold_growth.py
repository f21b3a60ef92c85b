"""Grow a streaming request's hold while its answer streams, or stop the answer when the balance
cannot take more.

The relay asks `allows()` after every chunk (and on every keepalive tick) until the message stops.
While the running cost stays a margin below the hold, that is integer arithmetic and nothing else;
when it comes closer, one conditional write grows the hold by the next block of output. A refused
write means the account would pass its overdraft limit: the relay ends the stream with a
billing_error event, and the request is charged what it used - which the hold still covers,
because the margin is kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from codegateway.domain.estimate import extension_margin_nano, extension_target_nano, running_cost_nano
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.domain.spend_caps import CapWindow, cap_reached_message
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.ledger_calls import ledger_call
from codegateway.proxy.metering import UsageCapture
from codegateway.store import GrowthRefused, Store

# Output tokens that may stream between two looks at the running cost (pricing is cheap, not free).
_RECHECK_EVERY_TOKENS = 32
logger = logging.getLogger("codegateway.proxy.hold_growth")


@dataclass(slots=True)
class HoldGrowth:
    store: Store
    exchange: Exchange
    overdraft_nano: int
    clock: Callable[[], float] = time.time
    extensions: int = 0
    left_after_nano: int | None = None
    # Set when a spend cap (not the balance) refused the growth.
    refused_by: CapWindow | None = None
    _cap_used_nano: int = 0
    _checked_output: int = -_RECHECK_EVERY_TOKENS
    _checked_input: bool = False
    _margin_nano: int = 0

    def __post_init__(self) -> None:
        message = self.exchange.message
        assert message is not None
        self._margin_nano = extension_margin_nano(
            message.model, self.exchange.caller.account.markup_bp, message.fast, self.exchange.priced_at
        )

    async def allows(self, capture: UsageCapture) -> bool:
        if capture.message_stopped:
            # Nothing more streams: settlement charges what was used, and a hold grown now would
            # protect nothing (a short answer read whole would otherwise cost a write every time).
            return True
        hold = self.exchange.hold
        message = self.exchange.message
        assert hold is not None and message is not None
        output = capture.output_tokens_so_far
        if output - self._checked_output < _RECHECK_EVERY_TOKENS and capture.input_known == self._checked_input:
            return True
        self._checked_output, self._checked_input = output, capture.input_known
        usage = capture.usage_so_far()
        if usage.speed is None and message.fast:
            # Asked for fast mode, the upstream has not said which speed it runs at yet (it may say so
            # only in message_delta): grow at the fast price, as the initial hold did.
            usage.speed = "fast"
        markup_bp = self.exchange.caller.account.markup_bp
        running_nano = running_cost_nano(usage, message.model, markup_bp, self.exchange.priced_at)
        if running_nano + self._margin_nano < hold.nano:
            return True
        if capture.input_known and message.max_tokens is not None:
            # The API never streams more output than max_tokens: a hold that covers the prompt seen and
            # all of it covers whatever follows (a short max_tokens is held whole from the start).
            most = replace(usage, seen=set(usage.seen), output_tokens=max(message.max_tokens, usage.output_tokens))
            if running_cost_nano(most, message.model, markup_bp, self.exchange.priced_at) <= hold.nano:
                return True
        target = extension_target_nano(usage, message.model, markup_bp, message.max_tokens, self.exchange.priced_at)
        target = max(target, running_nano + 2 * self._margin_nano)
        account_id = self.exchange.caller.account.account_id
        ledger = self.store.ledger
        try:
            grown = await ledger_call(
                ledger, ledger.extend, account_id, hold, target, self.overdraft_nano, self.exchange.cap_windows
            )
        except GrowthRefused as refused:
            await self._explain(refused.window, account_id, hold.nano, running_nano)
            return False
        except Exception as error:
            # Fail closed: an unknown answer is a refusal (the stream ends, the usage is charged).
            logger.warning("hold extension failed", extra={"error_type": type(error).__name__})
            await self._explain(None, account_id, hold.nano, running_nano)
            return False
        self.exchange.hold = grown
        self.extensions += 1
        self.exchange.log_fields.update(hold_nano=grown.nano, hold_extensions=self.extensions)
        return True

    async def _explain(self, window: CapWindow | None, account_id: str, held_nano: int, running_nano: int) -> None:
        """Read what the refusal message shows (best effort)."""
        self.refused_by = window
        ledger = self.store.ledger
        try:
            if window is not None:
                used = await ledger_call(ledger, ledger.cap_use, account_id, [window.counter_id])
                self._cap_used_nano = used[window.counter_id] - held_nano + running_nano
                return
            account = await self.store.accounts.get_from_loop(account_id)
        except Exception:
            return
        # What the account will have once this request is charged what it used so far.
        if account is not None:
            self.left_after_nano = account.available_nano + held_nano - running_nano

    def refusal_message(self) -> str:
        if self.refused_by is not None:
            now = datetime.fromtimestamp(self.clock(), UTC)
            reached = cap_reached_message(self.refused_by, self._cap_used_nano, now)
            return f"{reached} The answer was stopped here and you were charged for what was generated."
        left = self.left_after_nano
        shown = f"${nano_to_usd_str(left)} left" if left is not None else "no balance left"
        return (
            f"Your CodeGateway balance ran out while this answer streamed ({shown}, overdraft limit "
            f"${nano_to_usd_str(self.overdraft_nano)}). The answer was stopped here and you were charged "
            "for what was generated. Ask your gateway administrator to top up the account (cgw topup)."
        )
