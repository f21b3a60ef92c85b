"""Secrets the proxy needs (the upstream API key, the CloudFront origin header value): a plain setting
locally, a Secrets Manager secret when deployed - read through Powertools Parameters at start-up and
refreshed in the background, so no request ever waits for Secrets Manager."""

from __future__ import annotations

import asyncio
import time

import orjson
from pydantic import SecretStr


def _fetch_secret(secret_id: str, json_field: str | None) -> str:
    from aws_lambda_powertools.utilities import parameters  # deployed only: keep it off local start-up

    value = parameters.get_secret(secret_id, force_fetch=True)
    text = value.decode() if isinstance(value, bytes) else str(value)
    # The upstream key may be stored bare or as a JSON object {"api_key": "..."}.
    if json_field and text.lstrip().startswith("{"):
        text = str(orjson.loads(text)[json_field])
    return text.strip()


class SecretSource:
    def __init__(
        self, plain: SecretStr | None, secret_id: str | None, max_age_s: float, json_field: str | None = None
    ) -> None:
        self._secret_id = secret_id or None
        self._json_field = json_field
        self._max_age_s = max_age_s
        self._value = plain.get_secret_value() if plain else ""
        self._fetched_at = time.monotonic()
        self._refreshing: asyncio.Task[None] | None = None

    @property
    def configured(self) -> bool:
        return bool(self._value or self._secret_id)

    def load(self) -> None:
        """Blocking first read, at start-up (inside Lambda's init phase, not a request)."""
        if self._secret_id:
            self._value = _fetch_secret(self._secret_id, self._json_field)
            self._fetched_at = time.monotonic()

    def current(self) -> str:
        if self._secret_id and time.monotonic() - self._fetched_at > self._max_age_s and self._refreshing is None:
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        return self._value

    async def _refresh(self) -> None:
        try:
            assert self._secret_id is not None
            self._value = await asyncio.to_thread(_fetch_secret, self._secret_id, self._json_field)
            self._fetched_at = time.monotonic()
        except Exception:
            self._fetched_at = time.monotonic() - self._max_age_s + 30
        finally:
            self._refreshing = None
