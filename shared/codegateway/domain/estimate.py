"""The hold a request is admitted against, and how far it grows while the answer streams. No I/O.

The rule (stated in docs/billing.md, "The overdraft rule"):
- prompt tokens = ceil(text bytes / 4) + 1,600 per image (base64 image bytes are not text);
- the part of the prompt the same conversation cached on an earlier turn (same key, same prompt
  start, within the cache TTL, see prompt_history.py) is priced as a cache read; the rest as a cache
  write at the TTL the request's breakpoints ask for, or as plain input when it has no breakpoint;
- output: a streamed answer starts with min(max_tokens, 2,048) and grows 4,096 tokens at a time
  (capped at max_tokens) while it streams; a plain answer cannot be cut, so it holds max_tokens;
- at the account's markup, priced by the same function that bills the request.
Admission asks that the available balance cover the prompt and the first 256 output tokens, and
that the whole first hold fit within the overdraft limit (admission.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codegateway.domain.message_request import MessageRequest
from codegateway.domain.pricing import ModelEntry, cost_of
from codegateway.domain.usage import Usage

INITIAL_STREAM_OUTPUT_TOKENS = 2_048
EXTENSION_OUTPUT_TOKENS = 4_096
# What the available balance itself (not the overdraft) must cover: the prompt and a short answer.
ADMISSION_OUTPUT_TOKENS = 256


@dataclass(frozen=True, slots=True)
class HoldEstimate:
    nano: int
    # The prompt and the first ADMISSION_OUTPUT_TOKENS of output: what `available` must cover.
    must_cover_nano: int
    prompt_tokens: int
    cached_tokens: int
    output_tokens: int


def estimated_prompt_usage(message: MessageRequest, cached_tokens: int) -> Usage:
    assert message.shape is not None
    prompt = message.shape.prompt_tokens
    cached = min(cached_tokens, prompt)
    fresh = prompt - cached
    usage = Usage(cache_read_input_tokens=cached)
    if message.shape.cache_ttl is None:
        usage.input_tokens = fresh
    else:
        usage.cache_creation_input_tokens = fresh
        usage.cache_write_5m_tokens = fresh if message.shape.cache_ttl == "5m" else 0
        usage.cache_write_1h_tokens = fresh if message.shape.cache_ttl == "1h" else 0
    return usage


def initial_output_tokens(message: MessageRequest) -> int:
    max_tokens = message.max_tokens or INITIAL_STREAM_OUTPUT_TOKENS
    return min(max_tokens, INITIAL_STREAM_OUTPUT_TOKENS) if message.stream else max_tokens


def estimate_hold(message: MessageRequest, markup_bp: int, cached_tokens: int, *, at: datetime) -> HoldEstimate:
    usage = estimated_prompt_usage(message, cached_tokens)
    # The request's speed stands in for the response's (which alone is billed).
    usage.speed = "fast" if message.fast else None
    usage.output_tokens = min(ADMISSION_OUTPUT_TOKENS, initial_output_tokens(message))
    must_cover_nano = _billed(usage, message.model, markup_bp, at)
    usage.output_tokens = initial_output_tokens(message)
    return HoldEstimate(
        nano=_billed(usage, message.model, markup_bp, at),
        must_cover_nano=must_cover_nano,
        prompt_tokens=usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens,
        cached_tokens=usage.cache_read_input_tokens,
        output_tokens=usage.output_tokens,
    )


def running_cost_nano(usage: Usage, model: ModelEntry, markup_bp: int, at: datetime) -> int:
    """What the request has cost so far (the usage seen, output estimated while it streams)."""
    return _billed(usage, model, markup_bp, at)


def extension_target_nano(usage: Usage, model: ModelEntry, markup_bp: int, max_tokens: int | None, at: datetime) -> int:
    """The hold to grow to: the cost so far plus the next block of output, never past max_tokens."""
    ahead = Usage(**{name: getattr(usage, name) for name in _COPIED})
    ahead.output_tokens = usage.output_tokens + EXTENSION_OUTPUT_TOKENS
    if max_tokens is not None:
        ahead.output_tokens = min(ahead.output_tokens, max(max_tokens, usage.output_tokens))
    return _billed(ahead, model, markup_bp, at)


def extension_margin_nano(model: ModelEntry, markup_bp: int, fast: bool, at: datetime) -> int:
    """Grow the hold when the running cost comes this close to it: a quarter of an extension, so
    output streamed while the extension is written (or between two checks) stays inside the hold."""
    usage = Usage(output_tokens=EXTENSION_OUTPUT_TOKENS // 4, speed="fast" if fast else None)
    return _billed(usage, model, markup_bp, at)


_COPIED = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_input_tokens",
    "web_search_requests",
    "speed",
)


def _billed(usage: Usage, model: ModelEntry, markup_bp: int, at: datetime) -> int:
    return cost_of(usage, model, markup_bp, at=at).billed_nano
