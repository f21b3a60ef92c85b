"""Markup tiers from rolling 90-day billed spend. No I/O; the table is configuration (Settings)."""

from __future__ import annotations

from dataclasses import dataclass

from codegateway.units import BASIS_POINTS, NANO_PER_USD


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
