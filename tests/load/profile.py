"""python -m tests.load.profile [--requests N] [--pause S] [--flame DIR]: CPU per request of the proxy and where.

Starts the bench's stack (moto, the emulator, the proxy on DynamoDB, the proxy on a DynamoDB stand-in
that answers its writes at once (instant_dynamodb.py: the DynamoDB calls' cost to the gateway itself,
without moto's CPU on the same two cores) and the proxy on the in-memory store, all through
functions/proxy/run.sh), then sends N sequential streamed requests per (store, body) pair:
the bench's tiny turn and a Claude Code-shaped body of about 90 KB. CPU is the proxy process's own
(utime + stime from /proc), so other load on the machine barely moves it; the emulator's CPU per
answer beside it is the control (with --pause both about double: docs/profiles/README.md). With
--flame, py-spy samples the proxy while it serves (GIL holder only, so idle waits stay out) and
writes one flame graph per pair.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from codegateway.store import build_store
from tests.load.accounts import create_bench_tables, funded_account
from tests.load.cpu import CpuMeter
from tests.load.processes import REPO, BenchStack
from tests.load.streams import ANTHROPIC_VERSION, MESSAGE_BODY, MODEL

WARMUP = 30
_PROSE = (
    "the function returns a value when the caller passes a path to the file and the repository holds tests "
    "for each module so we read them before editing"
)
_WORDS = _PROSE.split()


def _text(words: int) -> str:
    return " ".join(_WORDS[i % len(_WORDS)] for i in range(words))


def agent_shaped_body() -> bytes:
    """About 90 KB, shaped as Claude Code sends it: system blocks and tools with cache_control
    breakpoints, 30 tools, a tool-use history (claude-code-wire.md)."""
    tools = [
        {
            "name": f"Tool{index}",
            "description": _text(210),
            "input_schema": {
                "type": "object",
                "properties": {f"arg{arg}": {"type": "string", "description": _text(12)} for arg in range(6)},
                "required": ["arg0"],
                "additionalProperties": False,
            },
        }
        for index in range(30)
    ]
    tools[-1]["cache_control"] = {"type": "ephemeral"}
    messages: list[dict[str, object]] = [{"role": "user", "content": [{"type": "text", "text": _text(120)}]}]
    for turn in range(12):
        messages.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": _text(40)},
                    {"type": "tool_use", "id": f"toolu_{turn:04d}", "name": "Tool3", "input": {"arg0": _text(10)}},
                ],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"toolu_{turn:04d}", "content": _text(200)}],
            }
        )
    messages[-1]["content"][0]["cache_control"] = {"type": "ephemeral"}  # type: ignore[index]
    return orjson.dumps(
        {
            "model": MODEL,
            "max_tokens": 32000,
            "stream": True,
            "system": [
                {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
                {"type": "text", "text": _text(2400), "cache_control": {"type": "ephemeral"}},
            ],
            "tools": tools,
            "messages": messages,
            "metadata": {"user_id": "user_0123_account_4567_session_89ab"},
            "thinking": {"type": "enabled", "budget_tokens": 31999},
        }
    )


async def send_sequentially(url: str, api_key: str, body: bytes, count: int, pause_s: float = 0.0) -> None:
    headers = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION, "x-api-key": api_key}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) as client:
        for _ in range(count):
            async with client.stream("POST", url, content=body, headers=headers) as response:
                async for _chunk in response.aiter_raw():
                    pass
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}")
            if pause_s:
                await asyncio.sleep(pause_s)


def _calls_per_request(before: dict[str, Any] | None, after: dict[str, Any] | None, requests: int) -> str:
    """DynamoDB operations per request while the timed requests ran (the local server's /_stats)."""
    if before is None or after is None:
        return "?"
    operations = {
        name: (count - before["operations"].get(name, 0)) / requests
        for name, count in after["operations"].items()
        if count - before["operations"].get(name, 0) > 0
    }
    return ", ".join(f"{name} {share:.2f}" for name, share in sorted(operations.items())) or "none"


def start_py_spy(pid: int, out: Path, rate_hz: int) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [str(py_spy), "record", "--pid", str(pid), "--rate", str(rate_hz), "--gil", "--nonblocking"]
    formats = {".svg": "flamegraph", ".txt": "raw"}  # raw: collapsed stacks, one per line, for scripts
    command += ["--format", formats.get(out.suffix, "speedscope"), "--output", str(out)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the timed requests start
    return spy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.profile", description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per (store, body)")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds between timed requests (above record_max_age_s, 0.9, every request re-reads its key and "
        "account, as an agent's requests seconds apart do)",
    )
    parser.add_argument("--flame", type=Path, help="write py-spy flame graphs (SVG) into this directory")
    parser.add_argument("--stacks", action="store_true", help="with --flame: collapsed stacks (.txt), not SVG")
    parser.add_argument(
        "--rate",
        type=int,
        default=250,
        help="with --flame: py-spy's samples per second (1000 resolves a 1.5 ms request better, at more CPU)",
    )
    args = parser.parse_args(argv)
    bodies = {"tiny": MESSAGE_BODY, "agent": agent_shaped_body()}
    stack = BenchStack(log_dir=REPO / "tests" / "load" / "results" / "profile-logs")
    try:
        stack.start_dynamodb()
        stack.start_emulator()
        settings = stack.settings()
        store = build_store(settings)
        create_bench_tables(store, settings)
        api_key = funded_account(store, settings, "profile").keys[0]
        stack.start_proxy()
        in_memory_url, _ = stack.start_in_memory_proxy()
        proxies = {"dynamodb": (stack.proxy_url, stack.pids["proxy"])}
        proxies["instant"] = stack.start_proxy_on_instant_dynamodb()
        proxies["in-memory"] = (in_memory_url, stack.pids["proxy-in-memory"])
        emulator_pid = stack.pids["emulator"]
        print(f"{'store':<10} {'body':<6} {'bytes':>7} {'CPU ms/request':>15} {'emulator':>9}  DynamoDB calls/request")
        for store_name, (base_url, pid) in proxies.items():
            for body_name, body in bodies.items():
                url = base_url + "/v1/messages"
                asyncio.run(send_sequentially(url, api_key, body, WARMUP))
                spy = None
                if args.flame:
                    args.flame.mkdir(parents=True, exist_ok=True)
                    out = args.flame / f"{store_name}-{body_name}.{'txt' if args.stacks else 'svg'}"
                    spy = start_py_spy(pid, out, args.rate)
                calls_before = stack.dynamodb_stats()
                cpu = CpuMeter({"proxy": pid, "emulator": emulator_pid})
                cpu.start()
                asyncio.run(send_sequentially(url, api_key, body, args.requests, args.pause))
                used_s = cpu.stop()
                calls = _calls_per_request(calls_before, stack.dynamodb_stats(), args.requests)
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(60)
                per_request_ms, emulator_ms = (used_s[name] / args.requests * 1000 for name in ("proxy", "emulator"))
                row = f"{store_name:<10} {body_name:<6} {len(body):>7} {per_request_ms:>15.2f} {emulator_ms:>9.2f}"
                print(f"{row}  {calls}", flush=True)
    finally:
        stack.stop()
    if args.flame:
        print(f"flame graphs (py-spy, GIL holder only; sampling adds CPU of its own): {args.flame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
