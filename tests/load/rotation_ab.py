"""Does the shared rotation bias a proxy's figure? Blocks of the shared rotation (direct, the gateway on
DynamoDB, the gateway on the in-memory store) and of the proxy's own rotation (direct and it), taking
turns, so both rules meet the same hours (docs/performance.md, "Who shares the two cores").

    .venv/bin/python -m tests.load.rotation_ab [--workload tiny|agent] [--proxy proxy|proxy-in-memory]
        [--rounds N] [--blocks N]
"""

from __future__ import annotations

import argparse
import sys

from tests.load.accounts import start_with_funded_key
from tests.load.bench import RESULTS_DIR, measure_overhead
from tests.load.processes import BenchStack
from tests.load.streams import Target
from tests.load.workloads import agent, tiny


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load.rotation_ab", description=__doc__)
    parser.add_argument("--workload", choices=("tiny", "agent"), default="tiny")
    parser.add_argument("--proxy", choices=("proxy", "proxy-in-memory"), default="proxy-in-memory")
    parser.add_argument("--rounds", type=int, default=200, help="timed rounds per block")
    parser.add_argument("--blocks", type=int, default=4, help="blocks in all, shared and own taking turns")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workload = agent() if args.workload == "agent" else tiny()
    stack = BenchStack(log_dir=RESULTS_DIR / "logs")
    try:
        direct, key = start_with_funded_key(stack, "rotation-ab")
        stack.start_proxy()
        in_memory_url, _ = stack.start_in_memory_proxy()
        gateway = Target("proxy", stack.proxy_url + "/v1/messages", key)
        in_memory = Target("proxy-in-memory", in_memory_url + "/v1/messages", key)
        subject = gateway if args.proxy == "proxy" else in_memory
        print(f"{args.workload} workload, {subject.name}, {args.rounds} rounds a block (added TTFB, ms)")
        for block in range(args.blocks):
            shared = block % 2 == 0
            targets = [direct, gateway, in_memory] if shared else [direct, subject]
            figures = measure_overhead(stack, targets, args.rounds, workload)
            added = figures["added"][subject.name]
            print(
                f"  {'shared' if shared else 'own':>6}: p50 {added['ttfb_ms']['p50']:.2f}, "
                f"p95 {added['ttfb_ms']['p95']:.2f}, paired p50 {added['ttfb_paired_ms']['p50']:.2f}; "
                f"direct p50 {figures['sides']['direct']['ttfb_ms']['p50']:.2f}; "
                f"CPU per request {figures['cpu_ms_per_request'][subject.name]:.2f}",
                flush=True,
            )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
