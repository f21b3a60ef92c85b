"""Cost in integer nano-USD: every token class, fast mode, web search, markup rounding, the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codegateway.pricing import Catalog, apply_markup, base_cost_nano, cost_of, nano_to_usd_str, usd_to_nano
from codegateway.usage import Usage

CATALOG = Catalog.load()
PRICING_MD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pricing.md"


# Every model id on ../shared/reference/pricing.md, dated aliases included.
PRICE_SHEET_IDS = {
    "claude-haiku-3-5", "claude-3-5-haiku-20241022", "claude-haiku-4-5", "claude-haiku-4-5-20251001",
    "claude-sonnet-4-0", "claude-sonnet-4-20250514", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-6", "claude-sonnet-5", "claude-3-7-sonnet-20250219", "claude-opus-4-0",
    "claude-opus-4-20250514", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4-5",
    "claude-opus-4-5-20251101", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-mythos-5",
    "claude-fable-5",
}  # fmt: skip


def test_catalog_serves_exactly_the_price_sheet() -> None:
    assert {entry.model_id for entry in CATALOG.models} == PRICE_SHEET_IDS


def test_price_sheet_in_the_handbook_has_no_id_the_catalog_lacks() -> None:
    if not PRICING_MD.exists():
        pytest.skip("the team handbook (../shared/reference/pricing.md) is not beside this checkout")
    table = PRICING_MD.read_text().split("Fast output mode")[0]
    ids = set(re.findall(r"claude-[a-z0-9-]+", table))
    assert ids, "no model ids parsed from pricing.md"
    assert ids <= {entry.model_id for entry in CATALOG.models}


@pytest.mark.parametrize(
    ("model", "usd_per_mtok"),
    [
        ("claude-3-5-haiku-20241022", ("0.80", "4", "1.00", "1.60", "0.08")),
        ("claude-haiku-4-5", ("1", "5", "1.25", "2", "0.10")),
        ("claude-sonnet-4-20250514", ("3", "15", "3.75", "6", "0.30")),
        ("claude-3-7-sonnet-20250219", ("3", "15", "3.75", "6", "0.30")),
        ("claude-opus-4-1-20250805", ("15", "75", "18.75", "30", "1.50")),
        ("claude-opus-4-8", ("5", "25", "6.25", "10", "0.50")),
        ("claude-fable-5", ("10", "50", "12.5", "20", "1")),
    ],
)
def test_class_prices_are_the_list_prices_exactly(model: str, usd_per_mtok: tuple[str, ...]) -> None:
    prices = CATALOG.get(model).prices  # type: ignore[union-attr]
    per_token = (prices.input, prices.output, prices.cache_write_5m, prices.cache_write_1h, prices.cache_read)
    # $N per MTok is N micro-USD per token, i.e. N * 1000 nano-USD per token.
    assert per_token == tuple(usd_to_nano(price) // 1_000_000 for price in usd_per_mtok)


@pytest.mark.parametrize(
    ("usage", "expected_nano"),
    [
        (Usage(input_tokens=1_000_000), 3 * 10**9),
        (Usage(output_tokens=1_000_000), 15 * 10**9),
        (Usage(cache_creation_input_tokens=1_000_000), 3_750_000_000),
        (
            Usage(cache_creation_input_tokens=1_000_000, cache_write_5m_tokens=0, cache_write_1h_tokens=1_000_000),
            6 * 10**9,
        ),
        (
            Usage(cache_creation_input_tokens=300, cache_write_5m_tokens=100, cache_write_1h_tokens=200),
            100 * 3750 + 200 * 6000,
        ),
        (Usage(cache_read_input_tokens=1_000_000), 300_000_000),
        (Usage(web_search_requests=3), 30_000_000),
        (
            Usage(
                input_tokens=1000, output_tokens=500, cache_creation_input_tokens=2000, cache_read_input_tokens=10000
            ),
            21_000_000,
        ),
    ],
    ids=["input", "output", "cache-5m-unsplit", "cache-1h", "cache-split", "cache-read", "web-search", "mixed"],
)
def test_base_cost_by_class_on_sonnet(usage: Usage, expected_nano: int) -> None:
    entry = CATALOG.get("claude-sonnet-4-6")
    assert entry is not None
    assert base_cost_nano(usage, entry.prices, CATALOG.web_search_nano_per_request) == expected_nano


@pytest.mark.parametrize(
    ("model", "expected_nano"),
    [
        ("claude-opus-4-6", 30_000 + 150_000),
        ("claude-opus-4-7", 30_000 + 150_000),
        ("claude-opus-4-8", 10_000 + 50_000),
        ("claude-opus-4-5", 5_000 + 25_000),
    ],
)
def test_fast_mode_uses_fast_prices_where_the_model_has_them(model: str, expected_nano: int) -> None:
    entry = CATALOG.get(model)
    assert entry is not None
    usage = Usage(input_tokens=1, output_tokens=1, speed="fast")
    assert cost_of(usage, entry, 10_000, 0).base_nano == expected_nano


@pytest.mark.parametrize(
    ("base", "markup_bp", "billed"),
    [
        (21_000_000, 15_000, 31_500_000),
        (1, 15_000, 2),
        (3, 15_000, 5),
        (7, 12_000, 9),
        (10, 14_000, 14),
        (0, 15_000, 0),
    ],
)
def test_markup_rounds_up_to_the_next_nano(base: int, markup_bp: int, billed: int) -> None:
    assert apply_markup(base, markup_bp) == billed


def test_money_is_integers_end_to_end() -> None:
    entry = CATALOG.get("claude-haiku-4-5")
    assert entry is not None
    cost = cost_of(Usage(input_tokens=333, output_tokens=77, cache_read_input_tokens=5), entry, 13_000, 10_000_000)
    assert all(isinstance(value, int) for value in (cost.base_nano, cost.markup_bp, cost.billed_nano))


@pytest.mark.parametrize(
    ("nano", "text"),
    [
        (31_500_000, "0.0315"),
        (2_000_000_000, "2.00"),
        (1, "0.000000001"),
        (-5_000_000, "-0.005"),
        (0, "0.00"),
        (1_234_500_000_000, "1234.50"),
    ],
)
def test_usd_strings_are_exact(nano: int, text: str) -> None:
    assert nano_to_usd_str(nano) == text
