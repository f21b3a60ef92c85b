"""Cost of a request in integer nano-USD, from its usage and its model's catalog entry. No I/O.

Rates are integer pico-USD per token: some stacked rates are fractions of a nano-USD (Haiku 5.5's
5-minute write at 1.1x is 137.5 n$ per token), so the whole request is summed exactly and rounded once,
up, to a whole nano-USD, markup included (docs/reference/pricing.md: Anthropic publishes no
rounding rule of its own, and rounding up never under-bills by more than $0.000000001 per request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from codegateway.domain.money import BASIS_POINTS, NANO_PER_USD
from codegateway.domain.usage import Usage

if TYPE_CHECKING:
    from codegateway.domain.catalog import Catalog

PICO_PER_NANO = 1_000
PICO_PER_USD = NANO_PER_USD * PICO_PER_NANO
_MTOK = 1_000_000
# Scaled sums carry two multipliers (fast, data residency) in basis points each.
_MULTIPLIER_SCALE = BASIS_POINTS * BASIS_POINTS

LATEST, ACTIVE, LEGACY, DEPRECATED, RETIRED = "latest", "active", "legacy", "deprecated", "retired"
STATUSES = (LATEST, ACTIVE, LEGACY, DEPRECATED, RETIRED)


@dataclass(frozen=True, slots=True)
class ClassRates:
    """pico-USD per token, by token class."""

    input: int
    output: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int


@dataclass(frozen=True, slots=True)
class Band:
    """Rates that replace every class's rate once a request's prompt is over prompt_tokens_over."""

    prompt_tokens_over: int
    rates: ClassRates


@dataclass(frozen=True, slots=True)
class RatePeriod:
    """Rates in force from starts_at (None: since the model's release) until the next period."""

    starts_at: datetime | None
    rates: ClassRates
    bands: tuple[Band, ...] = ()

    def rates_for_prompt(self, prompt_tokens: int) -> ClassRates:
        chosen = self.rates
        for band in sorted(self.bands, key=lambda band: band.prompt_tokens_over):
            if prompt_tokens > band.prompt_tokens_over:
                chosen = band.rates
        return chosen


@dataclass(frozen=True, slots=True)
class ModelEntry:
    model_id: str
    family: str
    display_name: str
    created_at: str
    status: str
    periods: tuple[RatePeriod, ...]
    # Basis points: 20_000 is 2x. Fast applies when the response says usage.speed == "fast", data
    # residency when it says usage.inference_geo == "us"; 10_000 where the model has no surcharge.
    fast_multiplier_bp: int = BASIS_POINTS
    us_residency_multiplier_bp: int = BASIS_POINTS
    web_search_pico_per_request: int = 0
    retires_at: str | None = None

    @property
    def served(self) -> bool:
        return self.status != RETIRED

    def period_at(self, at: datetime) -> RatePeriod:
        in_force = self.periods[0]
        for period in self.periods[1:]:
            if period.starts_at is not None and period.starts_at <= at:
                in_force = period
        return in_force

    def rates_at(self, at: datetime, prompt_tokens: int = 0) -> ClassRates:
        return self.period_at(at).rates_for_prompt(prompt_tokens)


@dataclass(frozen=True, slots=True)
class Cost:
    base_nano: int  # before markup, rounded up
    markup_bp: int
    billed_nano: int  # the one figure charged: markup applied, then one rounding up


def usd_to_nano(usd: str) -> int:
    nano = Decimal(usd) * NANO_PER_USD
    if nano != nano.to_integral_value():
        raise ValueError(f"{usd} USD is not a whole number of nano-USD")
    return int(nano)


def usd_to_pico(usd: str) -> int:
    pico = Decimal(usd) * PICO_PER_USD
    if pico != pico.to_integral_value():
        raise ValueError(f"{usd} USD is not a whole number of pico-USD")
    return int(pico)


def usd_per_mtok_to_pico_per_token(usd_per_mtok: str) -> int:
    """$N per MTok is N x 10^6 pico-USD per token."""
    pico = Decimal(usd_per_mtok) * PICO_PER_USD / _MTOK
    if pico != pico.to_integral_value():
        raise ValueError(f"{usd_per_mtok} USD/MTok is not a whole number of pico-USD per token")
    return int(pico)


def _tokens_times_rates_pico(usage: Usage, rates: ClassRates) -> int:
    write_5m, write_1h = usage.cache_writes_by_ttl
    return (
        usage.input_tokens * rates.input
        + usage.output_tokens * rates.output
        + write_5m * rates.cache_write_5m
        + write_1h * rates.cache_write_1h
        + usage.cache_read_input_tokens * rates.cache_read
    )


def _scaled_token_pico(usage: Usage, entry: ModelEntry, at: datetime) -> int:
    """Token cost in pico-USD x _MULTIPLIER_SCALE (exact: no rounding yet)."""
    rates = entry.rates_at(at, usage.prompt_tokens)
    fast_bp = entry.fast_multiplier_bp if usage.speed == "fast" else BASIS_POINTS
    geo_bp = entry.us_residency_multiplier_bp if usage.inference_geo == "us" else BASIS_POINTS
    return _tokens_times_rates_pico(usage, rates) * fast_bp * geo_bp


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def cost_of(
    usage: Usage,
    entry: ModelEntry,
    markup_bp: int,
    *,
    at: datetime,
    catalog: Catalog | None = None,
) -> Cost:
    """What one request costs: every token class at the rates in force at `at` (the request's
    created_at), fast and data residency as the response reported them, web searches per request.

    With usage.iterations (server-side fallback, advisor, compaction) each iteration is priced at its
    own model's rates (its id resolved in `catalog` as a request's is; the request's model when it
    names none or none resolves) and the top-level token counts, which cover only the executor's
    iterations, are not added again. A refusal before any output is not billed (docs/reference/pricing.md)."""
    if usage.refused_before_output:
        return Cost(base_nano=0, markup_bp=markup_bp, billed_nano=0)
    if usage.iterations:
        scaled = 0
        for iteration in usage.iterations:
            if iteration.usage.refused_before_output:
                continue  # an attempt declined before output is not charged
            found = catalog.resolve(iteration.model) if catalog and iteration.model else None
            scaled += _scaled_token_pico(iteration.usage, found.entry if found else entry, at)
    else:
        scaled = _scaled_token_pico(usage, entry, at)
    scaled += usage.web_search_requests * entry.web_search_pico_per_request * _MULTIPLIER_SCALE
    to_nano = _MULTIPLIER_SCALE * PICO_PER_NANO
    return Cost(
        base_nano=_ceil_div(scaled, to_nano),
        markup_bp=markup_bp,
        billed_nano=_ceil_div(scaled * markup_bp, to_nano * BASIS_POINTS),
    )


def apply_markup(base_nano: int, markup_bp: int) -> int:
    """Billed nano-USD for a whole-nano base, rounded up (cost_of applies markup before its own
    single rounding; this is for amounts that are already whole nano-USD)."""
    return _ceil_div(base_nano * markup_bp, BASIS_POINTS)


def nano_to_usd_str(nano: int) -> str:
    """Exact decimal string of a nano-USD amount, at least two decimals: 31_500_000 -> '0.0315'."""
    sign = "-" if nano < 0 else ""
    whole, fraction = divmod(abs(nano), NANO_PER_USD)
    digits = f"{fraction:09d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
