"""A tiny HTTP/1.1 proxy on loopback in front of DynamoDB that can lose an answer: it forwards the
request, lets DynamoDB apply it, reads the answer and then closes the client's connection without
sending it. botocore sees a connection closed before any response and retries the write, which has
already applied - exactly what a read timeout or a reset connection does in production. With `down`
set it stands for DynamoDB stopped: nothing reaches DynamoDB, every connection closes at once."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP message (headers + Content-Length body) from sock, or None when it closed."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buffer[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


def _target(request: bytes) -> str:
    head = request.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-amz-target":
            return value.strip().decode().rpartition(".")[2]
    return ""


@dataclass
class LossyProxy:
    upstream: str  # http://host:port
    port: int = 0
    # Operation name (e.g. "TransactWriteItems") -> how many of its next answers to lose.
    drops: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    # DynamoDB "stopped": every connection is refused (closed at once), every request dropped unsent.
    down: bool = False
    _server: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lose_next(self, operation: str, times: int = 1) -> None:
        with self._lock:
            self.drops[operation] = self.drops.get(operation, 0) + times

    def start(self) -> LossyProxy:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _should_lose(self, operation: str) -> bool:
        with self._lock:
            self.seen.append(operation)
            if self.drops.get(operation, 0) > 0:
                self.drops[operation] -= 1
                self.lost.append(operation)
                return True
            return False

    def _serve(self, client: socket.socket) -> None:
        target = urlsplit(self.upstream)
        upstream = socket.create_connection((target.hostname or "127.0.0.1", target.port or 80))
        from_client, from_upstream = bytearray(), bytearray()
        try:
            while True:
                request = _read_message(client, from_client)
                if request is None or self.down:
                    return
                upstream.sendall(request)
                response = _read_message(upstream, from_upstream)
                if response is None:
                    return
                if self._should_lose(_target(request)):
                    return  # the write applied; its answer is lost with the connection
                client.sendall(response)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
