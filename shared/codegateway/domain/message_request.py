"""Validate a Messages request body just enough to route, price and admit it. No I/O.

The body is forwarded byte for byte; nothing here rewrites it. Every number a client sends is read
as an attack on the balance until validated: `max_tokens` sizes the hold, so it must be a real
positive integer (JSON `true` is not one, nor `"64"`, `1.5` or `-1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from codegateway.domain.catalog import FAMILY_POLICY, Catalog
from codegateway.domain.pricing import ModelEntry
from codegateway.domain.prompt_shape import PromptShape, prompt_shape
from codegateway.errors import InvalidRequest, UnknownModel

# No Anthropic model id is near this long; a longer one is refused before any near-id search.
MAX_MODEL_ID_CHARS = 256


@dataclass(frozen=True, slots=True)
class MessageRequest:
    # The catalog entry the request is priced with (the id it names may be unknown or suffixed).
    model: ModelEntry
    stream: bool
    max_tokens: int | None
    body_bytes: int
    # Fast mode costs more: the admission estimate sizes the hold by it. Billing never reads it; it
    # reads the response's usage.speed.
    fast: bool = False
    # The id as sent (forwarded untouched) and, when that is not the entry's own id, the entry's.
    model_id: str = ""
    priced_as: str | None = None
    priced_by_family: bool = False
    # The catalog the request was admitted (and is billed) with.
    catalog_version: str = ""
    # What the hold estimate reads of the prompt (sizes, cache breakpoints), never its text.
    shape: PromptShape | None = None


def parse_message_request(
    body: bytes, catalog: Catalog, unknown_model_policy: str = FAMILY_POLICY, *, require_max_tokens: bool = True
) -> MessageRequest:
    """require_max_tokens: Messages requires it; count_tokens has none (and is never held)."""
    payload = _json_object(body)
    model_id = payload.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise InvalidRequest("model: Field required (a model id string, e.g. claude-sonnet-4-6).")
    if len(model_id) > MAX_MODEL_ID_CHARS:
        raise InvalidRequest(f"model: at most {MAX_MODEL_ID_CHARS} characters.")
    if not isinstance(payload.get("messages"), list):
        raise InvalidRequest("messages: Field required (a list of message objects).")
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("stream: must be a boolean (true or false).")
    resolution = catalog.resolve(model_id, unknown_model_policy)
    if resolution is None:
        raise UnknownModel(unknown_model_message(model_id, catalog))
    max_tokens = _max_tokens(payload, required=require_max_tokens)
    return MessageRequest(
        model=resolution.entry,
        stream=stream,
        max_tokens=max_tokens,
        body_bytes=len(body),
        fast=payload.get("speed") == "fast",
        model_id=model_id,
        priced_as=resolution.priced_as,
        priced_by_family=resolution.by_family,
        catalog_version=catalog.version,
        shape=prompt_shape(payload, len(body)),
    )


def _max_tokens(payload: dict[str, Any], *, required: bool) -> int | None:
    if "max_tokens" not in payload and not required:
        return None
    value = payload.get("max_tokens")
    # bool is an int subclass in Python: `true` must not pass as 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequest("max_tokens: Field required, an integer of at least 1.")
    return value


def unknown_model_message(model_id: str, catalog: Catalog) -> str:
    shown = model_id if len(model_id) <= 100 else model_id[:100] + "..."
    message = f"model: '{shown}' is not a model this gateway serves."
    nearest = catalog.nearest_ids(model_id)
    if nearest:
        message += " Did you mean " + " or ".join(f"'{model}'" for model in nearest) + "?"
    return message + " GET /v1/models lists every model id."


def _json_object(body: bytes) -> dict[str, Any]:
    if not body or body.isspace():  # not body.strip(): no copy of a large body
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return payload
