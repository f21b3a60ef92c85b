"""The bench's own parts that can be wrong silently: percentiles, added time (by distribution and
paired), the agent workload's body, the figures written into docs/performance.md, the import-time
parser, and the bench DynamoDB's transactions (item-level backups must roll back exactly as moto's
table copies do)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError
from starlette.testclient import TestClient

from codegateway.dev.emulator import create_emulator
from codegateway.domain.catalog import Catalog
from codegateway.domain.message_request import parse_message_request
from codegateway.settings import Settings
from codegateway.store import Store, build_store
from tests.load import agent_body, performance_doc, summary
from tests.load.accounts import create_bench_tables, funded_account
from tests.load.added_time import share_of, workload_figures
from tests.load.cold_start import parse_importtime, self_ms_by_package
from tests.load.overhead import SideTimings
from tests.load.processes import BenchStack
from tests.load.report import percentile
from tests.load.workloads import agent


def test_percentiles_interpolate_between_ranks_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 95) == pytest.approx(3.85)


def _side(ttfb_ms: list[float]) -> SideTimings:
    side = SideTimings()
    side.ttfb_s = [ms / 1000 for ms in ttfb_ms]
    side.message_stop_s = [(ms + 1) / 1000 for ms in ttfb_ms]
    side.ttlb_s = [(ms + 2) / 1000 for ms in ttfb_ms]
    return side


def test_added_time_is_the_difference_of_percentiles_and_the_paired_figure_the_per_round_one() -> None:
    # The direct side is slow in round 3 and the proxy in round 1: by distribution that cancels out.
    direct = _side([2.0, 2.0, 10.0])
    proxy = _side([13.0, 5.0, 12.0])
    litellm = _side([10.0, 10.0, 30.0])
    figures = workload_figures({"direct": direct, "proxy": proxy, "litellm": litellm})
    added = figures["added"]
    assert figures["sides"]["direct"]["ttfb_ms"]["p50"] == 2.0
    assert added["proxy"]["ttfb_ms"]["p50"] == 10.0  # 12 - 2
    assert added["proxy"]["ttfb_paired_ms"]["p50"] == 3.0  # median of 11, 3, 2
    assert added["proxy"]["message_stop_ms"]["p50"] == 10.0
    assert "direct" not in added
    assert share_of(added, "proxy", "litellm") == 1.25  # 10 / (10 - 2)
    assert share_of(added, "proxy", "absent") is None


def test_agent_body_is_claude_code_shaped_and_the_same_every_time() -> None:
    body = agent_body.agent_body()
    payload = orjson.loads(body)
    assert body == agent_body.agent_body()
    assert 89_000 <= len(body) <= 90_000
    assert len(payload["tools"]) == 30 and len({tool["name"] for tool in payload["tools"]}) == 30
    assert isinstance(payload["system"], list) and payload["system"][0]["text"].startswith("x-anthropic-billing")
    breakpoints = [block["cache_control"] for block in payload["system"] if "cache_control" in block]
    breakpoints += [
        block["cache_control"]
        for message in payload["messages"]
        for block in message["content"]
        if "cache_control" in block
    ]
    assert breakpoints == [{"type": "ephemeral", "ttl": "1h"}] * 3
    uses = {block["id"] for m in payload["messages"] for block in m["content"] if block["type"] == "tool_use"}
    results = {
        block["tool_use_id"] for m in payload["messages"] for block in m["content"] if block["type"] == "tool_result"
    }
    assert uses == results and len(uses) == 4
    assert "extended-cache-ttl" in agent_body.HEADERS["anthropic-beta"]


def test_the_emulator_and_the_gateway_accept_the_agent_body_and_its_prefix_is_cached_for_an_hour() -> None:
    workload = agent()
    request = parse_message_request(workload.body, Catalog.load())
    assert request.stream and request.body_bytes == len(workload.body)
    with TestClient(create_emulator()) as emulator:
        emulator.put("/_emulator/defaults", json=workload.emulator_defaults)
        plain = orjson.loads(workload.body) | {"stream": False}
        url = "/v1/messages" + workload.query
        first = emulator.post(url, json=plain, headers=workload.headers).json()["usage"]
        second = emulator.post(url, json=plain, headers=workload.headers).json()["usage"]
    assert first["cache_creation"]["ephemeral_1h_input_tokens"] > 20_000
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert workload.first_byte_delay_ms == 50


def test_importtime_lines_are_read_and_grouped_by_package() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:      1500 |       1500 |     botocore.client\n"
        "import time:       500 |       2000 |   botocore\n"
        "import time:       300 |       2300 | app\n"
    )
    lines = parse_importtime(stderr)
    assert [(line.module, line.cumulative_ms) for line in lines][-1] == ("app", 2.3)
    assert self_ms_by_package(lines) == {"botocore": 2.0, "app": 0.3}


@pytest.fixture(scope="module")
def bench_dynamodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Settings]]:
    stack = BenchStack(log_dir=Path(tmp_path_factory.mktemp("bench-logs")))
    try:
        stack.start_dynamodb()
        settings = stack.settings()
        store = build_store(settings)
        create_bench_tables(store, settings)
        yield store, settings
    finally:
        stack.stop()


def _charge_and_record(account_id: str, sk: str, condition: str | None = None) -> list[dict[str, Any]]:
    rollup: dict[str, Any] = {
        "TableName": "codegateway-usage",
        "Key": {"account_id": {"S": account_id}, "sk": {"S": "DAY#2026-11-25"}},
        "UpdateExpression": "ADD requests :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        rollup["ConditionExpression"] = condition
    return [
        {"Put": {"TableName": "codegateway-usage", "Item": {"account_id": {"S": account_id}, "sk": {"S": sk}}}},
        {
            "Update": {
                "TableName": "codegateway-accounts",
                "Key": {"account_id": {"S": account_id}},
                "UpdateExpression": "SET balance_nano = balance_nano - :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Update": rollup},
    ]


def test_bench_dynamodb_rolls_back_a_cancelled_transaction_and_applies_a_good_one(
    bench_dynamodb: tuple[Store, Settings],
) -> None:
    store, settings = bench_dynamodb
    account = funded_account(store, settings, "rollback")
    balance = _balance(store, account.account_id)

    with pytest.raises(ClientError) as refused:
        store.client.transact_write_items(
            TransactItems=_charge_and_record(account.account_id, "REQ#a", condition="attribute_exists(nothing)")
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _balance(store, account.account_id) == balance
    assert _usage_sort_keys(store, account.account_id) == {f"TOPUP#bench-{account.account_id}"}

    store.client.transact_write_items(TransactItems=_charge_and_record(account.account_id, "REQ#b"))
    assert _balance(store, account.account_id) == balance - 1
    assert _usage_sort_keys(store, account.account_id) == {
        f"TOPUP#bench-{account.account_id}",
        "REQ#b",
        "DAY#2026-11-25",
    }


def _usage_sort_keys(store: Store, account_id: str) -> set[str]:
    items = store.client.query(
        TableName="codegateway-usage",
        KeyConditionExpression="account_id = :a",
        ExpressionAttributeValues={":a": {"S": account_id}},
    )["Items"]
    return {item["sk"]["S"] for item in items}


def _balance(store: Store, account_id: str) -> int:
    account = store.accounts.get(account_id)
    assert account is not None
    return account.balance_nano


def _bench_results() -> dict[str, Any]:
    """A bench run's JSON as bench.py assembles it, from made-up timings."""
    overhead = {}
    for name, direct_ms, delay_ms in (("tiny", 2.0, 0), ("agent", 52.0, 50)):
        sides = {
            "direct": _side([direct_ms] * 5),
            "proxy": _side([direct_ms + 12] * 5),
            "proxy-in-memory": _side([direct_ms + 3] * 5),
            "litellm": _side([direct_ms + 16] * 5),
        }
        figures = workload_figures(sides)
        overhead[name] = {
            "description": name,
            "body_bytes": 89_618 if name == "agent" else 199,
            "upstream_first_byte_delay_ms": float(delay_ms),
            **figures,
            "cpu_ms_per_request": {"proxy": 8.6, "proxy-in-memory": 3.5, "litellm": 20.6},
            "emulator_cpu_ms_per_answer": 1.1 if name == "tiny" else 1.4,
            "gateway_over_litellm_added_ttfb_p50": share_of(figures["added"], "proxy", "litellm"),
        }
    run = {
        "clients": 100,
        "seconds": 20.4,
        "completed": 900,
        "failed": 0,
        "failure_reasons": [],
        "ttfb_ms": {"p50": 932.0, "p95": 1500.0, "p99": 1800.0},
        "ttlb_ms": {"p50": 1400.0, "p95": 2000.0, "p99": 2500.0},
        "requests_per_s": 44.1,
        "proxy_cpu_ms_per_request": 11.0,
        "cpu_cores_busy": {"proxy": 0.4},
        "proxy_rss_mib_every_10s": [70.0, 80.0],
        "dynamodb_lock": {"busy_share": 0.96},
    }
    results = {
        "started_at": "2026-12-01T23:40:00+00:00",
        "command": "BENCH_SECONDS=20 python -m tests.load.bench --requests 5 --compare-litellm",
        "machine": {"cpu": "AMD EPYC 7B13", "cores": 2, "memory_gib": 24.0, "python": "3.13.0", "kernel": "6.1"},
        "load_average_at_start": [1.4, 1.0, 0.9],
        "load_average_at_end": [1.8, 1.2, 1.0],
        "config": {
            "overhead_requests_per_side": 5,
            "fresh_keys": 20,
            "concurrency_clients": 100,
            "concurrency_seconds": 20.0,
            "dynamodb": "moto",
        },
        "litellm": {"version": "1.106.12", "start_to_ready_s": 9.5},
        "overhead": overhead,
        "cold_key": {
            "direct": {"ttfb_ms": {"p50": 2.0, "p95": 3.0}},
            "proxy": {"ttfb_ms": {"p50": 101.0, "p95": 110.0}},
        },
        "concurrency": {
            "dynamodb": {**run, "usage_rows": 900, "usage_rows_match_completed": True},
            "in_memory": {**run, "ttfb_ms": {"p50": 40.0, "p95": 80.0, "p99": 95.0}, "dynamodb_lock": {}},
        },
        "cold_start": {"median_s": 1.08, "to_first_healthz_s": [1.0, 1.08, 1.1], "phases_median_s": {"imports": 0.81}},
    }
    results["targets"] = summary.targets(results)
    return results


def test_the_performance_doc_shows_both_workloads_side_by_side_with_machine_date_and_method() -> None:
    text = performance_doc.render(_bench_results())
    assert "2026-12-01 23:40:00 UTC" in text and "BENCH_SECONDS=20" in text
    assert "AMD EPYC 7B13, 2 cores, 24.0 GiB RAM" in text and "Python 3.13.0" in text
    assert "1.4 at the start, 1.8 at the end." in text and "upstream answers at once" in text
    assert "per distribution" in text and "a shortened run" in text
    agent_row = next(line for line in text.splitlines() if line.startswith("| **agent**"))
    # direct p50, then added p50 / p95 on DynamoDB, in memory, by LiteLLM, and the gateway / LiteLLM ratio
    assert "| 52.00 ms | 12.00 / 12.00 ms | 3.00 / 3.00 ms | 16.00 / 16.00 ms | 0.75 |" in agent_row
    assert "8.60 / 3.50 / 20.60 ms" in agent_row
    in_memory_row = next(line for line in text.splitlines() if line.startswith("| in-memory store |"))
    assert "40 / 80 / 95 ms" in in_memory_row and "none written" in in_memory_row
    assert "| agent: added TTFB p50 <= 2 ms | 12.00 ms | missed |" in text
    assert "emulator (a plain Starlette app) used 1.10 / 1.40 ms of CPU per answer (tiny / agent)" in text
    assert "| 100 streams: 0 failures | 0 of 900; shortened run (20 s of 300) | met |" in text


def test_the_targets_read_each_proxys_own_rotation_and_name_the_shared_figure_beside() -> None:
    results = _bench_results()
    assert next(t for t in results["targets"] if t["target"].startswith("tiny, in-memory"))["measured"] == "3.00 ms"

    for name, direct_ms in (("tiny", 1.5), ("agent", 51.0)):
        own = {}
        for proxy, added_ms, cpu_ms in (("proxy", 1.6, 2.9), ("proxy-in-memory", 1.2, 1.4), ("litellm", 10.0, 20.0)):
            figures = workload_figures({"direct": _side([direct_ms] * 5), proxy: _side([direct_ms + added_ms] * 5)})
            own[proxy] = {**figures, "cpu_ms_per_request": {proxy: cpu_ms}}
        results["overhead"][name]["own_rotation"] = own
    found = {t["target"]: t for t in summary.targets(results)}
    agent = found["agent: added TTFB p50 <= 2 ms"]
    assert agent["measured"] == "1.60 ms" and agent["met"] and agent["note"] == "own rotation; shared: 12.00 ms"
    share = found["agent: added TTFB p50 <= 1/5 of LiteLLM's"]
    assert share["measured"] == "0.16 (1.60 vs 10.00 ms)" and share["note"] == "own rotations; shared: 0.75"
    tiny = found["tiny, in-memory store: added TTFB p50 <= 1.5 ms"]
    assert tiny["measured"] == "1.20 ms" and tiny["met"] and tiny["note"] == "own rotation; shared: 3.00 ms"
    cpu = found["tiny: CPU per request <= 1.5 ms in memory, <= 3 ms on DynamoDB"]
    assert cpu["measured"] == "1.40 / 2.90 ms" and cpu["met"] and cpu["note"] == "own rotations; shared: 3.50 / 8.60 ms"

    text = performance_doc.render(results)
    assert "| tiny | gateway, in-memory store | 1.50 ms | 1.20 / 1.20 ms | 1.20 ms | 1.40 ms |" in text
    assert "| agent | LiteLLM | 51.00 ms | 10.00 / 10.00 ms | 10.00 ms | 20.00 ms |" in text
    printed = {row[0]: row[1:] for row in summary._overhead_section(results, "tiny").rows}
    assert printed["own rotation: TTFB added by proxy-in-memory (ms)"][0] == "1.20"


def test_only_the_text_between_the_markers_is_replaced_and_a_missing_file_gets_them(tmp_path: Path) -> None:
    document = (
        "# Performance\n\nWhy the figures are what they are.\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nMore.\n"
    )
    replaced = performance_doc.replace_between_markers(document, "new figures")
    assert replaced == document.replace("\nold\n", "\nnew figures\n")
    assert (
        performance_doc.replace_between_markers("# P\n", "x") == "# P\n\n<!-- bench:begin -->\nx\n<!-- bench:end -->\n"
    )

    results = _bench_results()
    (tmp_path / "latest.json").write_bytes(orjson.dumps(results))
    docs = tmp_path / "docs" / "performance.md"
    assert performance_doc.main([str(tmp_path / "latest.json"), "--docs", str(docs)]) == 0
    written = docs.read_text()
    assert written.startswith("# Performance")
    assert written.count(performance_doc.BEGIN) == 1 and "| **tiny**" in written
    assert performance_doc.main([str(tmp_path / "latest.json"), "--docs", str(docs)]) == 0
    assert docs.read_text() == written
