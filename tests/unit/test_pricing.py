"""Cost in integer nano-USD: today's catalog against the handbook, every billing rule with its exact
figure, markup and the one rounding.

$N per MTok is N micro-USD (N x 1,000 nano-USD) per token; the figures below are worked out in those.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from codegateway.domain.catalog import Catalog
from codegateway.domain.message_request import parse_message_request
from codegateway.domain.pricing import (
    ClassRates,
    ModelEntry,
    apply_markup,
    cost_of,
    nano_to_usd_str,
    usd_per_mtok_to_pico_per_token,
)
from codegateway.domain.usage import Iteration, Usage

CATALOG = Catalog.load()
# The handbook's price sheet, copied into the repository (docs/reference/pricing.md); the handbook itself sits
# beside the checkout on the team's machines, and the copy must not drift from it.
PRICING_MD = Path(__file__).resolve().parents[2] / "docs" / "reference" / "pricing.md"
HANDBOOK_PRICING_MD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pricing.md"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
AT_COST = 10_000  # markup 1x: the figures are list prices

# Every model id in the price sheet's table (docs/reference/pricing.md, 2026-12-01), dated ids included.
PRICE_SHEET_IDS = {
    "claude-fable-5-2", "claude-mythos-5-2", "claude-fable-5-1", "claude-mythos-5-1", "claude-fable-5",
    "claude-mythos-5", "claude-opus-5-5", "claude-opus-5", "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6",
    "claude-opus-4-5", "claude-opus-4-5-20251101", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4-0",
    "claude-opus-4-20250514", "claude-sonnet-5-5", "claude-sonnet-5", "claude-sonnet-4-6", "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929", "claude-sonnet-4-0", "claude-sonnet-4-20250514", "claude-haiku-5-5",
    "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-3-5-haiku-20241022",
}  # fmt: skip
# Retired ids earlier catalogs listed: kept so their old usage records re-price.
EARLIER_CATALOG_IDS = {"claude-haiku-3-5", "claude-3-7-sonnet-20250219"}
RETIRED_IDS = {
    "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4-0", "claude-opus-4-20250514", "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929", "claude-sonnet-4-0", "claude-sonnet-4-20250514", "claude-3-5-haiku-20241022",
} | EARLIER_CATALOG_IDS  # fmt: skip


def _entry(model_id: str) -> ModelEntry:
    entry = CATALOG.get(model_id)
    assert entry is not None, model_id
    return entry


def _billed(usage: Usage, model_id: str, at: datetime = NOW, markup_bp: int = AT_COST) -> int:
    return cost_of(usage, _entry(model_id), markup_bp, at=at, catalog=CATALOG).billed_nano


def test_catalog_serves_exactly_the_price_sheet() -> None:
    assert {entry.model_id for entry in CATALOG.models} == PRICE_SHEET_IDS | EARLIER_CATALOG_IDS
    assert {entry.model_id for entry in CATALOG.served_models} == (PRICE_SHEET_IDS | EARLIER_CATALOG_IDS) - RETIRED_IDS


# --- the handbook cross-check: ids and rates of its table are the catalog's ---------------------------


def _table_rows(markdown: str) -> list[list[str]]:
    section = markdown.split("## Models", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:] if not set(row[0]) <= set("-")]  # skip the header


def _ids(cell: str) -> list[str]:
    """`claude-opus-4-1(-20250805)` is the id and its dated twin; `claude-sonnet-4-0 / -20250514` names the
    4.0 model's dated id, which drops the `-0` (claude-sonnet-4-20250514), as Anthropic's 4.0 ids do."""
    ids: list[str] = []
    for part in re.split(r",|/", cell):
        part = part.strip()
        if part.startswith("-") and ids:
            ids.append(re.sub(r"-0$", "", ids[-1]) + part)
            continue
        match = re.fullmatch(r"(claude-[a-z0-9-]+)(?:\((-\d{8})\))?", part)
        if match:
            ids.append(match.group(1))
            if match.group(2):
                ids.append(match.group(1) + match.group(2))
    return ids


def _usd(cell: str) -> str:
    """The rate in force today: `10 (3p)` -> 10; `0.10 from 2026-10-07 (0.20 before; date 3p)` -> 0.10."""
    number = re.match(r"\d+(?:\.\d+)?", cell)
    assert number, cell
    return number.group(0)


def test_the_repositorys_price_sheet_is_the_handbooks() -> None:
    if not HANDBOOK_PRICING_MD.exists():
        pytest.skip("the team handbook is not beside this checkout")
    copy = PRICING_MD.read_text()
    assert copy.split("-->\n\n", 1)[1] == HANDBOOK_PRICING_MD.read_text()


def test_price_sheet_in_the_handbook_has_the_catalogs_ids_and_rates() -> None:
    rows = _table_rows(PRICING_MD.read_text())
    assert len(rows) >= 17, "the models table of pricing.md was not found"
    seen: set[str] = set()
    previous_ids: list[str] = []
    for model, id_cell, _status, *usd in rows:
        ids = _ids(id_cell) or previous_ids  # Haiku 5.5's high band row repeats the id of the row above
        previous_ids = ids
        long_prompt = "> 100,000" in model
        expected = ClassRates(
            input=usd_per_mtok_to_pico_per_token(_usd(usd[0])),
            cache_write_5m=usd_per_mtok_to_pico_per_token(_usd(usd[1])),
            cache_write_1h=usd_per_mtok_to_pico_per_token(_usd(usd[2])),
            cache_read=usd_per_mtok_to_pico_per_token(_usd(usd[3])),
            output=usd_per_mtok_to_pico_per_token(_usd(usd[4])),
        )
        for model_id in ids:
            entry = CATALOG.get(model_id)
            assert entry is not None, f"pricing.md lists {model_id}; the catalog lacks it"
            rates = entry.rates_at(NOW, prompt_tokens=100_001 if long_prompt else 0)
            assert rates == expected, f"{model_id} ({model}): catalog {rates}, pricing.md {expected}"
            seen.add(model_id)
    assert seen == PRICE_SHEET_IDS


def test_a_dated_rate_in_the_handbook_is_the_catalogs_rate_before_its_date() -> None:
    row = next(row for row in _table_rows(PRICING_MD.read_text()) if " from 20" in row[6])
    match = re.match(r"(?P<now>[\d.]+) from (?P<date>\d{4}-\d{2}-\d{2}) \((?P<before>[\d.]+) before", row[6])
    assert match, row[6]
    changed = datetime.fromisoformat(match["date"]).replace(tzinfo=UTC)
    entry = _entry(_ids(row[1])[0])
    assert entry.rates_at(changed).cache_read == usd_per_mtok_to_pico_per_token(match["now"])
    before = changed - timedelta(microseconds=1)
    assert entry.rates_at(before).cache_read == usd_per_mtok_to_pico_per_token(match["before"])


# --- the rules, each with its exact figure -----------------------------------------------------------


def test_rates_are_held_in_pico_usd_per_token() -> None:
    # $0.125/MTok (Haiku 5.5's 5-minute write) = 0.125 micro-USD = 125,000 pico-USD per token.
    assert _entry("claude-haiku-5-5").rates_at(NOW).cache_write_5m == 125_000
    assert usd_per_mtok_to_pico_per_token(str(Decimal("0.01"))) == 10_000


def test_haiku_5_5_prompt_of_exactly_100000_tokens_is_the_low_band() -> None:
    # 60,000 input + 20,000 cache writes (unsplit: 5-minute) + 20,000 cache reads = 100,000: low band.
    # 60,000 x $0.10 + 20,000 x $0.125 + 20,000 x $0.01 + 1,000 output x $0.50, per MTok
    # = $0.006 + $0.0025 + $0.0002 + $0.0005 = $0.0092 = 9,200,000 nano-USD.
    usage = Usage(
        input_tokens=60_000, cache_creation_input_tokens=20_000, cache_read_input_tokens=20_000, output_tokens=1_000
    )
    assert usage.prompt_tokens == 100_000
    assert _billed(usage, "claude-haiku-5-5") == 9_200_000


def test_haiku_5_5_prompt_over_100000_tokens_prices_every_class_at_the_high_band() -> None:
    # One more input token: 100,001 > 100,000, so output too is at the high band:
    # 60,001 x $0.50 + 20,000 x $0.625 + 20,000 x $0.05 + 1,000 x $2.50, per MTok
    # = $0.0300005 + $0.0125 + $0.001 + $0.0025 = $0.0460005 = 46,000,500 nano-USD.
    usage = Usage(
        input_tokens=60_001, cache_creation_input_tokens=20_000, cache_read_input_tokens=20_000, output_tokens=1_000
    )
    assert _billed(usage, "claude-haiku-5-5") == 46_000_500


def test_sonnet_5_5_cache_reads_are_priced_at_the_rate_in_force_when_the_request_was_made() -> None:
    # 1,000,000 cache reads: $0.20 before 2026-10-07, $0.10 from 2026-10-07 00:00 UTC.
    reads = Usage(cache_read_input_tokens=1_000_000)
    assert _billed(reads, "claude-sonnet-5-5", at=datetime(2026, 10, 6, 23, 59, 59, tzinfo=UTC)) == 200_000_000
    assert _billed(reads, "claude-sonnet-5-5", at=datetime(2026, 10, 7, tzinfo=UTC)) == 100_000_000


@pytest.mark.parametrize(
    ("model", "speed", "expected_nano"),
    [
        # 1,000 input x $4 + 1,000 output x $20 per MTok = $0.024; fast 2x = $0.048.
        ("claude-opus-5-5", "fast", 48_000_000),
        ("claude-opus-5-5", "standard", 24_000_000),
        ("claude-opus-5-5", None, 24_000_000),
        # Fable 5.2: 1,000 x $8 + 1,000 x $40 = $0.048; fast 2x = $0.096.
        ("claude-fable-5-2", "fast", 96_000_000),
        # Opus 4.6 serves fast at standard prices: 1,000 x $5 + 1,000 x $25 = $0.03.
        ("claude-opus-4-6", "fast", 30_000_000),
    ],
)
def test_fast_mode_is_billed_from_the_responses_usage_speed(model: str, speed: str | None, expected_nano: int) -> None:
    assert _billed(Usage(input_tokens=1_000, output_tokens=1_000, speed=speed), model) == expected_nano


def test_a_fast_request_answered_at_standard_speed_is_billed_at_standard() -> None:
    body = b'{"model":"claude-opus-5-5","speed":"fast","max_tokens":10,"messages":[]}'
    message = parse_message_request(body, CATALOG)
    assert message.fast  # the hold is sized for fast ...
    answered = Usage(input_tokens=1_000, output_tokens=1_000, speed="standard")
    # ... the bill is what the response says: $0.024, not $0.048.
    assert cost_of(answered, message.model, AT_COST, at=NOW, catalog=CATALOG).billed_nano == 24_000_000


def test_us_data_residency_costs_1_1x_on_every_class_of_4_6_and_later_models() -> None:
    # Opus 5.5, 1,000 input + 1,000 output = $0.024; x 1.1 = $0.0264; fast as well: x 2 x 1.1 = $0.0528.
    assert _billed(Usage(input_tokens=1_000, output_tokens=1_000, inference_geo="us"), "claude-opus-5-5") == 26_400_000
    both = Usage(input_tokens=1_000, output_tokens=1_000, inference_geo="us", speed="fast")
    assert _billed(both, "claude-opus-5-5") == 52_800_000
    assert _billed(Usage(input_tokens=1_000, inference_geo="global"), "claude-opus-5-5") == 4_000_000
    # Haiku 4.5 predates 4.6: no surcharge, 1,000 x $1 = $0.001.
    assert _billed(Usage(input_tokens=1_000, inference_geo="us"), "claude-haiku-4-5") == 1_000_000


def test_the_request_is_summed_exactly_and_rounded_up_once() -> None:
    # Haiku 5.5 5-minute write at 1.1x = 137.5 nano-USD per token (pricing.md): one token bills 138,
    # two bill 275 (not 2 x 138).
    one = Usage(cache_creation_input_tokens=1, inference_geo="us")
    two = Usage(cache_creation_input_tokens=2, inference_geo="us")
    assert _billed(one, "claude-haiku-5-5") == 138
    assert _billed(two, "claude-haiku-5-5") == 275


def test_markup_is_applied_before_the_single_rounding() -> None:
    # 137.5 nano x 1.2 = 165 exactly; rounding the base first would give 138 x 1.2 = 165.6 -> 166.
    cost = cost_of(Usage(cache_creation_input_tokens=1, inference_geo="us"), _entry("claude-haiku-5-5"), 12_000, at=NOW)
    assert (cost.base_nano, cost.billed_nano) == (138, 165)


def test_iterations_are_each_billed_at_their_own_models_rates() -> None:
    # Sonnet 5.5 executor with an Opus 5.5 advisor. Top-level usage covers only the executor's
    # iterations (22,000 in / 1,200 out), so it is not added again:
    # Sonnet 5.5: 22,000 x $2 + 1,200 x $10 = $0.056; Opus 5.5: 8,000 x $4 + 300 x $20 = $0.038.
    # Total $0.094 = 94,000,000 nano-USD.
    usage = Usage(input_tokens=22_000, output_tokens=1_200)
    usage.merge(
        {
            "iterations": [
                {"type": "message", "input_tokens": 10_000, "output_tokens": 500},
                {"type": "advisor_message", "model": "claude-opus-5-5", "input_tokens": 8_000, "output_tokens": 300},
                {"type": "message", "input_tokens": 12_000, "output_tokens": 700},
            ]
        }
    )
    assert _billed(usage, "claude-sonnet-5-5") == 94_000_000


def test_a_compaction_iteration_is_billed_although_top_level_usage_leaves_it_out() -> None:
    # Opus 5.5: compaction 180,000 in / 3,500 out + the answer 23,000 in / 1,000 out (= top level).
    # 203,000 x $4 + 4,500 x $20 = $0.812 + $0.09 = $0.902 = 902,000,000 nano-USD (top level alone: $0.112).
    usage = Usage(input_tokens=23_000, output_tokens=1_000)
    usage.merge(
        {
            "iterations": [
                {"type": "compaction", "input_tokens": 180_000, "output_tokens": 3_500},
                {"type": "message", "input_tokens": 23_000, "output_tokens": 1_000},
            ]
        }
    )
    assert _billed(usage, "claude-opus-5-5") == 902_000_000


def test_an_iteration_declined_before_output_is_not_charged() -> None:
    # A fallback: Opus 5.5 declines (refusal, no output) and Sonnet 5.5 answers 5,000 in / 100 out:
    # 5,000 x $2 + 100 x $10 = $0.011 = 11,000,000 nano-USD; the declined attempt's 5,000 input are free.
    usage = Usage()
    usage.iterations = [
        Iteration("message", "claude-opus-5-5", Usage(input_tokens=5_000, stop_reason="refusal")),
        Iteration("message", "claude-sonnet-5-5", Usage(input_tokens=5_000, output_tokens=100, output_started=True)),
    ]
    assert _billed(usage, "claude-opus-5-5") == 11_000_000


def test_a_refusal_before_any_output_is_not_billed() -> None:
    refused = Usage(input_tokens=5_000, output_tokens=12, stop_reason="refusal", output_started=False)
    assert _billed(refused, "claude-sonnet-4-6", markup_bp=15_000) == 0


def test_a_refusal_mid_stream_bills_input_and_the_output_so_far() -> None:
    # Sonnet 4.6: 5,000 x $3 + 12 x $15 per MTok = $0.015 + $0.00018 = 15,180,000 nano-USD.
    refused = Usage(input_tokens=5_000, output_tokens=12, stop_reason="refusal", output_started=True)
    assert _billed(refused, "claude-sonnet-4-6") == 15_180_000


def test_web_search_is_billed_per_request_without_token_multipliers() -> None:
    # $10 per 1,000 searches = $0.01 each: 3 = 30,000,000 nano-USD; fast and US residency leave it alone.
    assert _billed(Usage(web_search_requests=3), "claude-sonnet-4-6") == 30_000_000
    assert _billed(Usage(web_search_requests=1, speed="fast", inference_geo="us"), "claude-opus-5-5") == 10_000_000


@pytest.mark.parametrize(
    ("usage", "expected_nano"),
    [
        # Only the total: all at the 5-minute rate, 1,000,000 x $3.75 = $3.75.
        (Usage(cache_creation_input_tokens=1_000_000), 3_750_000_000),
        # All 1-hour: 1,000,000 x $6 = $6.
        (
            Usage(cache_creation_input_tokens=1_000_000, cache_write_5m_tokens=0, cache_write_1h_tokens=1_000_000),
            6 * 10**9,
        ),
        # Split short of the total: 200 + 500 of 1,000; the 300 left are 5-minute:
        # 500 x $3.75 + 500 x $6 per MTok = $0.001875 + $0.003 = 4,875,000 nano-USD.
        (Usage(cache_creation_input_tokens=1_000, cache_write_5m_tokens=200, cache_write_1h_tokens=500), 4_875_000),
    ],
    ids=["total-only", "all-1h", "split-short-of-total"],
)
def test_cache_writes_split_and_total_are_reconciled(usage: Usage, expected_nano: int) -> None:
    assert _billed(usage, "claude-sonnet-4-6") == expected_nano


def test_a_retired_model_still_re_prices_its_old_usage() -> None:
    # Opus 4.1: 1,000 x $15 + 1,000 x $75 per MTok = $0.09.
    assert not _entry("claude-opus-4-1-20250805").served
    assert _billed(Usage(input_tokens=1_000, output_tokens=1_000), "claude-opus-4-1-20250805") == 90_000_000


@pytest.mark.parametrize(
    ("base", "markup_bp", "billed"),
    [(21_000_000, 15_000, 31_500_000), (1, 15_000, 2), (3, 15_000, 5), (7, 12_000, 9), (0, 15_000, 0)],
)
def test_markup_rounds_up_to_the_next_nano(base: int, markup_bp: int, billed: int) -> None:
    assert apply_markup(base, markup_bp) == billed


def test_money_is_integers_end_to_end() -> None:
    cost = cost_of(
        Usage(input_tokens=333, output_tokens=77, cache_read_input_tokens=5, inference_geo="us"),
        _entry("claude-haiku-5-5"),
        13_000,
        at=NOW,
    )
    assert all(type(value) is int for value in (cost.base_nano, cost.markup_bp, cost.billed_nano))


@pytest.mark.parametrize(
    ("nano", "text"),
    [(31_500_000, "0.0315"), (2_000_000_000, "2.00"), (1, "0.000000001"), (-5_000_000, "-0.005"), (0, "0.00")],
)
def test_usd_strings_are_exact(nano: int, text: str) -> None:
    assert nano_to_usd_str(nano) == text


def test_an_iteration_on_a_model_newer_than_the_catalog_is_priced_by_its_family() -> None:
    # An advisor on claude-opus-6 (unknown): priced as Opus 5.5, 1,000 x $4 + 100 x $20 = $0.006;
    # the executor, Haiku 4.5: 1,000 x $1 + 100 x $5 = $0.0015. Total 7,500,000 nano-USD.
    usage = Usage()
    usage.merge(
        {
            "iterations": [
                {"type": "advisor_message", "model": "claude-opus-6", "input_tokens": 1_000, "output_tokens": 100},
                {"type": "message", "input_tokens": 1_000, "output_tokens": 100},
            ]
        }
    )
    assert _billed(usage, "claude-haiku-4-5") == 7_500_000
