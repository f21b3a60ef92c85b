"""Settle a request, however it ended: usage record + charge + daily rollup in one transaction.

Runs before the response ends (relay.py calls it first), so a Lambda sandbox is never frozen with
a request unsettled. Tokens seen are charged even when the request was cut short.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, replace

from codegateway.domain.catalog import Catalog
from codegateway.domain.estimate import estimated_prompt_usage
from codegateway.domain.outcomes import Ended
from codegateway.domain.pricing import cost_of
from codegateway.domain.records import UsageRecord
from codegateway.domain.usage import Usage
from codegateway.proxy.exchange import Exchange
from codegateway.proxy.ledger_calls import ledger_call
from codegateway.proxy.metering import UsageCapture
from codegateway.proxy.prompt_history import PromptHistory
from codegateway.proxy.relay import RelayOutcome
from codegateway.store import Store

_SETTLE_ATTEMPTS = 4
# Sent upstream beside admission, and admission refused: the upstream call was closed, $0 recorded.
logger = logging.getLogger("codegateway.proxy.settlement")


def usage_record(
    exchange: Exchange, outcome: RelayOutcome, capture: UsageCapture | None, catalog: Catalog
) -> UsageRecord:
    assert exchange.message is not None
    usage = capture.usage if capture is not None else Usage()
    if (
        capture is not None
        and capture.streaming
        and outcome.ended == Ended.CLIENT_DISCONNECTED
        and outcome.status == 200
        and not capture.input_known
    ):
        # The upstream took the prompt (it answered 200) and the client left before its usage came,
        # for longer than the proxy reads on: charge the prompt as admission estimated it, never $0.
        cached = int(exchange.log_fields.get("hold_cached_tokens") or 0)
        usage = _with_prompt(usage, estimated_prompt_usage(exchange.message, cached))
    if usage.speed is None and exchange.message.fast and outcome.ended != Ended.COMPLETED:
        # Fast mode was asked for and the stream was cut before the upstream said which speed it
        # ran at: charge the fast price its hold grew at, not half of it.
        usage = replace(usage, speed="fast", seen=set(usage.seen))
    markup_bp = exchange.caller.account.markup_bp
    message = exchange.message
    cost = cost_of(usage, message.model, markup_bp, at=exchange.priced_at, catalog=catalog)
    write_5m, write_1h = usage.cache_writes_by_ttl
    error_type = outcome.error_detail if outcome.ended in (Ended.UPSTREAM_FAILED, Ended.SPECULATION_REFUSED) else None
    if capture is not None and capture.upstream_error_type:
        error_type = capture.upstream_error_type
    elif outcome.ended == Ended.TIMEOUT:
        error_type = "timeout_error"
    elif outcome.ended == Ended.UPSTREAM_RESET:
        error_type = "api_error"
    return UsageRecord(
        account_id=exchange.caller.account.account_id,
        request_id=exchange.request_id,
        created_at=exchange.created_at,
        key_id=exchange.caller.key.key_id,
        model=message.model_id or message.model.model_id,
        priced_as=message.priced_as,
        catalog_version=message.catalog_version or None,
        status=outcome.status,
        ended=outcome.ended,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cache_write_5m_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        web_search_requests=usage.web_search_requests,
        speed=usage.speed,
        inference_geo=usage.inference_geo,
        base_nano=cost.base_nano,
        markup_bp=cost.markup_bp,
        billed_nano=cost.billed_nano,
        duration_ms=int((time.monotonic() - exchange.started) * 1000),
        ttfb_ms=int(outcome.first_chunk_s * 1000) if outcome.first_chunk_s is not None else None,
        attempts=exchange.attempts,
        stream=message.stream,
        error_type=error_type,
        session_id=exchange.session_id,
        agent_id=exchange.agent_id,
        upstream_request_id=exchange.upstream_request_id,
        source=exchange.source,
    )


def _with_prompt(usage: Usage, prompt: Usage) -> Usage:
    return replace(
        usage,
        input_tokens=prompt.input_tokens,
        cache_creation_input_tokens=prompt.cache_creation_input_tokens,
        cache_write_5m_tokens=prompt.cache_write_5m_tokens,
        cache_write_1h_tokens=prompt.cache_write_1h_tokens,
        cache_read_input_tokens=prompt.cache_read_input_tokens,
        seen=set(usage.seen),
    )


class Settlement:
    def __init__(self, store: Store, catalog: Callable[[], Catalog], prompt_history: PromptHistory) -> None:
        self._store = store
        self._catalog = catalog  # the catalog in force now (an operator may import a new one)
        self._prompt_history = prompt_history

    async def settle(self, exchange: Exchange, outcome: RelayOutcome, capture: UsageCapture | None) -> None:
        fields = exchange.log_fields
        fields.update(ended=outcome.ended, upstream_status=outcome.status, attempts=exchange.attempts)
        if outcome.first_chunk_s is not None:
            fields["ttfb_ms"] = round(outcome.first_chunk_s * 1000, 1)
        if outcome.keepalives_sent:
            fields["keepalives"] = outcome.keepalives_sent
        if exchange.hold is None:
            return  # count_tokens: free, never reserved, never recorded
        record = usage_record(exchange, outcome, capture, self._catalog())
        fields.update(
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            cache_read_input_tokens=record.cache_read_input_tokens,
            cache_creation_input_tokens=record.cache_creation_input_tokens,
            billed_nano=record.billed_nano,
        )
        if record.error_type:
            fields["error_type"] = record.error_type
        if await self._write(exchange, record):
            self._remember_cache(exchange, record)

    async def settle_refused_speculation(self, exchange: Exchange, status: int, error_type: str) -> None:
        """Admission refused a request already sent upstream (and closed): a $0 record, no hold, no
        charge, so the refusal shows in the account's usage like any request that reached admission."""
        outcome = RelayOutcome(ended=Ended.SPECULATION_REFUSED, status=status, error_detail=error_type)
        record = usage_record(exchange, outcome, None, self._catalog())
        exchange.log_fields.update(ended=Ended.SPECULATION_REFUSED, billed_nano=record.billed_nano)
        await self._write(exchange, record)

    async def _write(self, exchange: Exchange, record: UsageRecord) -> bool:
        ledger = self._store.ledger
        for attempt in range(_SETTLE_ATTEMPTS):
            try:
                await ledger_call(ledger, ledger.settle, record, exchange.hold)
                return True
            except Exception:
                if attempt < _SETTLE_ATTEMPTS - 1:
                    await asyncio.sleep(0.1 * 2**attempt)
        # The hold stays until the sweep releases it: the account is not charged, the request is not
        # lost - this line (metadata only) lets an operator replay it.
        exchange.log_fields["settlement_failed"] = True
        logger.error("settlement failed", extra={"usage_record": asdict(record)})
        return False

    def _remember_cache(self, exchange: Exchange, record: UsageRecord) -> None:
        message = exchange.message
        if message is not None and message.shape is not None and record.status == 200:
            self._prompt_history.remember(
                exchange.caller.key.key_id,
                message.shape,
                record.cache_read_input_tokens,
                record.cache_creation_input_tokens,
            )
