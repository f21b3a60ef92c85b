"""cgw prices show | import FILE | check: the pricing catalog in force, changed without a redeploy."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from codegateway.cli.context import EXIT_FAILED, EXIT_UNREACHABLE, Admin, admin_command, fail
from codegateway.cli.output import FormatOption, OutputFormat, note, print_json, print_table

prices_app = typer.Typer(help="The pricing catalog in force.", no_args_is_help=True, add_completion=False)
_COLUMNS = ("id", "status", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "rules")


def _usd_per_mtok(pico_per_token: int) -> str:
    return format(Decimal(pico_per_token) / 1_000_000, "f").rstrip("0").rstrip(".") or "0"


def _rows(catalog: Any) -> list[dict[str, Any]]:
    from codegateway.domain.clock import utc_now
    from codegateway.domain.money import BASIS_POINTS

    now = utc_now()
    rows = []
    for entry in catalog.models:
        rates = entry.rates_at(now)
        rules = []
        if entry.period_at(now).bands:
            rules.append("prompt bands")
        if len(entry.periods) > 1:
            rules.append("dated rates")
        if entry.fast_multiplier_bp != BASIS_POINTS:
            rules.append(f"fast x{Decimal(entry.fast_multiplier_bp) / BASIS_POINTS}")
        if entry.us_residency_multiplier_bp != BASIS_POINTS:
            rules.append(f"us x{Decimal(entry.us_residency_multiplier_bp) / BASIS_POINTS}")
        rows.append(
            {
                "id": entry.model_id,
                "status": entry.status,
                **{name: _usd_per_mtok(getattr(rates, name)) for name in _COLUMNS[2:7]},
                "rules": ", ".join(rules),
            }
        )
    return rows


@prices_app.command()
@admin_command
def show(admin: Admin, output: FormatOption = OutputFormat.table) -> None:
    """The catalog the proxies price with now (USD per million tokens, today's rates)."""
    from codegateway.accounts.prices import catalog_in_force
    from codegateway.domain.catalog import Catalog

    in_force = catalog_in_force(admin.store, Catalog.load(admin.settings.pricing_catalog_path))
    stored = in_force.stored
    about = {
        "version": in_force.catalog.version,
        "source": in_force.source,
        "imported_at": stored.imported_at if stored else None,
        "imported_by": stored.actor if stored else None,
    }
    if output is OutputFormat.json:
        print_json({**about, "models": _rows(in_force.catalog)})
        return
    title = f"Pricing catalog {about['version']} ({in_force.source}"
    title += f", imported {about['imported_at']} by {about['imported_by']})" if stored else ")"
    print_table(title, _rows(in_force.catalog), _COLUMNS)


@prices_app.command(name="import")
@admin_command
def import_(
    admin: Admin,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A catalog JSON file (the bundled shape).")],
) -> None:
    """Validate FILE and make it the catalog in force (every proxy applies it within a minute)."""
    from codegateway.accounts.prices import import_catalog
    from codegateway.domain.clock import now_iso

    stored = import_catalog(admin.store, file.read_text(), actor=admin.actor, imported_at=now_iso())
    typer.echo(f"Pricing catalog {stored.version} is in force (imported {stored.imported_at} by {stored.actor}).")


@prices_app.command()
@admin_command
def check(
    admin: Admin,
    upstream_url: Annotated[str | None, typer.Option(help="Default: CGW_UPSTREAM_URL.")] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """List the model ids the upstream's GET /v1/models serves that the catalog cannot price (exit 1
    if any), so a new model is seen on its release day. Needs CGW_UPSTREAM_API_KEY."""
    from codegateway.accounts.prices import catalog_in_force, check_upstream_ids
    from codegateway.domain.catalog import Catalog

    base_url = (upstream_url or admin.settings.upstream_url).rstrip("/")
    upstream_ids = _upstream_model_ids(base_url, os.environ.get("CGW_UPSTREAM_API_KEY", ""))
    in_force = catalog_in_force(admin.store, Catalog.load(admin.settings.pricing_catalog_path))
    result = check_upstream_ids(in_force.catalog, upstream_ids)
    if output is OutputFormat.json:
        print_json(
            {
                "version": in_force.catalog.version,
                "unpriced": result.unpriced,
                "priced_by_family": result.priced_by_family,
            }
        )
    else:
        for model_id in result.unpriced:
            typer.echo(f"{model_id}: not priced (refused with 422)")
        for model_id in result.priced_by_family:
            typer.echo(f"{model_id}: not in the catalog; priced as its family's newest model")
        note(f"{len(upstream_ids)} upstream models checked against catalog {in_force.catalog.version}.")
    if result.unpriced or result.priced_by_family:
        raise typer.Exit(EXIT_FAILED)


def _upstream_model_ids(base_url: str, api_key: str) -> list[str]:
    import httpx

    headers = {"x-api-key": api_key, "anthropic-version": "2023-06-01"}
    ids: list[str] = []
    params: dict[str, str] = {"limit": "1000"}
    try:
        while True:
            response = httpx.get(f"{base_url}/v1/models", params=params, headers=headers, timeout=30)
            if response.status_code != 200:
                fail(f"{base_url}/v1/models answered {response.status_code}: {response.text[:200]}", EXIT_UNREACHABLE)
            page = response.json()
            ids += [model["id"] for model in page.get("data", [])]
            if not page.get("has_more") or not page.get("last_id"):
                return ids
            params["after_id"] = page["last_id"]
    except httpx.HTTPError as error:
        fail(f"{base_url}/v1/models could not be read: {error}", EXIT_UNREACHABLE)
    return ids


def register_prices_commands(app: typer.Typer) -> None:
    app.add_typer(prices_app, name="prices")
