"""The gateway's model catalog in the shape of OpenAI's `GET /v1/models`. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


def to_openai_model_list(models: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """(model id, created_at as ISO 8601) pairs -> {"object": "list", "data": [...]}."""
    return {
        "object": "list",
        "data": [
            {"id": model_id, "object": "model", "created": _unix_seconds(created_at), "owned_by": "anthropic"}
            for model_id, created_at in models
        ],
    }


def _unix_seconds(iso_timestamp: str) -> int:
    moment = datetime.fromisoformat(iso_timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
