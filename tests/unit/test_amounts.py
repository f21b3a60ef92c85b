"""Top-up amounts typed by people: exact decimal strings to nano-USD, everything else refused."""

from __future__ import annotations

import pytest

from codegateway.domain.money import parse_usd
from codegateway.errors import InvalidRequest


@pytest.mark.parametrize(
    ("text", "nano"),
    [
        ("25", 25_000_000_000),
        ("12.50", 12_500_000_000),
        ("0.000000001", 1),
        ("0.1", 100_000_000),
        (" 7 ", 7_000_000_000),
        ("1000000", 1_000_000_000_000_000),
        ("999999.999999999", 999_999_999_999_999),
    ],
)
def test_decimal_strings_become_exact_nano_usd(text: str, nano: int) -> None:
    assert parse_usd(text) == nano


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (12.5, "not a JSON number"),
        (5, "not a JSON number"),
        (None, "not a JSON number"),
        ("0.0000000001", "at most 9 decimals"),
        ("1e3", "decimal string"),
        ("-1", "decimal string"),
        ("+1", "decimal string"),
        ("NaN", "decimal string"),
        ("Infinity", "decimal string"),
        ("1,000", "decimal string"),
        (".5", "decimal string"),
        ("", "decimal string"),
        ("0", "more than zero"),
        ("0.000000000", "more than zero"),
        ("1000000.000000001", "at most 1000000 USD"),
    ],
)
def test_anything_else_is_refused_with_a_reason(value: object, needle: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_usd(value, "amount_usd")
    assert refused.value.message.startswith("amount_usd: ") and needle in refused.value.message
