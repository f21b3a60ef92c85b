"""The cost a request is admitted against, before anyone knows its real usage. No I/O.

The rule (stated in the README): input tokens = ceil(request body bytes / 4), every one priced at the
model's input rate (no cache discount assumed); output tokens = min(max_tokens, typical output
tokens); both at the account's markup, rounded up. A request whose actual cost exceeds its estimate
can take the balance below zero by the difference, and by nothing more.
"""

from __future__ import annotations

from datetime import datetime

from codegateway.message_request import MessageRequest
from codegateway.pricing import cost_of
from codegateway.usage import Usage

BYTES_PER_TOKEN = 4


def estimated_input_tokens(body_bytes: int) -> int:
    return -(-body_bytes // BYTES_PER_TOKEN)


def estimated_output_tokens(max_tokens: int | None, typical_output_tokens: int) -> int:
    return min(max_tokens, typical_output_tokens) if max_tokens is not None else typical_output_tokens


def estimate_cost_nano(message: MessageRequest, markup_bp: int, typical_output_tokens: int, *, at: datetime) -> int:
    # Priced by the same function as the bill; the request's speed stands in for the response's.
    hypothetical = Usage(
        input_tokens=estimated_input_tokens(message.body_bytes),
        output_tokens=estimated_output_tokens(message.max_tokens, typical_output_tokens),
        speed="fast" if message.fast else None,
    )
    return cost_of(hypothetical, message.model, markup_bp, at=at).billed_nano
