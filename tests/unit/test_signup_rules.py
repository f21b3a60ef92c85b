"""Who may sign up: the operator's mode (off by default, open, or listed domains), and codes."""

from __future__ import annotations

import pytest

from codegateway.accounts.email_codes import code_hash, new_code
from codegateway.accounts.signup import normalized_email, signup_allowed
from codegateway.domain.tiers import DEFAULT_TIERS, next_tier
from codegateway.errors import InvalidRequest
from codegateway.settings import Settings


def test_signup_is_off_unless_the_operator_opens_it() -> None:
    assert Settings().signup_mode == "off"
    assert not signup_allowed(Settings(), "ada@example.com")
    assert signup_allowed(Settings(signup_mode="open"), "ada@example.com")


def test_domain_mode_admits_only_listed_domains() -> None:
    settings = Settings(signup_mode="domains", signup_domains="Example.com, team.dev")
    assert signup_allowed(settings, "ada@example.com")
    assert signup_allowed(settings, "bob@team.dev")
    assert not signup_allowed(settings, "eve@example.com.evil.io")
    assert not signup_allowed(settings, "eve@other.org")


def test_signup_mode_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CGW_SIGNUP_MODE", "domains")
    monkeypatch.setenv("CGW_SIGNUP_DOMAINS", "acme.io")
    assert signup_allowed(Settings(), "ada@acme.io")


def test_an_address_is_normalised_and_a_non_address_refused() -> None:
    assert normalized_email("  Ada@Example.COM ") == "ada@example.com"
    for bad in ("", "ada", "a@b", 42, None):
        with pytest.raises(InvalidRequest):
            normalized_email(bad)


def test_codes_are_six_digits_and_their_hash_depends_on_salt_and_address() -> None:
    codes = {new_code() for _ in range(50)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert code_hash("s1", "a@x.io", "123456") != code_hash("s2", "a@x.io", "123456")
    assert code_hash("s1", "a@x.io", "123456") != code_hash("s1", "b@x.io", "123456")
    assert "123456" not in code_hash("s1", "a@x.io", "123456")


def test_the_next_tier_is_the_first_above_the_spend() -> None:
    assert next_tier(0, DEFAULT_TIERS).name == "builder"  # type: ignore[union-attr]
    assert next_tier(150 * 10**9, DEFAULT_TIERS).name == "scale"  # type: ignore[union-attr]
    assert next_tier(5000 * 10**9, DEFAULT_TIERS) is None


def test_deployed_cookies_are_secure_httponly_and_strict() -> None:
    from types import SimpleNamespace

    from starlette.responses import Response

    from codegateway.web.dashboard_session import SESSION_COOKIE, _set_cookie

    response = Response()
    gateway = SimpleNamespace(settings=Settings())
    _set_cookie(response, gateway, SESSION_COOKIE, "token", 3600)  # type: ignore[arg-type]
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_rate_limits_count_the_last_forwarded_address_never_one_the_client_wrote() -> None:
    from starlette.requests import Request

    from codegateway.web.signup import client_ip

    def request(peer: str, forwarded: str | None) -> Request:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return Request({"type": "http", "client": (peer, 1234), "headers": headers})

    assert client_ip(request("127.0.0.1", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(request("127.0.0.1", None)) == "127.0.0.1"
    assert client_ip(request("203.0.113.5", "6.6.6.6")) == "203.0.113.5"


def test_the_top_up_text_links_its_https_urls_and_escapes_the_rest() -> None:
    from codegateway.web.dashboard_html import linked_text

    shown = linked_text('Pay at https://pay.example.com/top-up?a=1&b=2 <script>alert("x")</script>')
    assert '<a href="https://pay.example.com/top-up?a=1&amp;b=2" rel="noopener noreferrer">' in shown
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert linked_text("javascript:alert(1)") == "javascript:alert(1)"
