"""The local stack's DynamoDB: moto's server, with its requests serialised and its transactions made
cheap.

- One request at a time: moto applies a conditional write as read-check-write without a lock, so two
  concurrent requests can both pass a condition only one should (observed: 50 concurrent settlements
  on one account lost a charge). Real DynamoDB makes each item write atomic; serialising requests gives
  the local stack the same guarantee. Connections are still accepted on many threads.
- Item-level transaction backups: moto 5.x deep-copies every table a TransactWriteItems names before
  writing (its rollback copy). Each settlement names the Usage table, so it grows slower with every
  usage row: ~130 ms after a few hundred rows, seconds after a few thousand, while every other request
  waits on the lock. Backing up only the items the transaction touches keeps the all-or-nothing outcome
  (requests are serialised, nothing interleaves) at a cost that does not grow. `--stock` turns it off.

- Keep-alive connections, as real DynamoDB keeps them: werkzeug's server closes every connection
  after one answer (and, after each answer, reads whatever the client sends next for 10 ms to throw
  it away), so every botocore call paid for a new TCP and urllib3 connection that production does
  not. `KeepAliveHandler` answers each request with a Content-Length and leaves the connection open.

GET /_stats (answered outside the lock) says how many requests it served, of which operations, and for
how long it held the lock: busy_s / elapsed near 1 means the stand-in, not the gateway, is what
requests wait for.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

_original_transact = models.DynamoDBBackend.transact_write_items
Backup = tuple[Table, Any, Any, Any]


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    # Inside transact_write_items the whole-table copy becomes a no-op; item copies stay real.
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[Backup]:
    backups = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            continue
        hash_key, range_key = backend.get_keys_value(table, operation.get("Item") or operation.get("Key") or {})
        backups.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return backups


def _restore(backups: list[Backup]) -> None:
    # Newest first, so an item named twice ends as it was before the transaction.
    for table, hash_key, range_key, original in reversed(backups):
        if range_key is None:
            if original is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = original
        elif original is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = original


def transact_write_items_backing_up_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    try:
        backups = _touched_items(self, transact_items)
    except Exception:
        return _original_transact(self, transact_items)  # malformed: let moto answer as it does
    try:
        return _original_transact(self, transact_items)
    except Exception:
        _restore(backups)
        raise


def patch_moto() -> None:
    models.copy = types.SimpleNamespace(deepcopy=_deepcopy_except_tables)  # type: ignore[attr-defined,assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items_backing_up_items  # type: ignore[method-assign]


class KeepAliveHandler(MotoRequestHandler):
    """HTTP/1.1 with persistent connections: the whole request body is read, the answer is buffered
    and sent with its Content-Length, so the next request on the connection starts where this one
    ended. Requests this cannot frame (chunked bodies, HEAD) go to werkzeug's own handling, which
    closes the connection after answering."""

    protocol_version = "HTTP/1.1"

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length")
        if self.command == "HEAD" or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return super().run_wsgi()
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length)) if length else b"")
        answer: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
        ) -> Callable[[bytes], object]:
            answer.update(status=status, headers=headers)
            return written.append

        try:
            application_iter = self.server.app(environ, start_response)
            try:
                chunks = list(application_iter)
                body = b"".join([*written, *chunks])  # write() calls come before the returned iterable
            finally:
                if hasattr(application_iter, "close"):
                    application_iter.close()
        except Exception:
            self.log_error("Error on request:\n%s", traceback.format_exc())
            answer, body = {"status": "500 Internal Server Error", "headers": []}, b""
            self.close_connection = True
        code, _, message = answer["status"].partition(" ")
        self.send_response(int(code), message)
        for name, value in answer["headers"]:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        # Head and body in one write: two small writes wait out the client's delayed ACK (40 ms).
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
STATS_PATH = "/_stats"


def serialised_with_stats(app: WsgiApp) -> WsgiApp:
    """One request at a time , counting requests and lock time."""
    lock = threading.Lock()
    stats: dict[str, Any] = {"requests": 0, "busy_s": 0.0, "operations": {}}

    def one_at_a_time(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(stats).encode()]
        # X-Amz-Target: DynamoDB_20120810.GetItem
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or "other"
        with lock:
            started = time.perf_counter()
            try:
                return list(app(environ, start_response))
            finally:
                stats["requests"] += 1
                stats["busy_s"] += time.perf_counter() - started
                stats["operations"][operation] = stats["operations"].get(operation, 0) + 1

    return one_at_a_time


def main() -> None:
    parser = argparse.ArgumentParser(description="moto's DynamoDB for the local stack, one request at a time")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("--stock", action="store_true", help="keep moto's whole-table transaction backups")
    args = parser.parse_args()
    if not args.stock:
        patch_moto()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialised_with_stats(app), threaded=True, request_handler=KeepAliveHandler)


if __name__ == "__main__":
    main()
