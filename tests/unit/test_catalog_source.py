"""Which catalog a proxy prices with: the operator's when one was imported, the bundled file when
none was or it cannot be read, never a broken one."""

from __future__ import annotations

import json
from importlib import resources

from codegateway.accounts.prices import check_upstream_ids
from codegateway.domain.catalog import Catalog
from codegateway.proxy.catalog_source import CatalogSource, FetchStored

BUNDLED_TEXT = resources.files("codegateway.domain").joinpath("pricing_catalog.json").read_text()
BUNDLED = Catalog.from_json(BUNDLED_TEXT)
OPERATOR_TEXT = json.dumps({**json.loads(BUNDLED_TEXT), "version": "operator-1"})


def _source(fetch: FetchStored) -> CatalogSource:
    source = CatalogSource(BUNDLED, fetch, refresh_after_s=60)
    source.load()
    return source


def test_with_no_imported_catalog_the_bundled_one_is_in_force() -> None:
    assert _source(lambda: None).current() is BUNDLED


def test_an_imported_catalog_is_in_force() -> None:
    assert _source(lambda: ("operator-1", OPERATOR_TEXT)).current().version == "operator-1"


def test_an_unreadable_store_leaves_the_bundled_catalog_in_force() -> None:
    def unreachable() -> tuple[str, str] | None:
        raise ConnectionError("DynamoDB is down")

    assert _source(unreachable).current() is BUNDLED


def test_a_broken_stored_catalog_never_replaces_a_good_one() -> None:
    assert _source(lambda: ("operator-2", '{"models": [')).current() is BUNDLED


def test_check_sorts_upstream_ids_into_priced_by_family_and_unpriced() -> None:
    checked = check_upstream_ids(BUNDLED, ["claude-opus-5-5", "claude-opus-6", "claude-sonnet-5-5[1m]", "gpt-5"])
    assert (checked.priced_by_family, checked.unpriced) == (["claude-opus-6"], ["gpt-5"])
