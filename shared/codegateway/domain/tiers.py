"""Markup tiers from rolling 90-day billed spend. No I/O; the table is configuration (Settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from codegateway.domain.money import BASIS_POINTS, NANO_PER_USD


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    # The tier applies from this much 90-day spend upward (inclusive).
    min_spend_nano: int
    markup_bp: int

    @property
    def markup_text(self) -> str:
        """'1.5', '1.25', '2': the markup as a decimal string without trailing zeros."""
        whole, fraction = divmod(self.markup_bp, BASIS_POINTS)
        digits = f"{fraction:04d}".rstrip("0")
        return f"{whole}.{digits}" if digits else str(whole)


DEFAULT_TIERS = (
    Tier("starter", 0, 15_000),
    Tier("builder", 10 * NANO_PER_USD, 14_000),
    Tier("team", 100 * NANO_PER_USD, 13_000),
    Tier("scale", 1_000 * NANO_PER_USD, 12_000),
)


def validate_tiers(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    ordered = tuple(sorted(tiers, key=lambda tier: tier.min_spend_nano))
    if not ordered or ordered[0].min_spend_nano != 0:
        raise ValueError("the tier table needs a tier starting at $0")
    return ordered


def tier_for_spend(spend_90d_nano: int, tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> Tier:
    chosen = tiers[0]
    for tier in tiers:
        if spend_90d_nano >= tier.min_spend_nano:
            chosen = tier
    return chosen


def tier_for_markup(markup_bp: int, tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> Tier | None:
    return next((tier for tier in tiers if tier.markup_bp == markup_bp), None)


# The rolling window is whole UTC days, today's (partial) rollup included: as_of - 89 .. as_of.
SPEND_WINDOW_DAYS = 90


def spend_window(as_of: date) -> tuple[date, date]:
    """First and last day (both inclusive) of the 90 daily rollups that make up the spend as of `as_of`."""
    return as_of - timedelta(days=SPEND_WINDOW_DAYS - 1), as_of


@dataclass(frozen=True, slots=True)
class TierUpdate:
    """What the tier job writes on an account: its rolling spend and the markup that spend earns."""

    spend_90d_nano: int
    markup_bp: int


def tier_update(
    current_spend_nano: int, current_markup_bp: int, spend_90d_nano: int, tiers: tuple[Tier, ...] = DEFAULT_TIERS
) -> TierUpdate | None:
    """The new spend and markup for an account, or None when both already hold (nothing to write)."""
    markup_bp = tier_for_spend(spend_90d_nano, tiers).markup_bp
    if (spend_90d_nano, markup_bp) == (current_spend_nano, current_markup_bp):
        return None
    return TierUpdate(spend_90d_nano, markup_bp)


def next_tier(spend_90d_nano: int, tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> Tier | None:
    """The first tier above the one this spend reaches, or None at the top."""
    above = [tier for tier in tiers if tier.min_spend_nano > spend_90d_nano]
    return min(above, key=lambda tier: tier.min_spend_nano) if above else None
