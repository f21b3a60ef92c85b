"""Checks of the path to the gateway: DNS, TCP connect, TLS version and certificate verification. Pure."""

from __future__ import annotations

from codegateway.doctor import fixes
from codegateway.doctor.facts import Connected, Resolved, TlsFacts
from codegateway.doctor.report import Check, fail, passed, warn

SLOW_CONNECT_S = 0.5
_OLD_TLS = frozenset({"SSLv3", "TLSv1", "TLSv1.1"})


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def check_dns(resolved: Resolved) -> Check:
    name = "net.dns"
    if resolved.error or not resolved.addresses:
        return fail(name, f"{resolved.host}: {resolved.error or 'no address'}", fixes.DNS_FAILED)
    shown = ", ".join(resolved.addresses[:3]) + (" ..." if len(resolved.addresses) > 3 else "")
    return passed(name, f"{resolved.host} -> {shown} in {ms(resolved.elapsed_s)}")


def check_tcp(connected: Connected) -> Check:
    name = "net.tcp"
    where = f"{connected.address}:{connected.port}"
    if connected.error_kind == "refused":
        return fail(name, f"{where}: connection refused", fixes.CONNECT_REFUSED)
    if connected.error_kind == "timeout":
        return fail(name, f"{where}: no answer in {ms(connected.elapsed_s)}", fixes.CONNECT_TIMEOUT)
    if connected.error_kind:
        return fail(name, f"{where}: {connected.error}", fixes.CONNECT_TIMEOUT)
    if connected.elapsed_s > SLOW_CONNECT_S:
        return warn(name, f"{where} in {ms(connected.elapsed_s)}", fixes.SLOW_CONNECT)
    return passed(name, f"{where} in {ms(connected.elapsed_s)}")


def check_tls_version(tls: TlsFacts) -> Check:
    name = "tls.version"
    if tls.handshake_error:
        detail = tls.handshake_error
        if "WRONG_VERSION_NUMBER" in detail.upper().replace(" ", "_"):
            return fail(name, f"wrong version number ({detail})", fixes.TLS_WRONG_VERSION)
        return fail(name, f"handshake failed: {detail}", fixes.TLS_WRONG_VERSION)
    if tls.version in _OLD_TLS:
        return fail(name, f"{tls.version}", fixes.TLS_OLD_VERSION)
    if tls.version == "TLSv1.2":
        return warn(name, "TLSv1.2 (the gateway's edge offers TLSv1.3)", fixes.TLS_OLD_VERSION)
    return passed(name, tls.version or "unknown")


def check_tls_verification(tls: TlsFacts) -> Check | None:
    name = "tls.verify"
    if tls.handshake_error:
        return None
    if tls.system_error is None:
        return passed(name, "certificate verified with the system store")
    if "hostname mismatch" in tls.system_error.lower() or "doesn't match" in tls.system_error.lower():
        return fail(name, tls.system_error, fixes.TLS_HOSTNAME)
    if tls.extra_ca_path is None:
        return fail(
            name,
            f"{tls.system_error} (system store; NODE_EXTRA_CA_CERTS not set): corporate TLS interception?",
            fixes.TLS_UNTRUSTED,
        )
    if tls.extra_error is None:
        return passed(
            name,
            f"verified only with NODE_EXTRA_CA_CERTS={tls.extra_ca_path} (a private CA, e.g. corporate "
            f"TLS interception; system store: {tls.system_error})",
        )
    return fail(
        name,
        f"{tls.extra_error} (with NODE_EXTRA_CA_CERTS={tls.extra_ca_path}; system store: {tls.system_error})",
        fixes.TLS_EXTRA_CA_UNUSABLE,
    )
