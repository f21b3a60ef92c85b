"""python -m codegateway.dev.emulator_server --port N [--api-key K]: the emulator on its own."""

from __future__ import annotations

import argparse

import uvicorn

from codegateway.dev.emulator import create_emulator


def main() -> None:
    parser = argparse.ArgumentParser(description="CodeGateway's upstream emulator (a Messages API stand-in)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", default=None, help="require this x-api-key (default: accept any)")
    args = parser.parse_args()
    uvicorn.run(
        create_emulator(api_key=args.api_key),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
