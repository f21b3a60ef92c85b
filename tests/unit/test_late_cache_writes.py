"""Issue 13: cache writes reported late (a split of zeros in message_start, the total only in
message_delta) are billed, at the 5-minute rate. UsageCapture fed the raw SSE bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from codegateway.domain.catalog import Catalog
from codegateway.domain.pricing import cost_of
from codegateway.proxy.metering import UsageCapture

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


START_USAGE = {
    "input_tokens": 10,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 1,
}
STREAM = b"".join(
    [
        _sse("message_start", {"type": "message_start", "message": {"usage": START_USAGE}}),
        _sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
        _sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"text": "ok"}}),
        _sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 100, "cache_creation_input_tokens": 50_000},
            },
        ),
        _sse("message_stop", {"type": "message_stop"}),
    ]
)


def test_cache_writes_reported_only_in_message_delta_are_billed_at_the_five_minute_rate() -> None:
    # Fed in awkward pieces, as a socket delivers them.
    capture = UsageCapture(streaming=True)
    for offset in range(0, len(STREAM), 37):
        capture.feed(STREAM[offset : offset + 37])
    capture.finish()
    usage = capture.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_creation_input_tokens) == (10, 100, 50_000)
    assert usage.cache_writes_by_ttl == (50_000, 0)
    model = Catalog.load().get("claude-opus-4-8")
    assert model is not None
    cost = cost_of(usage, model, 15_000, at=NOW)
    # (10 x $5 + 50,000 x $6.25 + 100 x $25) / 1M = $0.31505; x 1.5 = $0.472575
    print(f"\nlate cache writes: base {cost.base_nano} nano, billed {cost.billed_nano} nano")
    assert (cost.base_nano, cost.billed_nano) == (315_050_000, 472_575_000)


def test_a_split_reported_late_wins_over_the_unsplit_total() -> None:
    """The split arrives in message_delta (1h writes): priced by the split, never twice."""
    capture = UsageCapture(streaming=True)
    capture.feed(_sse("message_start", {"type": "message_start", "message": {"usage": START_USAGE}}))
    late = {
        "output_tokens": 5,
        "cache_creation_input_tokens": 50_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 20_000, "ephemeral_1h_input_tokens": 30_000},
    }
    capture.feed(_sse("message_delta", {"type": "message_delta", "delta": {}, "usage": late}))
    capture.finish()
    assert capture.usage.cache_writes_by_ttl == (20_000, 30_000)
