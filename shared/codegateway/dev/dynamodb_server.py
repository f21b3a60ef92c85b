"""The local stack's DynamoDB: moto's server, with its requests serialised.

moto applies a conditional write as read-check-write without a lock, so two concurrent requests
can both pass a condition that only one should (observed: 50 concurrent settlements on one account
lost a charge). Real DynamoDB makes each item write atomic; one request at a time gives the local
stack the same guarantee. Connections are still accepted on many threads.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialised(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return one_at_a_time


def main() -> None:
    parser = argparse.ArgumentParser(description="moto's DynamoDB for the local stack, one request at a time")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
