"""The bundled upstream emulator: a Messages API stand-in for the local stack and the tests.

Streams and plain bodies with every event type in order, usage with cache classes computed by a
prompt cache model (prompt_cache: `cache_control` breakpoints write, later requests read within the
TTL), pings, and fault knobs (see emulator_script). It records what reached it (GET /_emulator/requests), so
tests can check which key, headers and query the gateway sent and how many attempts it made.
PUT /_emulator/defaults sets knobs for every later request (a JSON object of `x-emulator-*` names and
values; DELETE resets them): the load bench uses it to slow the first byte of requests that reach the
emulator through a proxy that forwards no `x-emulator-*` header (LiteLLM's).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from codegateway.dev.emulator_script import (
    Knobs,
    compose_answer,
    error_body,
    message_json,
    stream_events,
    validate,
)
from codegateway.dev.prompt_cache import PromptCache, count_input_tokens


class EmulatedReset(Exception):
    """Raised mid-body: the server drops the connection without finishing the response."""


class EmulatorState:
    def __init__(self, api_key: str | None, defaults: Knobs, clock: Callable[[], float] = time.monotonic) -> None:
        self.api_key = api_key
        self.initial_defaults = defaults
        self.defaults = defaults
        self.prompt_cache = PromptCache(clock)
        self.requests: deque[dict[str, Any]] = deque(maxlen=5000)
        self.attempts: Counter[str] = Counter()

    def record(self, request: Request, body: bytes) -> dict[str, Any]:
        row: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_bytes": len(body),
            "scenario": request.headers.get("x-emulator-scenario"),
            "at": time.time(),
            # When the client (the gateway) closed the request before its answer began, if it did.
            "closed_at": None,
        }
        self.requests.append(row)
        return row

    def authorised(self, request: Request) -> bool:
        if not self.api_key:
            return True
        return hmac.compare_digest(_presented_key(request).encode(), self.api_key.encode())


def _presented_key(request: Request) -> str:
    return request.headers.get("x-api-key") or request.headers.get("authorization", "")[7:]


def cache_scope(request: Request, model: str) -> str:
    """Caches are per organisation and model upstream; the presented key stands for the organisation."""
    return f"{hashlib.sha256(_presented_key(request).encode()).hexdigest()}:{model}"


def _error(status: int, message: str | None = None) -> Response:
    headers = {"retry-after": "1"} if status in (429, 529) else {}
    return Response(error_body(status, message), status_code=status, media_type="application/json", headers=headers)


async def _admitted(request: Request, *, count_only: bool) -> tuple[dict[str, Any], Knobs] | Response:
    state: EmulatorState = request.app.state.emulator
    body = await request.body()
    row = state.record(request, body)
    knobs = Knobs.from_headers(dict(request.headers), state.defaults)
    if not state.authorised(request):
        return _error(401, "invalid x-api-key")
    if knobs.first_byte_delay_s and await _closed_within(request, knobs.first_byte_delay_s):
        row["closed_at"] = time.time()
        return Response(status_code=499)  # nobody is left to read it
    if knobs.status and knobs.status >= 400:
        attempt_key = knobs.scenario or "-"
        state.attempts[attempt_key] += 1
        if knobs.fail_times is None or state.attempts[attempt_key] <= knobs.fail_times:
            return _error(knobs.status)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _error(400, "There was an issue with the request body: invalid JSON")
    problem = validate(payload, count_only=count_only)
    if problem:
        return _error(400, problem)
    return payload, knobs


async def _closed_within(request: Request, wait_s: float) -> bool:
    """Wait wait_s; True as soon as the client closed the connection instead."""
    try:
        async with asyncio.timeout(wait_s):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


async def messages(request: Request) -> Response:
    admitted = await _admitted(request, count_only=False)
    if isinstance(admitted, Response):
        return admitted
    payload, knobs = admitted
    state: EmulatorState = request.app.state.emulator
    answer = compose_answer(payload, knobs, state.prompt_cache.use(payload, cache_scope(request, payload["model"])))
    headers = {
        "request-id": "req_emu_" + answer.message_id[-12:],
        "anthropic-ratelimit-requests-limit": "4000",
    }
    if payload.get("stream") is not True:
        return JSONResponse(message_json(answer), headers=headers)
    return StreamingResponse(
        _stream(stream_events(answer, knobs.deltas), knobs), media_type="text/event-stream", headers=headers
    )


async def _stream(events: list[bytes], knobs: Knobs) -> AsyncIterator[bytes]:
    for sent, event in enumerate(events):
        if knobs.reset_after_events is not None and sent >= knobs.reset_after_events:
            raise EmulatedReset()
        if knobs.silence_s and sent == knobs.silence_after_events:
            await asyncio.sleep(knobs.silence_s)
        elif knobs.event_delay_s and sent:
            await asyncio.sleep(knobs.event_delay_s)
        yield event


async def count_tokens(request: Request) -> Response:
    admitted = await _admitted(request, count_only=True)
    if isinstance(admitted, Response):
        return admitted
    payload, _ = admitted
    return JSONResponse({"input_tokens": count_input_tokens(payload)})


async def models(request: Request) -> Response:
    data = [
        {
            "type": "model",
            "id": "claude-sonnet-4-6",
            "display_name": "Claude Sonnet 4.6",
            "created_at": "2026-11-01T00:00:00Z",
        }
    ]
    return JSONResponse({"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[0]["id"]})


async def recorded_requests(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    scenario = request.query_params.get("scenario")
    rows = [row for row in state.requests if scenario is None or row["scenario"] == scenario]
    return JSONResponse({"data": rows})


async def forget_requests(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    state.requests.clear()
    state.attempts.clear()
    return Response(status_code=204)


async def set_defaults(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    try:
        knobs = orjson.loads(await request.body())
        if not isinstance(knobs, dict) or not all(name.startswith("x-emulator-") for name in knobs):
            raise ValueError("expected an object of x-emulator-* names")
        state.defaults = Knobs.from_headers({name: str(value) for name, value in knobs.items()})
    except (orjson.JSONDecodeError, ValueError) as problem:
        return _error(400, f"defaults: {problem}")
    return Response(status_code=204)


async def reset_defaults(request: Request) -> Response:
    request.app.state.emulator.defaults = request.app.state.emulator.initial_defaults
    return Response(status_code=204)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "emulator": True})


def create_emulator(
    api_key: str | None = None, defaults: Knobs | None = None, clock: Callable[[], float] = time.monotonic
) -> Starlette:
    app = Starlette(
        routes=[
            Route("/healthz", health, methods=["GET", "HEAD"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/_emulator/requests", recorded_requests, methods=["GET"]),
            Route("/_emulator/requests", forget_requests, methods=["DELETE"]),
            Route("/_emulator/defaults", set_defaults, methods=["PUT"]),
            Route("/_emulator/defaults", reset_defaults, methods=["DELETE"]),
        ]
    )
    app.state.emulator = EmulatorState(api_key, defaults or Knobs(), clock)
    return app
