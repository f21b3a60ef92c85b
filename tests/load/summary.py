"""The bench's results as the issue's targets (met or not) and as one printed table."""

from __future__ import annotations

from typing import Any

from tests.load.added_time import OWN_ROTATION, share_of
from tests.load.report import PERCENTILES, Section, difference, render

# Issue 16's targets, each on the workload it names.
AGENT_ADDED_P50_MAX_MS = 2.0
AGENT_ADDED_P95_MAX_MS = 5.0
LITELLM_SHARE_MAX = 0.2  # the gateway's added TTFB p50 <= 1/5 of LiteLLM's, agent workload
TINY_IN_MEMORY_ADDED_P50_MAX_MS = 1.5
CPU_IN_MEMORY_MAX_MS = 1.5
CPU_DYNAMODB_MAX_MS = 3.0
COLD_START_MAX_S = 1.5
FULL_CONCURRENCY_S = 300


def own_or_shared(results: dict[str, Any], workload: str, proxy: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`proxy`'s figures from its rotation of its own with direct when the run has one (bench.py,
    OWN_ROTATION), and the shared rotation's beside them; (shared, None) for a run without."""
    shared: dict[str, Any] = results["overhead"][workload]
    own = shared.get(OWN_ROTATION, {}).get(proxy)
    return (own, shared) if own is not None else (shared, None)


def added_ttfb(results: dict[str, Any], workload: str, proxy: str) -> dict[str, float]:
    """What `proxy` added to the TTFB (percentiles, ms), from its own rotation when the run has one."""
    added: dict[str, float] = own_or_shared(results, workload, proxy)[0]["added"][proxy]["ttfb_ms"]
    return added


def _shared_note(results: dict[str, Any], workload: str, proxy: str, percentile: str) -> str:
    """The shared rotation's added TTFB, for a target read from the own rotation ('' without one)."""
    _, shared = own_or_shared(results, workload, proxy)
    if shared is None:
        return ""
    return f"own rotation; shared: {shared['added'][proxy]['ttfb_ms'][percentile]:.2f} ms"


def cpu_per_request(results: dict[str, Any], workload: str, proxy: str) -> float:
    value: float = own_or_shared(results, workload, proxy)[0]["cpu_ms_per_request"][proxy]
    return value


def _shared_cpu_note(results: dict[str, Any]) -> str:
    _, shared = own_or_shared(results, "tiny", "proxy")
    if shared is None:
        return ""
    cpu = shared["cpu_ms_per_request"]
    return f"own rotations; shared: {cpu['proxy-in-memory']:.2f} / {cpu['proxy']:.2f} ms"


def _target(name: str, measured: str, met: bool, note: str = "") -> dict[str, Any]:
    return {"target": name, "measured": measured, "met": met, "note": note}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    agent = added_ttfb(results, "agent", "proxy")
    tiny_in_memory = added_ttfb(results, "tiny", "proxy-in-memory")
    cpu_in_memory = cpu_per_request(results, "tiny", "proxy-in-memory")
    cpu_dynamodb = cpu_per_request(results, "tiny", "proxy")
    found = [
        _target(
            f"agent: added TTFB p50 <= {AGENT_ADDED_P50_MAX_MS:g} ms",
            f"{agent['p50']:.2f} ms",
            agent["p50"] <= AGENT_ADDED_P50_MAX_MS,
            _shared_note(results, "agent", "proxy", "p50"),
        ),
        _target(
            f"agent: added TTFB p95 <= {AGENT_ADDED_P95_MAX_MS:g} ms",
            f"{agent['p95']:.2f} ms",
            agent["p95"] <= AGENT_ADDED_P95_MAX_MS,
            _shared_note(results, "agent", "proxy", "p95"),
        ),
    ]
    if "litellm" in results["overhead"]["agent"]["added"]:
        litellm = added_ttfb(results, "agent", "litellm")
        share = share_of({"proxy": {"ttfb_ms": agent}, "litellm": {"ttfb_ms": litellm}}, "proxy", "litellm")
        shared_share = results["overhead"]["agent"].get("gateway_over_litellm_added_ttfb_p50")
        _, shared = own_or_shared(results, "agent", "proxy")
        found.append(
            _target(
                "agent: added TTFB p50 <= 1/5 of LiteLLM's",
                f"{share if share is not None else 'n/a'} ({agent['p50']:.2f} vs {litellm['p50']:.2f} ms)",
                share is not None and share <= LITELLM_SHARE_MAX,
                f"own rotations; shared: {shared_share}" if shared is not None else "",
            )
        )
    found += [
        _target(
            f"tiny, in-memory store: added TTFB p50 <= {TINY_IN_MEMORY_ADDED_P50_MAX_MS:g} ms",
            f"{tiny_in_memory['p50']:.2f} ms",
            tiny_in_memory["p50"] <= TINY_IN_MEMORY_ADDED_P50_MAX_MS,
            _shared_note(results, "tiny", "proxy-in-memory", "p50"),
        ),
        _target(
            f"tiny: CPU per request <= {CPU_IN_MEMORY_MAX_MS:g} ms in memory, "
            f"<= {CPU_DYNAMODB_MAX_MS:g} ms on DynamoDB",
            f"{cpu_in_memory:.2f} / {cpu_dynamodb:.2f} ms",
            cpu_in_memory <= CPU_IN_MEMORY_MAX_MS and cpu_dynamodb <= CPU_DYNAMODB_MAX_MS,
            _shared_cpu_note(results),
        ),
    ]
    concurrency = results["concurrency"]["dynamodb"]
    shortened = concurrency["seconds"] < FULL_CONCURRENCY_S
    note = f"shortened run ({concurrency['seconds']:.0f} s of {FULL_CONCURRENCY_S})" if shortened else ""
    found += [
        _target(
            f"{concurrency['clients']} streams: 0 failures",
            f"{concurrency['failed']} of {concurrency['completed'] + concurrency['failed']}",
            concurrency["failed"] == 0,
            note,
        ),
        _target(
            "usage rows == completed",
            f"{concurrency['usage_rows']} rows, {concurrency['completed']} completed",
            concurrency["usage_rows_match_completed"],
            note,
        ),
        _target(
            f"cold start to first /healthz 200 <= {COLD_START_MAX_S:g} s",
            f"{results['cold_start']['median_s']:.3f} s (median of {len(results['cold_start']['to_first_healthz_s'])})",
            results["cold_start"]["median_s"] <= COLD_START_MAX_S,
        ),
    ]
    return found


def _percentile_rows(section: Section, label: str, values: dict[str, float]) -> None:
    section.row(label, *(values.get(f"p{pct}", "") for pct in PERCENTILES))


PROXIES = ("proxy", "proxy-in-memory", "litellm")
MEASURES = (("ttfb_ms", "TTFB"), ("message_stop_ms", "to message_stop"), ("ttlb_ms", "TTLB"))


def _overhead_section(results: dict[str, Any], workload: str) -> Section:
    figures = results["overhead"][workload]
    requests = results["config"]["overhead_requests_per_side"]
    section = Section(
        f"1. Overhead, {workload} workload ({figures['body_bytes']:,}-byte body, upstream first byte after "
        f"{figures['upstream_first_byte_delay_ms']:g} ms; {requests} sequential streams per side, warm key, "
        "alternating)"
    )
    section.row("", *(f"p{pct}" for pct in PERCENTILES))
    proxies = [name for name in PROXIES if name in figures["added"]]
    for measure, title in MEASURES:
        _percentile_rows(section, f"{title}: direct (ms)", figures["sides"]["direct"][measure])
        for name in proxies:
            _percentile_rows(section, f"{title}: added by {name} (ms)", figures["added"][name][measure])
    for name in proxies:
        _percentile_rows(
            section, f"TTFB added by {name}, paired by round (ms)", figures["added"][name]["ttfb_paired_ms"]
        )
    if "litellm" in figures["added"]:
        gateway, litellm = figures["added"]["proxy"]["ttfb_ms"], figures["added"]["litellm"]["ttfb_ms"]
        section.row(
            "TTFB added: proxy / litellm",
            *(_ratio(gateway[f"p{pct}"], litellm[f"p{pct}"]) for pct in PERCENTILES),
        )
    for name in proxies:
        section.row(f"CPU per request: {name} (ms)", figures["cpu_ms_per_request"][name])
    if "dynamodb_calls_per_proxy_request" in figures:
        section.row("DynamoDB calls per proxy request", figures["dynamodb_calls_per_proxy_request"])
    for name, own in figures.get(OWN_ROTATION, {}).items():
        _percentile_rows(
            section, f"own rotation with direct: direct TTFB (ms), {name}", own["sides"]["direct"]["ttfb_ms"]
        )
        _percentile_rows(section, f"own rotation: TTFB added by {name} (ms)", own["added"][name]["ttfb_ms"])
        _percentile_rows(
            section, f"own rotation: TTFB added by {name}, paired (ms)", own["added"][name]["ttfb_paired_ms"]
        )
        section.row(f"own rotation: CPU per request, {name} (ms)", own["cpu_ms_per_request"][name])
    return section


def _cold_key_section(results: dict[str, Any]) -> Section:
    cold_key = results["cold_key"]
    section = Section(f"1b. First request of a new key ({results['config']['fresh_keys']} keys, tiny workload)")
    section.row("", "p50", "p95")
    _percentile_rows(section, "TTFB: direct (ms)", cold_key["direct"]["ttfb_ms"])
    new_key = difference(cold_key["proxy"]["ttfb_ms"], cold_key["direct"]["ttfb_ms"])
    _percentile_rows(section, "TTFB: added by proxy, new key (ms)", new_key)
    return section


def _ratio(part: float, whole: float) -> str:
    return f"{part / whole:.3f}" if whole > 0 else "n/a"


STORES = (("dynamodb", "DynamoDB (moto)"), ("in_memory", "in-memory"))


def _concurrency_section(results: dict[str, Any]) -> Section:
    runs = [(label, results["concurrency"][key]) for key, label in STORES if key in results["concurrency"]]
    first = runs[0][1]
    section = Section(f"2+4. {first['clients']} concurrent streams for {first['seconds']:.0f} s (one proxy process)")
    section.row("store", *(label for label, _ in runs))

    def row(label: str, value: Any) -> None:
        section.row(label, *(value(run) for _, run in runs))

    row("completed / failed", lambda run: f"{run['completed']} / {run['failed']}")
    for pct in PERCENTILES:
        row(f"TTFB p{pct} (ms)", lambda run, pct=pct: run["ttfb_ms"][f"p{pct}"])
    row("TTLB p50 (ms)", lambda run: run["ttlb_ms"]["p50"])
    row("throughput (requests/s)", lambda run: run["requests_per_s"])
    row(
        "usage rows / completed",
        lambda run: f"{run['usage_rows']} / {run['completed']}" if "usage_rows" in run else "-",
    )
    row("proxy CPU per request (ms)", lambda run: run["proxy_cpu_ms_per_request"])
    for name in first["cpu_cores_busy"]:
        row(f"CPU busy: {name} (cores)", lambda run, name=name: run["cpu_cores_busy"].get(name, ""))
    row(
        "proxy RSS start / end (MiB)",
        lambda run: f"{run['proxy_rss_mib_every_10s'][0]} / {run['proxy_rss_mib_every_10s'][-1]}",
    )
    row("DynamoDB stand-in: calls per request", lambda run: run["dynamodb_lock"].get("calls_per_request", ""))
    row("DynamoDB stand-in: ms per call", lambda run: run["dynamodb_lock"].get("ms_per_call", ""))
    row("DynamoDB stand-in: share of time busy", lambda run: run["dynamodb_lock"].get("busy_share", ""))
    return section


def _cold_start_section(results: dict[str, Any]) -> Section:
    cold = results["cold_start"]
    section = Section("3. Cold start (functions/proxy/run.sh)")
    section.row("to first /healthz 200, median (s)", cold["median_s"])
    section.row("  runs (s): " + " ".join(f"{value:.3f}" for value in cold["to_first_healthz_s"]))
    for name, seconds in cold["phases_median_s"].items():
        section.row(f"  {name} (s)", seconds)
    section.row("import app: top 15 by cumulative", "self ms", "cumul. ms")
    for line in cold["top_imports_by_cumulative_ms"]:
        section.row(f"  {line['module']}", f"{line['self_ms']:.1f}", f"{line['cumulative_ms']:.1f}")
    section.row("import app: own time by package", "self ms")
    for package, ms in cold["import_self_ms_by_package"].items():
        section.row(f"  {package}", f"{ms:.1f}")
    return section


def _dynamodb_section(results: dict[str, Any]) -> Section:
    section = Section("DynamoDB calls on the request path, each alone (moto; the client's CPU in the caller)")
    section.row("", "p50 ms", "p95 ms", "CPU ms")
    for name, values in results["dynamodb_calls_ms"].items():
        section.row(name, values["p50"], values["p95"], values["client_cpu_p50"])
    log = results["proxy_log"]
    section.row("proxy log: lines / error lines", log["log_lines"], log["error_lines"])
    return section


def _targets_lines(results: dict[str, Any]) -> list[str]:
    lines = ["", "Targets"]
    for target in results["targets"]:
        verdict = "met   " if target["met"] else "MISSED"
        note = f"  ({target['note']})" if target["note"] else ""
        lines.append(f"  {verdict}  {target['target']}: {target['measured']}{note}")
    return lines


def table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    title = (
        f"CodeGateway bench {results['started_at']} - {machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}, load avg {results['load_average_at_start'][0]} -> "
        f"{results['load_average_at_end'][0]}"
    )
    sections = [
        *(_overhead_section(results, workload) for workload in results["overhead"]),
        _cold_key_section(results),
        _concurrency_section(results),
        _cold_start_section(results),
        _dynamodb_section(results),
    ]
    if "litellm" in results:
        litellm = results["litellm"]
        sections[0].row(f"LiteLLM {litellm['version']}: start to ready (s)", litellm["start_to_ready_s"])
    text = "\n".join([render(title, sections), *_targets_lines(results)])
    reasons = [reason for run in results["concurrency"].values() for reason in run["failure_reasons"]]
    if reasons:
        text += "\n\nFirst failures:\n" + "\n".join(f"  {reason}" for reason in reasons)
    return text
