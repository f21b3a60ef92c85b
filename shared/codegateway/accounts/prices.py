"""Operator price updates: import a catalog (validated, versioned), show the one in force, and find
the upstream's model ids the catalog cannot price. No HTTP here; the CLI fetches the upstream's list."""

from __future__ import annotations

import json
from dataclasses import dataclass

from codegateway.domain.catalog import FAMILY_POLICY, REFUSE_POLICY, Catalog
from codegateway.errors import Conflict, InvalidRequest
from codegateway.store import Store, StoredCatalog


def parse_catalog(text: str) -> Catalog:
    """The catalog in `text`, or InvalidRequest saying what is wrong with it."""
    try:
        catalog = Catalog.from_json(text)
    except json.JSONDecodeError as error:
        raise InvalidRequest(f"the catalog is not valid JSON: {error}") from None
    except KeyError as error:
        raise InvalidRequest(f"the catalog lacks {error} (a field, or a price group a model names)") from None
    except (ValueError, TypeError) as error:
        raise InvalidRequest(f"the catalog is not valid: {error}") from None
    if not catalog.version:
        raise InvalidRequest('the catalog needs a "version" (e.g. "2027-01-15"): usage records note it.')
    if not catalog.served_models:
        raise InvalidRequest("the catalog serves no model (every one is retired).")
    return catalog


def import_catalog(store: Store, text: str, *, actor: str, imported_at: str) -> StoredCatalog:
    """Make `text` the catalog in force: every proxy applies it within CGW_PRICING_CATALOG_REFRESH_S."""
    catalog = parse_catalog(text)
    current = store.pricing_catalogs.current()
    if current is not None and current.version == catalog.version:
        raise Conflict(f"version {catalog.version!r} is already in force: give the new catalog a new version.")
    stored = StoredCatalog(version=catalog.version, catalog_json=text, imported_at=imported_at, actor=actor)
    store.pricing_catalogs.put_current(stored, replaces_version=current.version if current else None)
    return stored


@dataclass(frozen=True)
class CatalogInForce:
    catalog: Catalog
    source: str  # "imported" or "bundled"
    stored: StoredCatalog | None


def catalog_in_force(store: Store, bundled: Catalog) -> CatalogInForce:
    stored = store.pricing_catalogs.current()
    if stored is None:
        return CatalogInForce(bundled, "bundled", None)
    return CatalogInForce(Catalog.from_json(stored.catalog_json), "imported", stored)


@dataclass(frozen=True)
class PriceCheck:
    unpriced: list[str]  # refused (422) under either policy
    priced_by_family: list[str]  # admitted only by the family policy, at another model's prices


def check_upstream_ids(catalog: Catalog, upstream_ids: list[str]) -> PriceCheck:
    unpriced: list[str] = []
    by_family: list[str] = []
    for model_id in upstream_ids:
        if catalog.resolve(model_id, REFUSE_POLICY) is not None:
            continue
        (by_family if catalog.resolve(model_id, FAMILY_POLICY) else unpriced).append(model_id)
    return PriceCheck(unpriced, by_family)
