"""Did a change make the proxy cheaper? The proxy of a base revision (checked out in a temporary git
worktree) and the working tree's, in one run on the same stack, each in a rotation of its own with
direct, taking turns block by block so both meet the same hours: CPU per request (utime + stime from
/proc) and added TTFB for each (docs/profiles/README.md).

    .venv/bin/python -m tests.load.code_ab --base REV [--store in-memory|dynamodb] [--workload tiny|agent]
        [--rounds N] [--blocks N] [--rpm-limit N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from codegateway.dev.processes import free_port, wait_until_ready
from tests.load.accounts import start_with_funded_key
from tests.load.bench import RESULTS_DIR, measure_overhead
from tests.load.processes import REPO, BenchStack, proxy_env, start_proxy
from tests.load.streams import Target
from tests.load.workloads import agent, tiny


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load.code_ab", description=__doc__)
    parser.add_argument("--base", required=True, help="the revision to compare the working tree with")
    parser.add_argument("--store", choices=("in-memory", "dynamodb"), default="in-memory")
    parser.add_argument("--workload", choices=("tiny", "agent"), default="tiny")
    parser.add_argument("--rounds", type=int, default=200, help="timed rounds per block")
    parser.add_argument("--blocks", type=int, default=6, help="blocks in all, the two proxies taking turns")
    parser.add_argument(
        "--rpm-limit",
        type=int,
        default=0,
        help="the key's RPM cap (0: none, as the bench's keys; a cap, as the default 120 gives most keys, "
        "counts every request in the RateLimits table: set one the run never reaches)",
    )
    return parser.parse_args(argv)


def start_proxy_of(stack: BenchStack, tree: Path, name: str, store: str) -> str:
    """The proxy of `tree`'s code, started through run.sh as the bench starts its own."""
    task_root = tree / "functions" / "proxy"
    if store == "in-memory":
        task_root = stack.log_dir / f"{name}-task-root"
        task_root.mkdir(parents=True, exist_ok=True)
        (task_root / "app.py").write_text("from tests.load.in_memory_store import create_app\n")
    port = free_port()
    assert stack.upstream is not None
    env = proxy_env(stack.dynamodb_endpoint, stack.upstream, port, task_root)
    env["PYTHONPATH"] = f"{tree / 'shared'}:{tree}"  # ahead of the editable install of the working tree
    process = start_proxy(env, output=stack.open_log(f"{name}.log"))
    stack.adopt(name, process)
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(url + "/healthz", process)
    return url


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workload = agent() if args.workload == "agent" else tiny()
    stack = BenchStack(log_dir=RESULTS_DIR / "logs" / "code-ab")
    with tempfile.TemporaryDirectory(prefix="cgw-base-") as scratch:
        base_tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base_tree), args.base], check=True
        )
        try:
            direct, key = start_with_funded_key(stack, "code-ab", rpm_limit=args.rpm_limit)
            proxies = {
                name: Target(name, start_proxy_of(stack, tree, name, args.store) + "/v1/messages", key)
                for name, tree in (("base", base_tree), ("working-tree", REPO))
            }
            print(
                f"{args.workload} workload, {args.store} store, base {args.base}, {args.rounds} rounds a block"
                + (f", a key capped at {args.rpm_limit} RPM" if args.rpm_limit else "")
            )
            cpu: dict[str, list[float]] = {name: [] for name in proxies}
            for block in range(args.blocks):
                name = list(proxies)[block % 2]
                figures = measure_overhead(stack, [direct, proxies[name]], args.rounds, workload)
                cpu[name].append(figures["cpu_ms_per_request"][name])
                added = figures["added"][name]["ttfb_ms"]
                calls = figures.get("dynamodb_calls_per_proxy_request")
                print(
                    f"  {name:>12}: CPU per request {cpu[name][-1]:.2f} ms, "
                    f"added TTFB p50 {added['p50']:.2f} / p95 {added['p95']:.2f} ms"
                    + (f", DynamoDB calls per request {calls:.2f}" if calls is not None else ""),
                    flush=True,
                )
            for name, figures_ms in cpu.items():
                mean_ms = sum(figures_ms) / len(figures_ms)
                print(f"  {name:>12}: CPU per request, mean of {len(figures_ms)} blocks {mean_ms:.2f} ms")
        finally:
            stack.stop()
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
