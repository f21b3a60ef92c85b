"""docs/performance.md's figures, written from the bench's JSON (pure rendering, plus one file write).

`make bench` calls `update()` after writing its JSON; `python -m tests.load.performance_doc [JSON]
[--docs PATH]` redoes it from a saved run. Only the text between the two markers is replaced; the
prose around them (what the figures mean, what changed) is kept as written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.load.added_time import OWN_ROTATION
from tests.load.processes import REPO

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
NEW_FILE_HEAD = "# Performance\n\nFigures written by `make bench` from its JSON; do not edit between the markers.\n\n"


def replace_between_markers(document: str, figures: str) -> str:
    """`document` with the text between the markers replaced (markers appended when absent)."""
    block = f"{BEGIN}\n{figures.strip()}\n{END}"
    begin, end = document.find(BEGIN), document.find(END)
    if begin == -1 or end == -1 or end < begin:
        return document.rstrip("\n") + ("\n\n" if document.strip() else "") + block + "\n"
    return document[:begin] + block + document[end + len(END) :]


def update(path: Path, results: dict[str, Any], source: Path | None = None) -> None:
    existing = path.read_text() if path.exists() else NEW_FILE_HEAD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_between_markers(existing, render(results, source)))


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def _pair(values: dict[str, float]) -> str:
    return f"{values['p50']:.2f} / {values['p95']:.2f} ms"


def _header(results: dict[str, Any], source: Path | None) -> list[str]:
    machine = results["machine"]
    config = results["config"]
    litellm = results.get("litellm")
    shortened = results["concurrency"]["dynamodb"]["seconds"] < 300
    load = (results["load_average_at_start"][0], results["load_average_at_end"][0])
    lines = [
        f"Measured {results['started_at'].replace('T', ' ').replace('+00:00', ' UTC')} by "
        f"`{results.get('command', 'python -m tests.load.bench')}`"
        + (f" ({results['bench_wall_s']:.0f} s)" if "bench_wall_s" in results else "")
        + ".",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}.",
        f"- Load average (1 min) {load[0]} at the start, {load[1]} at the end"
        + (f" (above {machine['cores']}: other work shared the machine)." if max(load) > machine["cores"] else "."),
        f"- {config['overhead_requests_per_side']} timed requests per side and workload after 20 untimed rounds; "
        f"{config['concurrency_clients']} streams for {config['concurrency_seconds']:g} s per store"
        + (" (a shortened run: the targets ask for 300 s)." if shortened else "."),
        f"- DynamoDB: {config['dynamodb']}.",
    ]
    if litellm:
        lines.append(
            f"- LiteLLM {litellm['version']} (`.venv-litellm`): master key only, no database, its native "
            f"`/v1/messages`; ready {litellm['start_to_ready_s']:g} s after start."
        )
    if source is not None:
        shown = source.relative_to(REPO) if source.is_relative_to(REPO) else source
        lines.append(f"- Raw figures: `{shown}` (not committed).")
    return lines


METHOD = [
    "",
    "Method. Every side gets the same request in turn, round by round (direct to the emulator, the gateway",
    "on DynamoDB, the gateway on the in-memory store, LiteLLM when compared; who goes first rotates), one",
    "keep-alive connection per side, one request at a time. TTFB is from sending the request to the first",
    "body byte. *Added* TTFB is per distribution: a proxy's p50 (p95) minus the direct p50 (p95); the JSON",
    "also holds the paired figure (percentiles of the per-round difference). CPU per request is the proxy",
    "process's user + system time (/proc) over the timed requests, divided by their number. The in-memory",
    "store reads each key and account once and reserves and settles nothing (tests/load/in_memory_store.py):",
    "it is the gateway without its DynamoDB calls. The emulator's first-byte delay is its default for the",
    "run (PUT /_emulator/defaults), so it applies alike to every side. Each proxy is then timed again in a",
    "rotation of its own with direct, and the targets read those figures: in the shared rotation a request",
    "runs while the side before it is still at work on the same two cores (moto settling the DynamoDB",
    'gateway\'s request, LiteLLM its own), which no deployment has beside it ("Who shares the two cores").',
]


def _upstream(figures: dict[str, Any]) -> str:
    delay = figures["upstream_first_byte_delay_ms"]
    return f"upstream's first byte after {delay:g} ms" if delay else "upstream answers at once"


def _overhead_table(results: dict[str, Any]) -> list[str]:
    overhead = results["overhead"]
    has_litellm = any("litellm" in figures["added"] for figures in overhead.values())
    head = "| workload | direct TTFB p50 | added p50 / p95: gateway, DynamoDB | gateway, in-memory store |"
    rule = "|---|---:|---:|---:|"
    if has_litellm:
        head += f" LiteLLM {results.get('litellm', {}).get('version', '')} | gateway / LiteLLM added p50 |"
        rule += "---:|---:|"
    head += " CPU per request: gateway / in-memory" + (" / LiteLLM |" if has_litellm else " |")
    rule += "---:|"
    lines = ["", head, rule]
    for name, figures in overhead.items():
        added = figures["added"]
        cpu = figures["cpu_ms_per_request"]
        cells = [
            f"**{name}** ({figures['body_bytes'] / 1000:.1f} KB body, {_upstream(figures)})",
            _ms(figures["sides"]["direct"]["ttfb_ms"]["p50"]),
            _pair(added["proxy"]["ttfb_ms"]),
            _pair(added["proxy-in-memory"]["ttfb_ms"]),
        ]
        cpu_cells = [f"{cpu['proxy']:.2f}", f"{cpu['proxy-in-memory']:.2f}"]
        if has_litellm:
            share = figures.get("gateway_over_litellm_added_ttfb_p50")
            cells += [_pair(added["litellm"]["ttfb_ms"]), "n/a" if share is None else f"{share:.2f}"]
            cpu_cells.append(f"{cpu['litellm']:.2f}")
        cells.append(" / ".join(cpu_cells) + " ms")
        lines.append("| " + " | ".join(cells) + " |")
    lines += _own_rotation_table(overhead)
    controls = {name: f.get("emulator_cpu_ms_per_answer") for name, f in overhead.items()}
    if all(value is not None for value in controls.values()):
        figures_text = " / ".join(f"{value:.2f}" for value in controls.values())
        lines += [
            "",
            f"The control: the upstream emulator (a plain Starlette app) used {figures_text} ms of CPU per answer "
            f"({' / '.join(controls)}) in the same alternation; each process here idles while the others take their "
            "turn, which costs every one of them about twice its back-to-back CPU (docs/profiles/README.md).",
        ]
    cold = results["cold_key"]
    new_key = cold["proxy"]["ttfb_ms"]["p50"] - cold["direct"]["ttfb_ms"]["p50"]
    lines += [
        "",
        f"A key's first request (bcrypt and two reads; {results['config']['fresh_keys']} new keys, tiny workload) "
        f"adds {new_key:.2f} ms at p50.",
    ]
    return lines


PROXY_LABELS = {"proxy": "gateway, DynamoDB", "proxy-in-memory": "gateway, in-memory store", "litellm": "LiteLLM"}


def _own_rotation_table(overhead: dict[str, Any]) -> list[str]:
    """Each proxy timed again in a rotation of its own with direct (what the targets read)."""
    rows = [
        f"| {name} | {PROXY_LABELS.get(proxy, proxy)} | {_ms(own['sides']['direct']['ttfb_ms']['p50'])} | "
        f"{_pair(own['added'][proxy]['ttfb_ms'])} | {_ms(own['added'][proxy]['ttfb_paired_ms']['p50'])} | "
        f"{own['cpu_ms_per_request'][proxy]:.2f} ms |"
        for name, figures in overhead.items()
        for proxy, own in figures.get(OWN_ROTATION, {}).items()
    ]
    if not rows:
        return []
    return [
        "",
        "Each proxy again, in a rotation of its own with direct (the targets read these; see the method):",
        "",
        "| workload | proxy | direct TTFB p50 | added p50 / p95 | added, paired p50 | CPU per request |",
        "|---|---|---:|---:|---:|---:|",
        *rows,
    ]


def _concurrency_table(results: dict[str, Any]) -> list[str]:
    runs = results["concurrency"]
    first = runs["dynamodb"]
    lines = [
        "",
        f"{first['clients']} concurrent streams against one gateway process, {first['seconds']:.0f} s per store "
        "(each stream 20 deltas 20 ms apart):",
        "",
        "| store | completed / failed | TTFB p50 / p95 / p99 | requests/s | usage rows | proxy CPU per request "
        "| DynamoDB stand-in busy |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in (("dynamodb", "DynamoDB (moto)"), ("in_memory", "in-memory store")):
        if key not in runs:
            continue
        run = runs[key]
        ttfb = run["ttfb_ms"]
        usage = f"{run['usage_rows']:,}" if "usage_rows" in run else "none written"
        busy = run["dynamodb_lock"].get("busy_share")
        lines.append(
            f"| {label} | {run['completed']:,} / {run['failed']} | {ttfb['p50']:,.0f} / {ttfb['p95']:,.0f} / "
            f"{ttfb['p99']:,.0f} ms | {run['requests_per_s']:g} | {usage} | {run['proxy_cpu_ms_per_request']:.2f} ms "
            f"| {'' if busy is None else f'{busy:.0%}'} |"
        )
    cold = results["cold_start"]
    phases = ", ".join(f"{name} {value:.2f} s" for name, value in cold["phases_median_s"].items())
    lines += [
        "",
        f"Cold start, process start to the first `/healthz` 200: {cold['median_s']:.2f} s, median of "
        f"{len(cold['to_first_healthz_s'])} ({phases}).",
    ]
    return lines


def _targets_table(results: dict[str, Any]) -> list[str]:
    lines = ["", "| target | measured | |", "|---|---|---|"]
    for target in results["targets"]:
        note = f"; {target['note']}" if target["note"] else ""
        lines.append(f"| {target['target']} | {target['measured']}{note} | {'met' if target['met'] else 'missed'} |")
    return lines


def render(results: dict[str, Any], source: Path | None = None) -> str:
    return "\n".join(
        [
            *_header(results, source),
            *METHOD,
            *_overhead_table(results),
            *_concurrency_table(results),
            *_targets_table(results),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.performance_doc")
    parser.add_argument("json", type=Path, nargs="?", default=REPO / "tests" / "load" / "results" / "latest.json")
    parser.add_argument("--docs", type=Path, default=REPO / "docs" / "performance.md")
    args = parser.parse_args(argv)
    update(args.docs, orjson.loads(args.json.read_bytes()), source=args.json.resolve())
    print(f"Figures: {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
