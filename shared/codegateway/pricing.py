"""The pricing catalog (data, see pricing_catalog.json) and cost in integer nano-USD. No I/O but the
one-time catalog read; no floats: prices are parsed as exact decimals and held as integers."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from codegateway.units import BASIS_POINTS, NANO_PER_USD
from codegateway.usage import Usage

_MTOK = 1_000_000


@dataclass(frozen=True, slots=True)
class ClassPrices:
    """nano-USD per token, by token class."""

    input: int
    output: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int


@dataclass(frozen=True, slots=True)
class ModelEntry:
    model_id: str
    display_name: str
    created_at: str
    prices: ClassPrices
    fast_prices: ClassPrices | None = None

    def prices_for(self, speed: str | None) -> ClassPrices:
        return self.fast_prices if speed == "fast" and self.fast_prices else self.prices


@dataclass(frozen=True, slots=True)
class Cost:
    base_nano: int
    markup_bp: int
    billed_nano: int


def usd_to_nano(usd: str) -> int:
    nano = Decimal(usd) * NANO_PER_USD
    if nano != nano.to_integral_value():
        raise ValueError(f"{usd} USD is not a whole number of nano-USD")
    return int(nano)


def _per_token(usd_per_mtok: str) -> int:
    nano = Decimal(usd_per_mtok) * NANO_PER_USD / _MTOK
    if nano != nano.to_integral_value():
        raise ValueError(f"{usd_per_mtok} USD/MTok is not a whole number of nano-USD per token")
    return int(nano)


def _class_prices(group: dict[str, str]) -> ClassPrices:
    return ClassPrices(**{name: _per_token(value) for name, value in group.items()})


class Catalog:
    def __init__(self, models: list[ModelEntry], web_search_nano_per_request: int) -> None:
        self._models = {entry.model_id: entry for entry in models}
        self.models = models
        self.web_search_nano_per_request = web_search_nano_per_request

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        raw = json.loads(text)
        groups = {name: _class_prices(group) for name, group in raw["price_groups"].items()}
        models = [
            ModelEntry(
                model_id=entry["id"],
                display_name=entry["display_name"],
                created_at=entry["created_at"],
                prices=groups[entry["prices"]],
                fast_prices=groups[entry["fast_prices"]] if "fast_prices" in entry else None,
            )
            for entry in raw["models"]
        ]
        return cls(models, usd_to_nano(raw["web_search_usd_per_request"]))

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        if path is not None:
            return cls.from_json(path.read_text())
        return cls.from_json(resources.files("codegateway").joinpath("pricing_catalog.json").read_text())

    def get(self, model_id: str) -> ModelEntry | None:
        return self._models.get(model_id)

    def nearest_ids(self, model_id: str, limit: int = 3) -> list[str]:
        """Catalog ids a client probably meant: `claude-sonnet-4.6` -> `claude-sonnet-4-6`."""
        normalised = model_id.strip().lower().replace(".", "-").replace("_", "-").replace(" ", "-")
        exact = [normalised] if normalised in self._models else []
        close = difflib.get_close_matches(normalised, list(self._models), n=limit, cutoff=0.6)
        return list(dict.fromkeys(exact + close))[:limit]


def base_cost_nano(usage: Usage, prices: ClassPrices, web_search_nano_per_request: int) -> int:
    write_5m, write_1h = usage.cache_writes_by_ttl
    return (
        usage.input_tokens * prices.input
        + usage.output_tokens * prices.output
        + write_5m * prices.cache_write_5m
        + write_1h * prices.cache_write_1h
        + usage.cache_read_input_tokens * prices.cache_read
        + usage.web_search_requests * web_search_nano_per_request
    )


def apply_markup(base_nano: int, markup_bp: int) -> int:
    """Billed nano-USD. The one rounding rule: round up to the next whole nano-USD (never under-bill,
    at most 1 nano-USD, $0.000000001, over)."""
    return -((-base_nano * markup_bp) // BASIS_POINTS)


def cost_of(usage: Usage, entry: ModelEntry, markup_bp: int, web_search_nano_per_request: int) -> Cost:
    base = base_cost_nano(usage, entry.prices_for(usage.speed), web_search_nano_per_request)
    return Cost(base_nano=base, markup_bp=markup_bp, billed_nano=apply_markup(base, markup_bp))


def nano_to_usd_str(nano: int) -> str:
    """Exact decimal string of a nano-USD amount, at least two decimals: 31_500_000 -> '0.0315'."""
    sign = "-" if nano < 0 else ""
    whole, fraction = divmod(abs(nano), NANO_PER_USD)
    digits = f"{fraction:09d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
