"""Where the upstream API key comes from: CGW_UPSTREAM_API_KEY locally, Secrets Manager when deployed
(read through Powertools Parameters, cached, refreshed in the background so no request waits)."""

from __future__ import annotations

import asyncio
import time

import orjson

from codegateway.settings import Settings


def _fetch_secret(secret_id: str) -> str:
    from aws_lambda_powertools.utilities import parameters  # deployed only: keep it off local start-up

    value = parameters.get_secret(secret_id, force_fetch=True)
    text = value.decode() if isinstance(value, bytes) else str(value)
    # The secret may be the bare key or a JSON object {"api_key": "..."}.
    if text.lstrip().startswith("{"):
        text = str(orjson.loads(text)["api_key"])
    return text.strip()


class UpstreamKeySource:
    def __init__(self, settings: Settings) -> None:
        self._secret_id = settings.upstream_api_key_secret_id
        self._max_age_s = settings.upstream_secret_max_age_s
        self._value = settings.upstream_api_key.get_secret_value() if settings.upstream_api_key else ""
        self._fetched_at = time.monotonic()
        self._refreshing: asyncio.Task[None] | None = None

    def load(self) -> None:
        """Blocking first read, at start-up (inside Lambda's init phase, not a request)."""
        if self._secret_id:
            self._value = _fetch_secret(self._secret_id)
            self._fetched_at = time.monotonic()

    def current(self) -> str:
        if self._secret_id and time.monotonic() - self._fetched_at > self._max_age_s and self._refreshing is None:
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        return self._value

    async def _refresh(self) -> None:
        try:
            assert self._secret_id is not None
            self._value = await asyncio.to_thread(_fetch_secret, self._secret_id)
            self._fetched_at = time.monotonic()
        except Exception:
            self._fetched_at = time.monotonic() - self._max_age_s + 30
        finally:
            self._refreshing = None
