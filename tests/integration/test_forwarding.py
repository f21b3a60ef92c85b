"""What reaches the upstream, and what comes back: keys swapped, headers, query and body unchanged."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import orjson

from tests.support.stack import RunningStack

BETA = "claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,brand-new-beta-2026-11-01"


def _body(stream: bool = True) -> bytes:
    # Odd spacing and key order on purpose: the upstream must get these exact bytes.
    return (
        b'{"model": "claude-sonnet-4-6",  "max_tokens": 64, "stream": '
        + (b"true" if stream else b"false")
        + b', "system": [{"type":"text","text":"x-anthropic-billing-header: cc"},{"type":"text","text":"You are"}],'
        + b' "messages": [{"role": "user", "content": "hi \\u00e9"}]}'
    )


def test_upstream_gets_gateway_key_and_unchanged_headers_query_and_body(stack: RunningStack) -> None:
    scenario = uuid.uuid4().hex
    body = _body()
    response = httpx.post(
        f"{stack.base_url}/v1/messages?beta=true",
        content=body,
        headers={
            "x-api-key": stack.api_key,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": BETA,
            "anthropic-dangerous-direct-browser-access": "true",
            "x-app": "cli",
            "content-type": "application/json",
            "x-emulator-scenario": scenario,
            "keep-alive": "timeout=5",
            "proxy-authorization": "Basic c2VjcmV0",
        },
    )
    assert response.status_code == 200
    (seen,) = stack.emulator_requests(scenario)
    assert seen["query"] == "beta=true"
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    headers = seen["headers"]
    assert headers["anthropic-beta"] == BETA
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-dangerous-direct-browser-access"] == "true"
    assert headers["x-app"] == "cli"
    assert headers["x-api-key"] != stack.api_key
    assert headers["x-api-key"].startswith("sk-emulator-")
    assert stack.api_key not in orjson.dumps(headers).decode()
    assert "keep-alive" not in headers
    assert "proxy-authorization" not in headers


def test_bearer_key_is_replaced_too(stack: RunningStack) -> None:
    scenario = uuid.uuid4().hex
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=_body(stream=False),
        headers={"authorization": f"Bearer {stack.api_key}", "x-emulator-scenario": scenario},
    )
    assert response.status_code == 200
    (seen,) = stack.emulator_requests(scenario)
    assert "authorization" not in seen["headers"]
    assert seen["headers"]["x-api-key"].startswith("sk-emulator-")


def test_stream_arrives_event_by_event_not_buffered(stack: RunningStack) -> None:
    # Events 200 ms apart upstream must reach the client spread out in time, not in one lump.
    import time

    arrivals: list[float] = []
    with httpx.stream(
        "POST",
        f"{stack.base_url}/v1/messages",
        content=_body(),
        headers={"x-api-key": stack.api_key, "x-emulator-event-delay-ms": "200", "x-emulator-deltas": "3"},
    ) as response:
        for chunk in response.iter_raw():
            if b"content_block_delta" in chunk:
                arrivals.append(time.monotonic())
    assert len(arrivals) >= 3
    assert arrivals[-1] - arrivals[0] >= 0.3


def test_upstream_error_status_and_body_pass_through_unchanged(stack: RunningStack) -> None:
    # The client must get the upstream's own words (Claude Code matches on them), not a gateway rewrite.
    body = b'{"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}'
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=body,
        headers={"x-api-key": stack.api_key, "x-emulator-status": "429"},
    )
    assert response.status_code == 429
    assert response.json() == {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "Number of request tokens has exceeded your per-minute rate limit",
        },
    }
    assert response.headers["request-id"].startswith("req_cg_")


def test_upstream_rate_limit_headers_are_passed_through(stack: RunningStack) -> None:
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        content=_body(stream=False),
        headers={"x-api-key": stack.api_key, "x-emulator-status": "429"},
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_every_answer_carries_a_request_id(stack: RunningStack) -> None:
    answers = [
        httpx.get(f"{stack.base_url}/healthz"),
        httpx.head(f"{stack.base_url}/"),
        httpx.get(f"{stack.base_url}/no/such/route"),
        httpx.post(f"{stack.base_url}/v1/messages", content=b"{}"),
        httpx.post(f"{stack.base_url}/v1/messages", content=_body(stream=False), headers={"x-api-key": stack.api_key}),
    ]
    ids = [answer.headers.get("request-id", "") for answer in answers]
    assert all(request_id.startswith("req_cg_") for request_id in ids)
    assert len(set(ids)) == len(ids)


def test_probes_answer_without_a_key(stack: RunningStack) -> None:
    assert httpx.head(f"{stack.base_url}/").status_code == 200
    assert httpx.head(f"{stack.base_url}/api/hello").status_code == 200
    assert httpx.get(f"{stack.base_url}/healthz").json() == {"status": "ok"}


def test_models_endpoint_has_anthropics_list_shape(stack: RunningStack) -> None:
    page = httpx.get(f"{stack.base_url}/v1/models", params={"limit": 2}, headers={"x-api-key": stack.api_key}).json()
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert len(page["data"]) == 2 and page["has_more"] is True
    assert set(page["data"][0]) == {"type", "id", "display_name", "created_at"}
    assert page["first_id"] == page["data"][0]["id"] and page["last_id"] == page["data"][1]["id"]
    following = httpx.get(
        f"{stack.base_url}/v1/models",
        params={"limit": 2, "after_id": page["last_id"]},
        headers={"x-api-key": stack.api_key},
    ).json()
    assert following["data"][0]["id"] not in {model["id"] for model in page["data"]}
