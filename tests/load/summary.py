"""The bench's results as the issue's targets (met or not) and as one printed table."""

from __future__ import annotations

from typing import Any

from tests.load.report import PERCENTILES, Section, difference, render

ADDED_TTFB_P50_MAX_MS = 3.0
ADDED_TTFB_P95_MAX_MS = 10.0
LITELLM_SHARE_MAX = 0.2  # the gateway's added TTFB <= 1/5 of LiteLLM's
COLD_START_MAX_S = 1.5
FULL_CONCURRENCY_S = 300


def added(results: dict[str, Any], name: str, measure: str, part: str = "overhead") -> dict[str, float]:
    sides = results[part]
    return difference(sides[name][measure], sides["direct"][measure])


def _target(name: str, measured: str, met: bool, note: str = "") -> dict[str, Any]:
    return {"target": name, "measured": measured, "met": met, "note": note}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    gateway_added = added(results, "proxy", "ttfb_ms")
    found = [
        _target(
            f"added TTFB p50 <= {ADDED_TTFB_P50_MAX_MS:g} ms (warm key)",
            f"{gateway_added['p50']:.2f} ms",
            gateway_added["p50"] <= ADDED_TTFB_P50_MAX_MS,
        ),
        _target(
            f"added TTFB p95 <= {ADDED_TTFB_P95_MAX_MS:g} ms (warm key)",
            f"{gateway_added['p95']:.2f} ms",
            gateway_added["p95"] <= ADDED_TTFB_P95_MAX_MS,
        ),
    ]
    if "litellm" in results["overhead"]:
        litellm_added = added(results, "litellm", "ttfb_ms")
        share = gateway_added["p50"] / litellm_added["p50"] if litellm_added["p50"] > 0 else float("inf")
        found.append(
            _target(
                "added TTFB p50 <= 1/5 of LiteLLM's",
                f"{share:.3f} ({gateway_added['p50']:.2f} vs {litellm_added['p50']:.2f} ms)",
                share <= LITELLM_SHARE_MAX,
            )
        )
    concurrency = results["concurrency"]
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


def _overhead_section(results: dict[str, Any]) -> Section:
    overhead = results["overhead"]
    requests = results["config"]["overhead_requests_per_side"]
    section = Section(f"1. Overhead ({requests} sequential streams per side, warm key, alternating)")
    section.row("", *(f"p{pct}" for pct in PERCENTILES))
    proxies = [name for name in PROXIES if name in overhead]
    for measure, title in MEASURES:
        _percentile_rows(section, f"{title}: direct (ms)", overhead["direct"][measure])
        for name in proxies:
            _percentile_rows(section, f"{title}: added by {name} (ms)", added(results, name, measure))
    if "litellm" in overhead:
        gateway_added, litellm_added = added(results, "proxy", "ttfb_ms"), added(results, "litellm", "ttfb_ms")
        section.row(
            "TTFB added: proxy / litellm",
            *(_ratio(gateway_added[f"p{pct}"], litellm_added[f"p{pct}"]) for pct in PERCENTILES),
        )
    for name in proxies:
        section.row(f"CPU per request: {name} (ms)", overhead[name]["cpu_ms_per_request"])
    if "dynamodb_calls_per_request" in overhead["proxy"]:
        section.row("DynamoDB calls per proxy request", overhead["proxy"]["dynamodb_calls_per_request"])
    cold_key = results["cold_key"]
    section.row(f"first request of a new key ({results['config']['fresh_keys']} keys)", "p50", "p95")
    _percentile_rows(section, "TTFB: direct (ms)", cold_key["direct"]["ttfb_ms"])
    _percentile_rows(section, "TTFB: added by proxy, new key (ms)", added(results, "proxy", "ttfb_ms", "cold_key"))
    return section


def _ratio(part: float, whole: float) -> str:
    return f"{part / whole:.3f}" if whole > 0 else "n/a"


def _concurrency_section(results: dict[str, Any]) -> Section:
    run = results["concurrency"]
    section = Section(f"2+4. {run['clients']} concurrent streams for {run['seconds']:.0f} s (one proxy process)")
    section.row("completed / failed", run["completed"], run["failed"])
    section.row("", "p50", "p95", "p99")
    _percentile_rows(section, "TTFB (ms)", run["ttfb_ms"])
    _percentile_rows(section, "TTLB (ms)", run["ttlb_ms"])
    section.row("throughput (requests/s)", run["requests_per_s"])
    section.row("usage rows / completed", run["usage_rows"], run["completed"])
    section.row("proxy CPU per request (ms)", run["proxy_cpu_ms_per_request"])
    for name, cores in run["cpu_cores_busy"].items():
        section.row(f"CPU busy: {name} (cores)", cores)
    rss = run["proxy_rss_mib_every_10s"]
    section.row("proxy RSS start / middle / end (MiB)", rss[0], rss[len(rss) // 2], rss[-1])
    lock = run["dynamodb_lock"]
    if lock:
        section.row("DynamoDB stand-in: calls/s, ms per call", lock["calls_per_s"], lock["ms_per_call"])
        section.row("DynamoDB stand-in: share of time busy", lock["busy_share"])
        section.row("DynamoDB calls per request", lock["calls_per_request"])
        for operation, per_request in lock["calls_per_request_by_operation"].items():
            section.row(f"  {operation}", per_request)
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
    section = Section("DynamoDB calls on the request path, each alone (moto; botocore CPU in the caller)")
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
        _overhead_section(results),
        _concurrency_section(results),
        _cold_start_section(results),
        _dynamodb_section(results),
    ]
    if "litellm" in results:
        litellm = results["litellm"]
        sections[0].row(f"LiteLLM {litellm['version']}: start to ready (s)", litellm["start_to_ready_s"])
    text = "\n".join([render(title, sections), *_targets_lines(results)])
    reasons = results["concurrency"]["failure_reasons"]
    if reasons:
        text += "\n\nFirst failures:\n" + "\n".join(f"  {reason}" for reason in reasons)
    return text
