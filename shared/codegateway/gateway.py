"""The gateway's long-lived parts, built once per process (at start-up, never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codegateway.admission import Admission
from codegateway.auth import Authenticator
from codegateway.diagnostics import Diagnostics
from codegateway.keys import VerifiedKeyCache
from codegateway.pricing import Catalog
from codegateway.rate_limit import RateLimiter
from codegateway.secret_source import SecretSource
from codegateway.settings import Settings
from codegateway.settlement import Settlement
from codegateway.store import Store, build_store
from codegateway.upstream import Upstream

if TYPE_CHECKING:
    import httpx


@dataclass
class Gateway:
    settings: Settings
    store: Store
    catalog: Catalog
    upstream: Upstream
    verified_keys: VerifiedKeyCache
    authenticator: Authenticator
    admission: Admission
    settlement: Settlement
    diagnostics: Diagnostics
    # When configured (the edge is on), every request must carry it in x-cgw-origin-verify.
    origin_secret: SecretSource

    async def aclose(self) -> None:
        await self.upstream.aclose()


def build_gateway(
    settings: Settings,
    *,
    store: Store | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Gateway:
    store = store or build_store(settings)
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
    catalog = Catalog.load(settings.pricing_catalog_path)
    return Gateway(
        settings=settings,
        store=store,
        catalog=catalog,
        upstream=Upstream(settings, upstream_key.current, transport=upstream_transport),
        origin_secret=origin_secret,
        verified_keys=verified,
        authenticator=Authenticator(
            store,
            verified,
            refresh_after_s=settings.record_refresh_after_s,
            max_age_s=settings.record_max_age_s,
        ),
        admission=Admission(store, settings, rate_limiter),
        settlement=Settlement(store, catalog),
        diagnostics=Diagnostics(
            rate_limiter,
            keepalive_interval_s=settings.keepalive_interval_s,
            streams_per_minute=settings.diagnostics_streams_per_minute,
        ),
    )
