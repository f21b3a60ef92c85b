"""The operator's sign-up mode on the JSON API: a proxy configured off or for some domains refuses
sign-up with 403 (decided by the address's domain alone, so it tells nothing about accounts)."""

from __future__ import annotations

from starlette.testclient import TestClient

from codegateway.settings import Settings
from codegateway.web.app import create_app
from tests.support.stack import RunningStack


def _proxy(stack: RunningStack, **settings: str) -> TestClient:
    configured = Settings(dynamodb_endpoint=stack.dynamodb_endpoint, upstream_api_key="unused", **settings)  # type: ignore[arg-type]
    return TestClient(create_app(configured))


def test_signup_is_refused_when_the_operator_has_not_opened_it(stack: RunningStack) -> None:
    with _proxy(stack, signup_mode="off") as proxy:
        refused = proxy.post("/v1/signup", json={"email": "ada@example.com"})
        assert refused.status_code == 403
        assert refused.json()["error"] == {
            "type": "permission_error",
            "message": "Sign-up is closed on this gateway. Ask its administrator for an account.",
        }
        assert proxy.post("/v1/signup/verify", json={"email": "ada@example.com", "code": "123456"}).status_code == 403


def test_domain_mode_lets_only_the_listed_domains_sign_up(stack: RunningStack) -> None:
    with _proxy(stack, signup_mode="domains", signup_domains="team.dev") as proxy:
        assert proxy.post("/v1/signup", json={"email": "ada@team.dev"}).status_code == 202
        assert proxy.post("/v1/signup", json={"email": "eve@elsewhere.org"}).status_code == 403
