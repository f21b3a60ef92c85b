"""The path checks: DNS, TCP connect, the TLS version and who the certificate is trusted by."""

from __future__ import annotations

import pytest

from codegateway.doctor import fixes
from codegateway.doctor.checks_network import check_dns, check_tcp, check_tls_verification, check_tls_version
from codegateway.doctor.facts import Connected, Resolved, TlsFacts
from codegateway.doctor.report import Status


@pytest.mark.parametrize(
    ("resolved", "status"),
    [
        (Resolved("gw.example.com", ("192.0.2.1",), 0.004), Status.passed),
        (Resolved("gw.example.com", error="[Errno -2] Name or service not known"), Status.fail),
        (Resolved("gw.example.com"), Status.fail),
    ],
)
def test_dns_fails_when_the_host_does_not_resolve(resolved: Resolved, status: Status) -> None:
    check = check_dns(resolved)
    assert check.status is status
    assert check.fix == ("" if status is Status.passed else fixes.DNS_FAILED)


@pytest.mark.parametrize(
    ("connected", "status", "fix"),
    [
        (Connected("192.0.2.1", 443, 0.012), Status.passed, ""),
        (Connected("192.0.2.1", 443, 0.9), Status.warn, fixes.SLOW_CONNECT),
        (Connected("192.0.2.1", 443, 0.001, "refused", "refused"), Status.fail, fixes.CONNECT_REFUSED),
        (Connected("192.0.2.1", 443, 10.0, "timeout", "timed out"), Status.fail, fixes.CONNECT_TIMEOUT),
    ],
)
def test_tcp_names_refused_and_timed_out_connections(connected: Connected, status: Status, fix: str) -> None:
    check = check_tcp(connected)
    assert (check.status, check.fix) == (status, fix)
    assert "192.0.2.1:443" in check.value


@pytest.mark.parametrize(
    ("tls", "status", "fix"),
    [
        (TlsFacts(version="TLSv1.3"), Status.passed, ""),
        (TlsFacts(version="TLSv1.2"), Status.warn, fixes.TLS_OLD_VERSION),
        (TlsFacts(version="TLSv1.1"), Status.fail, fixes.TLS_OLD_VERSION),
        (TlsFacts(handshake_error="WRONG_VERSION_NUMBER"), Status.fail, fixes.TLS_WRONG_VERSION),
        (TlsFacts(handshake_error="[SSL: WRONG_VERSION_NUMBER] wrong version"), Status.fail, fixes.TLS_WRONG_VERSION),
    ],
)
def test_the_tls_version_check_names_downgrades_and_plain_http_ports(tls: TlsFacts, status: Status, fix: str) -> None:
    check = check_tls_version(tls)
    assert (check.status, check.fix) == (status, fix)


UNTRUSTED = "self-signed certificate in certificate chain"


@pytest.mark.parametrize(
    ("tls", "status", "fix", "says"),
    [
        (TlsFacts(version="TLSv1.3"), Status.passed, "", "system store"),
        (TlsFacts(version="TLSv1.3", system_error=UNTRUSTED), Status.fail, fixes.TLS_UNTRUSTED, "interception"),
        (
            TlsFacts(version="TLSv1.3", system_error=UNTRUSTED, extra_ca_path="/corp.pem"),
            Status.passed,
            "",
            "NODE_EXTRA_CA_CERTS=/corp.pem",
        ),
        (
            TlsFacts(version="TLSv1.3", system_error=UNTRUSTED, extra_ca_path="/other.pem", extra_error=UNTRUSTED),
            Status.fail,
            fixes.TLS_EXTRA_CA_UNUSABLE,
            "/other.pem",
        ),
        (
            TlsFacts(version="TLSv1.3", system_error="Hostname mismatch, certificate is not valid for 'x'."),
            Status.fail,
            fixes.TLS_HOSTNAME,
            "Hostname",
        ),
    ],
)
def test_tls_verification_names_the_corporate_interception_case_and_the_extra_ca_fix(
    tls: TlsFacts, status: Status, fix: str, says: str
) -> None:
    check = check_tls_verification(tls)
    assert check is not None
    assert (check.status, check.fix) == (status, fix)
    assert says in check.value
    assert tls.verified is (status is Status.passed)


def test_no_verification_verdict_when_the_handshake_itself_failed() -> None:
    assert check_tls_verification(TlsFacts(handshake_error="WRONG_VERSION_NUMBER")) is None
