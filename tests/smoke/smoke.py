"""Smoke-check a deployed gateway: `make smoke URL=<PublicEndpoint> KEY=<gateway key>`.

Three checks, the ones a user would make by hand: the health endpoint answers; a streamed message
arrives event by event through CloudFront, the Function URL and the Web Adapter; the request is
metered (a usage row appears under GET /v1/account/usage). Optionally (--direct-url, the stack's
ProxyFunctionUrl output) that the Function URL refuses requests that skip CloudFront.

Only httpx and the standard library, so it runs from the project's .venv (or any Python with httpx).
The key is read from CGW_SMOKE_KEY (or --key) and never printed. One message costs a few output tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MODEL = "claude-haiku-4-5"
REQUIRED_EVENTS = ("message_start", "content_block_delta", "message_delta", "message_stop")


class SmokeFailure(Exception):
    """A check failed; the message says what a user should look at."""


@dataclass
class StreamedMessage:
    request_id: str | None
    events: list[str] = field(default_factory=list)
    text: str = ""
    first_byte_s: float = 0.0
    total_s: float = 0.0


def _headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}


def _sse_events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    event = ""
    data: list[str] = []
    for line in lines:
        if not line:
            if event or data:
                yield event, "\n".join(data)
            event, data = "", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def check_healthz(client: httpx.Client, base_url: str) -> str:
    response = client.get(f"{base_url}/healthz")
    if response.status_code != 200:
        raise SmokeFailure(f"GET /healthz answered {response.status_code}: {response.text[:300]}")
    return f"GET /healthz -> 200 in {response.elapsed.total_seconds() * 1000:.0f} ms"


def stream_message(client: httpx.Client, base_url: str, key: str, model: str) -> StreamedMessage:
    body = {
        "model": model,
        "max_tokens": 32,
        "stream": True,
        "messages": [{"role": "user", "content": "Reply with one word: pong."}],
    }
    started = time.monotonic()
    with client.stream("POST", f"{base_url}/v1/messages", json=body, headers=_headers(key)) as response:
        if response.status_code != 200:
            response.read()
            raise SmokeFailure(
                f"POST /v1/messages answered {response.status_code}: {response.text[:500]}"
                + (
                    " (is the upstream key in the secret? docs/deploy-and-cost.md)"
                    if response.status_code >= 500
                    else ""
                )
            )
        message = StreamedMessage(request_id=response.headers.get("request-id"))
        for event, data in _sse_events(response.iter_lines()):
            if not message.events:
                message.first_byte_s = time.monotonic() - started
            message.events.append(event)
            payload = json.loads(data) if data else {}
            if event == "error":
                raise SmokeFailure(f"the stream carried an error event: {data[:500]}")
            if event == "content_block_delta":
                message.text += payload.get("delta", {}).get("text", "")
    message.total_s = time.monotonic() - started
    return message


def check_streamed_message(client: httpx.Client, base_url: str, key: str, model: str) -> tuple[str, StreamedMessage]:
    message = stream_message(client, base_url, key, model)
    missing = [event for event in REQUIRED_EVENTS if event not in message.events]
    if missing:
        raise SmokeFailure(f"streamed message lacks {missing}; events seen: {message.events}")
    if message.events[-1] != "message_stop":
        raise SmokeFailure(f"stream did not end with message_stop: {message.events[-5:]}")
    return (
        f"POST /v1/messages (stream) -> {len(message.events)} events, first after {message.first_byte_s:.2f} s, "
        f"done in {message.total_s:.2f} s, text {message.text.strip()[:40]!r}",
        message,
    )


def check_usage_row(
    client: httpx.Client, base_url: str, key: str, message: StreamedMessage, wait_s: float = 15.0
) -> str:
    deadline = time.monotonic() + wait_s
    while True:
        response = client.get(f"{base_url}/v1/account/usage", params={"limit": 20}, headers=_headers(key))
        if response.status_code == 404:
            raise SmokeFailure(
                "GET /v1/account/usage answered 404: this deployment has no usage endpoint yet "
                "(deploy a version with it), so metering could not be checked from outside"
            )
        if response.status_code != 200:
            raise SmokeFailure(f"GET /v1/account/usage answered {response.status_code}: {response.text[:300]}")
        rows = response.json().get("data", [])
        if message.request_id is None:
            raise SmokeFailure("the streamed response had no request-id header to find its usage row by")
        found = [row for row in rows if row.get("request_id") == message.request_id]
        if found:
            row = found[0]
            return (
                f"GET /v1/account/usage -> row for {message.request_id}: {row.get('input_tokens')} in / "
                f"{row.get('output_tokens')} out tokens, status {row.get('status')}"
            )
        if time.monotonic() > deadline:
            raise SmokeFailure(
                f"no usage row for request {message.request_id} within {wait_s:.0f} s "
                f"({len(rows)} recent rows): the request was not metered - check the proxy's logs"
            )
        time.sleep(1.0)


def check_direct_url_is_refused(client: httpx.Client, direct_url: str, key: str, model: str) -> str:
    # count_tokens is never charged: a working key proves the refusal is the origin check, not auth.
    body = {"model": model, "messages": [{"role": "user", "content": "ping"}]}
    response = client.post(f"{direct_url}/v1/messages/count_tokens", json=body, headers=_headers(key))
    if response.status_code != 403:
        raise SmokeFailure(
            f"the Function URL answered {response.status_code} to a request that skipped CloudFront: clients "
            "can bypass WAF (the proxy should refuse requests without the x-cgw-origin-verify header)"
        )
    return "Function URL without CloudFront's origin header -> 403"


def run(base_url: str, key: str, model: str, direct_url: str | None, timeout_s: float) -> bool:
    base_url = base_url.rstrip("/")
    ok = True
    with httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0)) as client:
        message: StreamedMessage | None = None

        def stream() -> str:
            nonlocal message
            line, message = check_streamed_message(client, base_url, key, model)
            return line

        checks: list[tuple[str, Callable[[], str]]] = [
            ("healthz", lambda: check_healthz(client, base_url)),
            ("stream", stream),
            ("usage", lambda: check_usage_row(client, base_url, key, message) if message else _skipped()),
        ]
        if direct_url:
            checks.append(("origin", lambda: check_direct_url_is_refused(client, direct_url.rstrip("/"), key, model)))
        for name, check in checks:
            try:
                print(f"ok    {name:8} {check()}")
            except (SmokeFailure, httpx.HTTPError) as failure:
                ok = False
                print(f"FAIL  {name:8} {failure}")
    return ok


def _skipped() -> str:
    raise SmokeFailure("skipped: no streamed message to look for")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the stack's PublicEndpoint output")
    parser.add_argument("--key", default=os.environ.get("CGW_SMOKE_KEY"), help="a gateway key (or CGW_SMOKE_KEY)")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument(
        "--direct-url", help="the ProxyFunctionUrl output: check it refuses requests without CloudFront"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("a gateway key is needed: --key or CGW_SMOKE_KEY")
    return 0 if run(args.url, args.key, args.model, args.direct_url, args.timeout) else 1


if __name__ == "__main__":
    sys.exit(main())
