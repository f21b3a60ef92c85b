"""Measure the path to the gateway: DNS, TCP connect, the TLS handshake (version and verification)."""

from __future__ import annotations

import errno
import socket
import ssl
import time
from collections.abc import Sequence

from codegateway.doctor.facts import Connected, Resolved, TlsFacts


def resolve(host: str, port: int) -> Resolved:
    started = time.monotonic()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return Resolved(host, elapsed_s=time.monotonic() - started, error=str(error))
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    return Resolved(host, addresses, time.monotonic() - started)


def connect(address: str, port: int, timeout_s: float) -> Connected:
    started = time.monotonic()
    try:
        with socket.create_connection((address, port), timeout=timeout_s):
            pass
    except TimeoutError as error:
        return Connected(address, port, time.monotonic() - started, "timeout", str(error))
    except ConnectionRefusedError as error:
        return Connected(address, port, time.monotonic() - started, "refused", str(error))
    except OSError as error:
        kind = "timeout" if error.errno in (errno.ETIMEDOUT, errno.EHOSTUNREACH) else "other"
        return Connected(address, port, time.monotonic() - started, kind, str(error))
    return Connected(address, port, time.monotonic() - started)


def connect_first(addresses: Sequence[str], port: int, timeout_s: float) -> Connected:
    """The first address that connects, as Node's happy eyeballs finds it (localhost may resolve to ::1
    first); when none does, the first address's failure."""
    failures = []
    for address in addresses:
        connected = connect(address, port, timeout_s)
        if connected.error_kind is None:
            return connected
        failures.append(connected)
    return failures[0]


def verifying_context(extra_ca_path: str | None = None) -> ssl.SSLContext:
    """The system store, plus NODE_EXTRA_CA_CERTS when given (Node adds it to its own store the same way)."""
    context = ssl.create_default_context()
    if extra_ca_path:
        context.load_verify_locations(cafile=extra_ca_path)
    return context


def _unverified_context() -> ssl.SSLContext:
    # Only to learn the negotiated version when verification fails; nothing is sent over it.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class _HandshakeFailed(Exception):
    def __init__(self, detail: str, *, verification: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.verification = verification


def _handshake(address: str, port: int, host: str, context: ssl.SSLContext, timeout_s: float) -> str | None:
    try:
        with (
            socket.create_connection((address, port), timeout=timeout_s) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            return tls.version()
    except ssl.SSLCertVerificationError as error:
        raise _HandshakeFailed(error.verify_message or str(error), verification=True) from error
    except ssl.SSLError as error:
        raise _HandshakeFailed(error.reason or str(error), verification=False) from error
    except OSError as error:
        raise _HandshakeFailed(str(error) or type(error).__name__, verification=False) from error


def _verify(address: str, port: int, host: str, context: ssl.SSLContext, timeout_s: float) -> str | None:
    """None when the chain verified; else why not."""
    try:
        _handshake(address, port, host, context, timeout_s)
    except _HandshakeFailed as failed:
        return failed.detail
    return None


def probe_tls(address: str, port: int, host: str, extra_ca_path: str | None, timeout_s: float) -> TlsFacts:
    try:
        version = _handshake(address, port, host, _unverified_context(), timeout_s)
    except _HandshakeFailed as failed:
        return TlsFacts(handshake_error=failed.detail)
    system_error = _verify(address, port, host, verifying_context(), timeout_s)
    extra_error = None
    if system_error is not None and extra_ca_path:
        try:
            extra_error = _verify(address, port, host, verifying_context(extra_ca_path), timeout_s)
        except (OSError, ssl.SSLError) as error:
            extra_error = f"cannot load {extra_ca_path}: {error}"
    return TlsFacts(
        version=version,
        system_error=system_error,
        extra_ca_path=extra_ca_path if system_error is not None else None,
        extra_error=extra_error,
    )
