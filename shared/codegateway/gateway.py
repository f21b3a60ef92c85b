"""The gateway's long-lived parts, built once per process (at start-up, never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codegateway.auth import Authenticator
from codegateway.forwarding import Exchange
from codegateway.keys import VerifiedKeyCache
from codegateway.pricing import Catalog
from codegateway.relay import RelayOutcome
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from codegateway.upstream import Upstream
from codegateway.upstream_key import UpstreamKeySource
from codegateway.usage_capture import UsageCapture

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

    async def aclose(self) -> None:
        await self.upstream.aclose()

    async def admit(self, exchange: Exchange) -> None:
        """Admission beyond authentication (rate limits, balance reservation) hooks in here."""

    async def settle(self, exchange: Exchange, outcome: RelayOutcome, capture: UsageCapture | None) -> None:
        fields = exchange.log_fields
        fields.update(ended=outcome.ended, upstream_status=outcome.status, attempts=exchange.attempts)
        if outcome.first_chunk_s is not None:
            fields["ttfb_ms"] = round(outcome.first_chunk_s * 1000, 1)
        if capture is not None and capture.usage.reported_anything:
            fields.update(input_tokens=capture.usage.input_tokens, output_tokens=capture.usage.output_tokens)


def build_gateway(
    settings: Settings,
    *,
    store: Store | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Gateway:
    store = store or build_store(settings)
    key_source = UpstreamKeySource(settings)
    key_source.load()
    verified = VerifiedKeyCache()
    return Gateway(
        settings=settings,
        store=store,
        catalog=Catalog.load(settings.pricing_catalog_path),
        upstream=Upstream(settings, key_source.current, transport=upstream_transport),
        verified_keys=verified,
        authenticator=Authenticator(store, verified, settings.record_max_age_s),
    )
