"""Tier choice from 90-day spend: thresholds are inclusive, the table is configuration."""

from __future__ import annotations

import pytest

from codegateway.domain.tiers import DEFAULT_TIERS, Tier, tier_for_spend, validate_tiers

USD = 1_000_000_000


@pytest.mark.parametrize(
    ("spend_nano", "markup"),
    [
        (0, "1.5"),
        (9_990_000_000, "1.5"),
        (10 * USD - 1, "1.5"),
        (10 * USD, "1.4"),
        (150 * USD, "1.3"),
        (1000 * USD, "1.2"),
        (5000 * USD, "1.2"),
    ],
)
def test_default_tiers(spend_nano: int, markup: str) -> None:
    assert tier_for_spend(spend_nano, DEFAULT_TIERS).markup_text == markup


def test_a_tier_table_must_start_at_zero() -> None:
    with pytest.raises(ValueError, match=r"\$0"):
        validate_tiers((Tier("x", 5, 10_000),))


def test_tiers_are_sorted_whatever_order_they_are_given_in() -> None:
    shuffled = (Tier("b", 10, 12_000), Tier("a", 0, 15_000))
    assert [tier.name for tier in validate_tiers(shuffled)] == ["a", "b"]
