"""With the edge on, the Function URL answers only requests that carry CloudFront's secret header."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.stack import RunningStack, start_stack

ORIGIN_SECRET = "edge-secret-for-tests-0123456789"


@pytest.fixture(scope="module")
def edge_stack() -> Iterator[RunningStack]:
    running = start_stack(extra_env={"CGW_ORIGIN_VERIFY_SECRET": ORIGIN_SECRET})
    yield running
    running.stop()


def test_requests_without_the_origin_header_are_refused(edge_stack: RunningStack) -> None:
    body = b'{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}'
    direct = httpx.post(f"{edge_stack.base_url}/v1/messages", content=body, headers={"x-api-key": edge_stack.api_key})
    assert direct.status_code == 403
    assert direct.json()["error"]["type"] == "permission_error"
    assert direct.headers["request-id"].startswith("req_cg_")
    wrong = httpx.post(
        f"{edge_stack.base_url}/v1/messages",
        content=body,
        headers={"x-api-key": edge_stack.api_key, "x-cgw-origin-verify": "guess"},
    )
    assert wrong.status_code == 403
    via_edge = httpx.post(
        f"{edge_stack.base_url}/v1/messages",
        content=body,
        headers={"x-api-key": edge_stack.api_key, "x-cgw-origin-verify": ORIGIN_SECRET},
    )
    assert via_edge.status_code == 200


def test_the_adapters_readiness_check_needs_no_header(edge_stack: RunningStack) -> None:
    assert httpx.get(f"{edge_stack.base_url}/healthz").status_code == 200


def test_the_secret_header_is_not_forwarded_upstream(edge_stack: RunningStack) -> None:
    import uuid

    scenario = uuid.uuid4().hex
    httpx.post(
        f"{edge_stack.base_url}/v1/messages",
        content=b'{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}',
        headers={
            "x-api-key": edge_stack.api_key,
            "x-cgw-origin-verify": ORIGIN_SECRET,
            "x-emulator-scenario": scenario,
        },
    )
    (seen,) = edge_stack.emulator_requests(scenario)
    assert "x-cgw-origin-verify" not in seen["headers"]
