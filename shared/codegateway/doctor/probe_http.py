"""Ask the gateway, as Claude Code would: HEAD /, GET /v1/models, GET /v1/account, the diagnostics stream.
The doctor's one httpx user (the gateway's own httpx stays in codegateway.proxy.upstream)."""

from __future__ import annotations

import contextlib
import json
import ssl
import time
from typing import Any

import httpx

from codegateway.doctor.facts import HttpAnswer, StreamFacts
from codegateway.domain.sse import SseParser

USER_AGENT = "cgw-doctor/1"
ANTHROPIC_VERSION = "2023-06-01"
# Longer than three keepalive intervals (10 s each): a stream silent this long has lost its pings.
READ_TIMEOUT_S = 35.0


class GatewayProbe:
    def __init__(self, origin: str, headers: dict[str, str], verify: ssl.SSLContext | bool, timeout_s: float) -> None:
        self._client = httpx.Client(
            base_url=origin,
            headers={"user-agent": USER_AGENT, "anthropic-version": ANTHROPIC_VERSION, **headers},
            verify=verify,
            timeout=httpx.Timeout(timeout_s, read=READ_TIMEOUT_S),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str) -> HttpAnswer:
        started = time.monotonic()
        try:
            response = self._client.request(method, path)
        except httpx.HTTPError as error:
            return HttpAnswer(elapsed_s=time.monotonic() - started, error=_describe(error))
        return HttpAnswer(
            status=response.status_code,
            elapsed_s=time.monotonic() - started,
            location=response.headers.get("location"),
            body=_json(response),
        )

    def diagnostics_stream(self, idle_s: float) -> StreamFacts:
        started = time.monotonic()
        parser = SseParser()
        events: list[str] = []
        payloads: dict[str, dict[str, Any]] = {}
        first_byte_s: float | None = None
        last_arrival = started
        longest_silence_s = 0.0
        error: str | None = None
        try:
            with self._client.stream("GET", "/v1/diagnostics/stream", params={"idle_s": f"{idle_s:g}"}) as response:
                if response.status_code != 200:
                    response.read()
                    answer = HttpAnswer(response.status_code, time.monotonic() - started, body=_json(response))
                    return StreamFacts(status=response.status_code, answer=answer)
                for chunk in response.iter_raw():
                    now = time.monotonic()
                    if first_byte_s is None:
                        first_byte_s = now - started
                    else:
                        longest_silence_s = max(longest_silence_s, now - last_arrival)
                    last_arrival = now
                    for event in parser.feed(chunk):
                        events.append(event.name)
                        with contextlib.suppress(ValueError):
                            payloads[event.name] = json.loads(event.data)
        except httpx.HTTPError as error_:
            error = _describe(error_)
        return StreamFacts(
            status=200,
            first_byte_s=first_byte_s,
            total_s=time.monotonic() - started,
            start=payloads.get("diagnostics_start"),
            done=payloads.get("done"),
            pings=events.count("ping"),
            longest_silence_s=longest_silence_s,
            error=error,
            events=tuple(events),
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _describe(error: httpx.HTTPError) -> str:
    """The error the way Node would name it where there is a name (ECONNRESET, ETIMEDOUT)."""
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionResetError):
            return f"ECONNRESET ({cause})"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.TimeoutException):
        return f"ETIMEDOUT ({type(error).__name__})"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"socket hang up ({error})"
    return f"{type(error).__name__}: {error}"
