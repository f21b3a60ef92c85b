"""The gateway's long-lived parts, built once per process (at start-up, never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codegateway.domain.catalog import Catalog
from codegateway.domain.keys import VerifiedKeyCache
from codegateway.proxy.admission import Admission
from codegateway.proxy.auth import Authenticator
from codegateway.proxy.catalog_source import CatalogSource, FetchStored
from codegateway.proxy.diagnostics import Diagnostics
from codegateway.proxy.prompt_history import PromptHistory
from codegateway.proxy.rate_limit import RateLimiter
from codegateway.proxy.secret_source import SecretSource
from codegateway.proxy.settlement import Settlement
from codegateway.proxy.upstream import Upstream
from codegateway.settings import Settings
from codegateway.store import Store, build_store

if TYPE_CHECKING:
    import httpx


@dataclass
class Gateway:
    settings: Settings
    store: Store
    catalog_source: CatalogSource
    upstream: Upstream
    verified_keys: VerifiedKeyCache
    authenticator: Authenticator
    admission: Admission
    settlement: Settlement
    diagnostics: Diagnostics
    # When configured (the edge is on), every request must carry it in x-cgw-origin-verify.
    origin_secret: SecretSource

    @property
    def catalog(self) -> Catalog:
        return self.catalog_source.current()

    async def aclose(self) -> None:
        await self.upstream.aclose()
        self.store.ledger.close()


def build_gateway(
    settings: Settings,
    *,
    store: Store | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Gateway:
    store = store or build_store(settings, loop_calls=True)
    rate_limiter = RateLimiter(store, settings.default_rpm_limit)
    upstream_key = SecretSource(
        settings.upstream_api_key,
        settings.upstream_api_key_secret_id,
        settings.upstream_secret_max_age_s,
        json_field="api_key",
    )
    upstream_key.load()
    origin_secret = SecretSource(
        settings.origin_verify_secret, settings.origin_verify_secret_id, settings.upstream_secret_max_age_s
    )
    origin_secret.load()
    verified = VerifiedKeyCache()
    catalog_source = CatalogSource(
        Catalog.load(settings.pricing_catalog_path),
        _stored_catalog_reader(store) if settings.pricing_catalog_source == "dynamodb" else None,
        settings.pricing_catalog_refresh_s,
    )
    catalog_source.load()
    prompt_history = PromptHistory()
    return Gateway(
        settings=settings,
        store=store,
        catalog_source=catalog_source,
        upstream=Upstream(settings, upstream_key.current, transport=upstream_transport),
        origin_secret=origin_secret,
        verified_keys=verified,
        authenticator=Authenticator(
            store,
            verified,
            refresh_after_s=settings.record_refresh_after_s,
            max_age_s=settings.record_max_age_s,
        ),
        admission=Admission(store, settings, rate_limiter, prompt_history),
        settlement=Settlement(store, catalog_source.current, prompt_history),
        diagnostics=Diagnostics(
            rate_limiter,
            keepalive_interval_s=settings.keepalive_interval_s,
            streams_per_minute=settings.diagnostics_streams_per_minute,
        ),
    )


def _stored_catalog_reader(store: Store) -> FetchStored:
    def read() -> tuple[str, str] | None:
        stored = store.pricing_catalogs.current()
        return (stored.version, stored.catalog_json) if stored else None

    return read
