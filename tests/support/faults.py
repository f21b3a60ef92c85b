"""Real network faults on loopback, for `cgw doctor` to find: a TCP proxy that can speak TLS (with a
certificate from a private CA, optionally TLS 1.2 only), cut connections idle for a while, or hold back
each answer's first byte; and a server that redirects."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PrivateCa:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path

    def server_context(self, *, tls12_only: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_pem, self.key_pem)
        if tls12_only:
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context


def private_ca(directory: Path) -> PrivateCa:
    """A CA no system store knows (like a corporate TLS-interception CA) and a 127.0.0.1 certificate it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Corp TLS Inspection CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = PrivateCa(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths.ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class FaultyProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<target_port>, with the faults asked for."""

    def __init__(
        self,
        target_port: int,
        *,
        tls: ssl.SSLContext | None = None,
        idle_cut_s: float | None = None,
        first_byte_delay_s: float = 0.0,
    ) -> None:
        self._target_port = target_port
        self._tls = tls
        self._idle_cut_s = idle_cut_s
        self._first_byte_delay_s = first_byte_delay_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.cuts = 0
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultyProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        # shutdown wakes the thread blocked in accept(); close alone would leave the port listening.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self._tls is not None:
                client = self._tls.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self._target_port))
        except (OSError, ssl.SSLError):
            client.close()
            return
        with contextlib.suppress(OSError, ssl.SSLError), client, upstream:
            self._pipe(client, upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        last_traffic = time.monotonic()
        awaiting_answer = False
        while not self._stopped.is_set():
            pending = isinstance(client, ssl.SSLSocket) and client.pending() > 0
            readable = [client] if pending else select.select([client, upstream], [], [], 0.05)[0]
            if self._idle_cut_s is not None and time.monotonic() - last_traffic > self._idle_cut_s:
                self.cuts += 1
                _reset(client)
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                if source is client:
                    awaiting_answer = True
                    upstream.sendall(data)
                else:
                    if awaiting_answer and self._first_byte_delay_s:
                        time.sleep(self._first_byte_delay_s)
                    awaiting_answer = False
                    client.sendall(data)
                last_traffic = time.monotonic()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST, as an idle-timeout middlebox does (the client sees ECONNRESET)."""
    # An SSLSocket shares the TCP socket's descriptor: SO_LINGER 0 resets the connection under it too.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Redirect(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(301)
        self.send_header("location", "https://gateway.example.com/")
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def redirecting_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
