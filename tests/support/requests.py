"""Request helpers for integration tests."""

from __future__ import annotations

import orjson


def message_body(
    model: str = "claude-sonnet-4-6",
    *,
    stream: bool = True,
    max_tokens: int = 64,
    text: str = "hi",
    size: int | None = None,
) -> bytes:
    """A Messages body; with `size`, padded (inside the prompt text) to exactly that many bytes."""
    body = orjson.dumps(
        {"model": model, "max_tokens": max_tokens, "stream": stream, "messages": [{"role": "user", "content": text}]}
    )
    if size is None:
        return body
    padding = size - len(body)
    assert padding >= 0, f"body is already {len(body)} bytes"
    return orjson.dumps(
        {
            "model": model,
            "max_tokens": max_tokens,
            "stream": stream,
            "messages": [{"role": "user", "content": text + " " * padding}],
        }
    )
