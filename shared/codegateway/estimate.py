"""The cost a request is admitted against, before anyone knows its real usage. No I/O.

The rule (stated in the README): input tokens = ceil(request body bytes / 4), every one priced at the
model's input rate (no cache discount assumed); output tokens = min(max_tokens, typical output
tokens); both at the account's markup, rounded up. A request whose actual cost exceeds its estimate
can take the balance below zero by the difference, and by nothing more.
"""

from __future__ import annotations

from codegateway.message_request import MessageRequest
from codegateway.pricing import apply_markup

BYTES_PER_TOKEN = 4


def estimated_input_tokens(body_bytes: int) -> int:
    return -(-body_bytes // BYTES_PER_TOKEN)


def estimated_output_tokens(max_tokens: int | None, typical_output_tokens: int) -> int:
    return min(max_tokens, typical_output_tokens) if max_tokens is not None else typical_output_tokens


def estimate_cost_nano(message: MessageRequest, markup_bp: int, typical_output_tokens: int) -> int:
    prices = message.model.prices_for("fast" if message.fast else None)
    base = (
        estimated_input_tokens(message.body_bytes) * prices.input
        + estimated_output_tokens(message.max_tokens, typical_output_tokens) * prices.output
    )
    return apply_markup(base, markup_bp)
