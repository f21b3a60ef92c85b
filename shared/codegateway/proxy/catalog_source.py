"""The pricing catalog in force in this process: the operator's (`cgw prices import`, kept in DynamoDB)
when there is one, else the bundled file. Read once at start-up and refreshed in the background, so
a price change reaches every warm proxy within CGW_PRICING_CATALOG_REFRESH_S and no request waits
for it. A stored catalog that cannot be read or parsed never replaces a good one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from codegateway.domain.catalog import Catalog

# (version, catalog JSON) of the operator's current catalog, or None when none was imported.
FetchStored = Callable[[], tuple[str, str] | None]
logger = logging.getLogger("codegateway.proxy.catalog_source")
# After a failed refresh, try again this much sooner than a full interval.
_RETRY_AFTER_FAILURE_S = 30.0


class CatalogSource:
    def __init__(self, bundled: Catalog, fetch_stored: FetchStored | None, refresh_after_s: float) -> None:
        self._catalog = bundled
        self._fetch_stored = fetch_stored
        self._refresh_after_s = refresh_after_s
        self._fetched_at = time.monotonic()
        self._refreshing: asyncio.Task[None] | None = None
        self._stored_version: str | None = None

    def load(self) -> None:
        """Blocking first read, at start-up. Any failure leaves the bundled catalog in force."""
        if self._fetch_stored is not None:
            self._read_stored()

    def current(self) -> Catalog:
        stale = time.monotonic() - self._fetched_at > self._refresh_after_s
        if self._fetch_stored is not None and stale and self._refreshing is None:
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        return self._catalog

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._read_stored)
        finally:
            self._refreshing = None

    def _read_stored(self) -> None:
        assert self._fetch_stored is not None
        try:
            stored = self._fetch_stored()
            if stored is not None and stored[0] != self._stored_version:
                self._catalog = Catalog.from_json(stored[1])
                self._stored_version = stored[0]
                logger.info("pricing catalog %s in force", stored[0])
            self._fetched_at = time.monotonic()
        except Exception:
            logger.exception("the stored pricing catalog could not be read; keeping %s", self._catalog.version)
            self._fetched_at = time.monotonic() - self._refresh_after_s + _RETRY_AFTER_FAILURE_S
