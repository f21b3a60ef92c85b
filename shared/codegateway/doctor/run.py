"""Run the doctor: measure layer by layer (environment, network, TLS, gateway, Claude Code's files) and
turn each measurement into checks. A layer that fails stops the layers above it: their answers would
only repeat the failure."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from codegateway.doctor import checks_claude, checks_environment, checks_gateway, checks_network
from codegateway.doctor.checks_gateway import IDLE_S
from codegateway.doctor.claude_state import read_claude_state
from codegateway.doctor.probe_http import GatewayProbe
from codegateway.doctor.probe_network import connect_first, probe_tls, resolve, verifying_context
from codegateway.doctor.report import Check, Status


@dataclass(frozen=True)
class DoctorOptions:
    environ: Mapping[str, str]
    home: Path
    base_url: str | None = None
    key: str | None = None
    idle: bool = False
    idle_s: float = IDLE_S
    timeout_s: float = 10.0


def run_doctor(options: DoctorOptions, on_check: Callable[[Check], None] = lambda check: None) -> list[Check]:
    """Every check, in order; each is also handed to `on_check` as soon as it is known."""
    checks: list[Check] = []

    def add(check: Check | None) -> bool:
        """Record a check; False when it failed (stop this layer)."""
        if check is None:
            return True
        checks.append(check)
        on_check(check)
        return check.status is not Status.fail

    env = checks_environment.ClientEnv.read(options.environ, base_url=options.base_url, key=options.key)
    add(checks_environment.check_credentials(env))
    add(checks_environment.check_key_format(env.key))
    if add(checks_environment.check_base_url(env.base_url, env.base_url_source)) or _has_origin(env.base_url):
        assert env.base_url is not None
        _probe_gateway(env, options, add)
    state = read_claude_state(options.environ, options.home, env.key)
    add(checks_claude.check_claude_login(state, base_url_set=bool(env.base_url), now_ms=int(time.time() * 1000)))
    return checks


def _has_origin(base_url: str | None) -> bool:
    """A base URL with a path is wrong, but its host can still be diagnosed."""
    if not base_url:
        return False
    parts = urlsplit(base_url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _probe_gateway(
    env: checks_environment.ClientEnv, options: DoctorOptions, add: Callable[[Check | None], bool]
) -> None:
    assert env.base_url is not None
    origin = checks_environment.origin_of(env.base_url)
    parts = urlsplit(origin)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    add(checks_environment.check_proxies(options.environ, origin))
    resolved = resolve(host, port)
    if not add(checks_network.check_dns(resolved)):
        return
    connected = connect_first(resolved.addresses, port, options.timeout_s)
    if not add(checks_network.check_tcp(connected)):
        return
    address = connected.address
    verify: ssl.SSLContext | bool = True
    if parts.scheme == "https":
        extra_ca = options.environ.get("NODE_EXTRA_CA_CERTS") or None
        tls = probe_tls(address, port, host, extra_ca, options.timeout_s)
        version_ok = add(checks_network.check_tls_version(tls))
        if not add(checks_network.check_tls_verification(tls)) or not version_ok:
            return
        verify = verifying_context(tls.extra_ca_path)
    probe = GatewayProbe(origin, env.headers, verify, options.timeout_s)
    try:
        _ask_gateway(probe, env, options, add)
    finally:
        probe.close()


def _ask_gateway(
    probe: GatewayProbe,
    env: checks_environment.ClientEnv,
    options: DoctorOptions,
    add: Callable[[Check | None], bool],
) -> None:
    if not add(checks_gateway.check_root(probe.request("HEAD", "/"))):
        return
    models = probe.request("GET", "/v1/models")
    key_ok = add(checks_gateway.check_key(models, checks_environment.shown_key(env.key) if env.key else "no key"))
    add(checks_gateway.check_models(models))
    add(checks_environment.check_model(env.model, checks_gateway.served_model_ids(models)))
    if not key_ok:
        return
    add(checks_gateway.check_balance(probe.request("GET", "/v1/account")))
    stream = probe.diagnostics_stream(0)
    add(checks_gateway.check_rpm_headroom(stream))
    add(checks_gateway.check_first_byte(stream))
    if options.idle:
        add(checks_gateway.check_idle(probe.diagnostics_stream(options.idle_s), options.idle_s))
