"""python -m tests.load.bench [--seconds N] [--requests N] [--out PATH] [--docs PATH | --no-docs] [--compare-litellm]

Starts its own DynamoDB (moto), emulator and proxy on free loopback ports, provisions accounts and
keys, then measures: (1) what the gateway adds to a streamed request, for each workload (workloads.py:
tiny, and a Claude Code-shaped agent turn), on DynamoDB and on the in-memory store, (2) 100 concurrent
streams, on DynamoDB and on the in-memory store, (3) cold start, (4) CPU per request, (5) optionally the
same overhead runs against LiteLLM's proxy. Prints one table, writes JSON (default
tests/load/results/latest.json) and regenerates docs/performance.md's figures from it
(performance_doc.py). BENCH_SECONDS overrides --seconds (the length of each part-2 run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from codegateway.store import build_store
from tests.load import performance_doc, summary
from tests.load.accounts import count_usage_rows, create_bench_tables, funded_account
from tests.load.added_time import OWN_ROTATION, share_of, workload_figures
from tests.load.cold_start import measure_cold_start
from tests.load.concurrency import CLIENTS, STREAM_KNOBS, ConcurrencyRun, run_concurrent_streams
from tests.load.cpu import CpuMeter, RssSampler
from tests.load.dynamodb_calls import time_request_path_calls
from tests.load.overhead import alternate as alternate_targets
from tests.load.overhead import first_requests_of_new_keys
from tests.load.processes import REPO, BenchStack
from tests.load.report import load_average, machine, ms_percentiles, write_json
from tests.load.streams import Target
from tests.load.workloads import Workload, all_workloads

RESULTS_DIR = REPO / "tests" / "load" / "results"
DOCS = REPO / "docs" / "performance.md"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load.bench", description="CodeGateway load bench")
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the concurrency run (BENCH_SECONDS)")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per side in the overhead run")
    parser.add_argument("--fresh-keys", type=int, default=20, help="new keys for the key-cache-miss run")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent streaming clients")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json", help="where to write the JSON")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the Markdown file whose figures to regenerate")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument("--compare-litellm", action="store_true", help="also time LiteLLM's proxy (.venv-litellm)")
    parser.add_argument(
        "--stock-moto",
        action="store_true",
        help="use the local stack's DynamoDB unchanged (its transactions copy whole tables: see dynamodb_server.py)",
    )
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    if os.environ.get("BENCH_SECONDS"):
        args.seconds = float(os.environ["BENCH_SECONDS"])
    return args


def run_async[T](coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return asyncio.run(coroutine, loop_factory=uvloop.new_event_loop)


def log_errors(log: Path) -> dict[str, Any]:
    """Error lines a proxy logged during the bench (it logs one JSON line per request at INFO)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = [line for line in lines if '"level":"ERROR"' in line or "Traceback" in line or "Exception" in line]
    return {"log_lines": len(lines), "error_lines": len(errors), "first_errors": [line[:300] for line in errors[:3]]}


def step(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def measure_overhead(stack: BenchStack, targets: list[Target], requests: int, workload: Workload) -> dict[str, Any]:
    proxies = {name: pid for name, pid in stack.pids.items() if name in {t.name for t in targets}}
    # The emulator answers every side's requests: its CPU per answer is the control for what this
    # machine charges any Python process that idles between requests (docs/profiles/README.md).
    cpu = CpuMeter({**proxies, "emulator": stack.pids["emulator"]})
    dynamodb_before: dict[str, Any] = {}

    def start_meters() -> None:
        dynamodb_before.update(stack.dynamodb_stats() or {})
        cpu.start()

    stack.set_emulator_defaults(workload.emulator_defaults)
    try:
        sides = run_async(alternate_targets(targets, requests, workload, when_warm=start_meters))
    finally:
        stack.set_emulator_defaults({})
    cpu_s = cpu.stop()
    dynamodb_after = stack.dynamodb_stats()
    results: dict[str, Any] = {
        "description": workload.description,
        "body_bytes": len(workload.body),
        "upstream_first_byte_delay_ms": workload.first_byte_delay_ms,
        **workload_figures(sides),
    }
    emulator_s = cpu_s.pop("emulator")
    results["cpu_ms_per_request"] = {name: _ms(used_s / requests) for name, used_s in cpu_s.items()}
    results["emulator_cpu_ms_per_answer"] = _ms(emulator_s / (requests * len(targets)))
    results["gateway_over_litellm_added_ttfb_p50"] = share_of(results["added"], "proxy", "litellm")
    if dynamodb_before and dynamodb_after:
        # The proxy is the only caller once warm (the in-memory one read its records during warm-up).
        calls = dynamodb_after["requests"] - dynamodb_before["requests"]
        results["dynamodb_calls_per_proxy_request"] = round(calls / requests, 2)
    return results


def measure_own_rotations(
    stack: BenchStack, direct: Target, proxies: list[Target], requests: int, workload: Workload
) -> dict[str, Any]:
    """Each proxy again, in a rotation of its own with direct; the targets read these. In the shared
    rotation a request follows another side's, whose work runs on after its stream ends (the DynamoDB
    gateway's settlement in moto, LiteLLM's 20+ ms of CPU): on two cores that queues the next request's
    client and upstream behind work no deployment has beside it (docs/performance.md, "Who shares the
    two cores"). The shared rotation's figures stay in the results, beside these."""
    own = {}
    for proxy in proxies:
        figures = measure_overhead(stack, [direct, proxy], requests, workload)
        own[proxy.name] = {key: figures[key] for key in ("sides", "added", "cpu_ms_per_request")}
    return own


def measure_concurrency(
    stack: BenchStack, role: str, target: Target, account_id: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    """`args.clients` streams against the proxy started as `role`; usage rows are counted when the
    proxy writes them (`account_id`; the in-memory store writes none)."""
    proxy_pid = stack.pids[role]
    roles = {name: pid for name, pid in stack.pids.items() if name in (role, "dynamodb", "emulator")}
    cpu = CpuMeter({**roles, "bench client": os.getpid()})
    dynamodb_before = stack.dynamodb_stats()
    cpu.start()
    run, rss_samples_mib = run_async(_streams_sampling_rss(target, args, proxy_pid))
    cpu_s = cpu.stop()
    dynamodb_after = stack.dynamodb_stats()
    results: dict[str, Any] = {
        "clients": run.clients,
        "seconds": round(run.seconds, 1),
        "completed": run.completed,
        "failed": run.failed,
        "failure_reasons": run.failure_reasons,
        "ttfb_ms": ms_percentiles(run.ttfb_s),
        "ttlb_ms": ms_percentiles(run.ttlb_s),
        "requests_per_s": round(run.requests_per_s, 1),
        "proxy_cpu_ms_per_request": _ms(cpu_s[role] / max(1, run.completed)),
        "cpu_cores_busy": {
            ("proxy" if name == role else name): round(used_s / run.seconds, 2) for name, used_s in cpu_s.items()
        },
        "proxy_rss_mib_every_10s": rss_samples_mib,
        "dynamodb_lock": _lock_use(dynamodb_before, dynamodb_after, run),
    }
    if account_id is not None:
        usage_rows = count_usage_rows(stack.settings(), account_id)
        results["usage_rows"] = usage_rows
        results["usage_rows_match_completed"] = usage_rows == run.completed
    return results


async def _streams_sampling_rss(
    target: Target, args: argparse.Namespace, proxy_pid: int
) -> tuple[ConcurrencyRun, list[float]]:
    async with RssSampler(proxy_pid) as rss:
        run = await run_concurrent_streams(target, args.seconds, args.clients)
    return run, rss.samples_mib


def _lock_use(before: dict[str, Any] | None, after: dict[str, Any] | None, run: ConcurrencyRun) -> dict[str, Any]:
    """How busy the serialised DynamoDB stand-in was (1.0: requests queued for it) and with what calls."""
    if before is None or after is None:
        return {}
    calls = after["requests"] - before["requests"]
    busy_s = after["busy_s"] - before["busy_s"]
    operations = {
        name: count - before["operations"].get(name, 0) for name, count in sorted(after["operations"].items())
    }
    return {
        "calls": calls,
        "calls_per_s": round(calls / run.seconds, 1),
        "calls_per_request": round(calls / max(1, run.completed), 2),
        "calls_per_request_by_operation": {
            name: round(count / max(1, run.completed), 2) for name, count in operations.items() if count
        },
        "ms_per_call": round(busy_s / calls * 1000, 2) if calls else None,
        "busy_share": round(busy_s / run.seconds, 2),
    }


def measure_cold_starts(stack: BenchStack) -> dict[str, Any]:
    assert stack.upstream is not None
    cold = measure_cold_start(stack.dynamodb_endpoint, stack.upstream)
    return {
        "to_first_healthz_s": [round(value, 3) for value in cold.to_healthz_s],
        "median_s": round(cold.median_s, 3),
        "phases_median_s": {name: round(value, 3) for name, value in cold.phases_s.items()},
        "top_imports_by_cumulative_ms": [vars(line) for line in cold.top_imports],
        "import_self_ms_by_package": cold.packages_ms,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": _command(args),
        "machine": machine(),
        "load_average_at_start": load_average(),
        "config": {
            "overhead_requests_per_side": args.requests,
            "fresh_keys": args.fresh_keys,
            "concurrency_clients": args.clients,
            "concurrency_seconds": args.seconds,
            "concurrency_stream_knobs": STREAM_KNOBS,
            "overhead_stream_knobs": "emulator defaults (3 text deltas) plus each workload's emulator_defaults",
            "dynamodb": "codegateway.dev.dynamodb_server --stock (moto's whole-table transaction backups)"
            if args.stock_moto
            else "codegateway.dev.dynamodb_server (moto, item-level transaction backups)",
        },
    }
    stack = BenchStack(log_dir=args.out.parent / "logs")
    try:
        step("starting DynamoDB (moto), the emulator and the proxy (functions/proxy/run.sh)")
        stack.start_dynamodb(stock_moto=args.stock_moto)
        upstream = stack.start_emulator()
        settings = stack.settings()
        store = build_store(settings)
        create_bench_tables(store, settings)
        step(f"provisioning accounts and {args.fresh_keys + 3} keys (bcrypt)")
        overhead_account = funded_account(store, settings, "overhead", key_count=1 + args.fresh_keys)
        concurrency_account = funded_account(store, settings, "concurrency")
        calls_account = funded_account(store, settings, "dynamodb-calls")
        stack.start_proxy()
        in_memory_url, _ = stack.start_in_memory_proxy()

        warm_key = {"x-api-key": overhead_account.keys[0]}
        direct = Target("direct", upstream.url + "/v1/messages", {"x-api-key": upstream.api_key})
        gateway = Target("proxy", stack.proxy_url + "/v1/messages", warm_key)
        targets = [direct, gateway, Target("proxy-in-memory", in_memory_url + "/v1/messages", warm_key)]
        if args.compare_litellm:
            from tests.load.litellm_compare import start_litellm

            step("starting LiteLLM's proxy (.venv-litellm)")
            litellm = start_litellm(upstream, args.out.parent, stack.open_log("litellm.log"))
            stack.adopt("litellm", litellm.process)
            targets.append(litellm.target)
            results["litellm"] = {"version": litellm.version, "start_to_ready_s": round(litellm.start_to_ready_s, 2)}

        results["overhead"] = {}
        for workload in all_workloads():
            step(
                f"overhead, {workload.name} workload ({len(workload.body):,} bytes): {args.requests} streamed "
                f"requests per side, alternating {[t.name for t in targets]}"
            )
            results["overhead"][workload.name] = figures = measure_overhead(stack, targets, args.requests, workload)
            step(f"overhead, {workload.name} workload: each proxy again, in a rotation of its own with direct")
            figures[OWN_ROTATION] = measure_own_rotations(stack, direct, targets[1:], args.requests, workload)

        step(f"key cache miss: the first request of {args.fresh_keys} new keys")
        cold_keys = run_async(first_requests_of_new_keys(direct, gateway, overhead_account.keys[1:]))
        results["cold_key"] = {
            name: {"ttfb_ms": ms_percentiles(side.ttfb_s, (50, 95))} for name, side in cold_keys.items()
        }

        results["concurrency"] = {}
        step(f"concurrency on DynamoDB: {args.clients} streaming clients for {args.seconds:.0f} s")
        concurrency_target = Target("proxy", gateway.messages_url, {"x-api-key": concurrency_account.keys[0]})
        results["concurrency"]["dynamodb"] = measure_concurrency(
            stack, "proxy", concurrency_target, concurrency_account.account_id, args
        )
        step(f"concurrency on the in-memory store: {args.clients} streaming clients for {args.seconds:.0f} s")
        in_memory_target = Target(
            "proxy-in-memory", in_memory_url + "/v1/messages", {"x-api-key": concurrency_account.keys[0]}
        )
        results["concurrency"]["in_memory"] = measure_concurrency(
            stack, "proxy-in-memory", in_memory_target, None, args
        )

        step("cold start: 5 fresh proxies (run.sh) to the first /healthz 200, then -X importtime")
        results["cold_start"] = measure_cold_starts(stack)

        step("DynamoDB calls on the request path, each alone")
        calls = time_request_path_calls(store, calls_account.account_id, calls_account.keys[0])
        results["dynamodb_calls_ms"] = {
            call.name: {**ms_percentiles(call.seconds, (50, 95)), "client_cpu_p50": _ms(median(call.client_cpu_s))}
            for call in calls
        }
        results["proxy_log"] = log_errors(stack.log_dir / "proxy.log")
    finally:
        stack.stop()
    results["load_average_at_end"] = load_average()
    results["targets"] = summary.targets(results)
    return results


def _command(args: argparse.Namespace) -> str:
    seconds = f"BENCH_SECONDS={os.environ['BENCH_SECONDS']} " if os.environ.get("BENCH_SECONDS") else ""
    return seconds + "python -m tests.load.bench " + " ".join(sys.argv[1:])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    results = run(args)
    results["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(summary.table(results))
    write_json(args.out, results)
    print(f"\nJSON: {args.out}")
    if not args.no_docs:
        performance_doc.update(args.docs, results, source=args.out)
        print(f"Figures: {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
