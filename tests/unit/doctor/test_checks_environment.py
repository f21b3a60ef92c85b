"""The environment checks: which key wins, keys that are not gateway keys, base URLs that break the
SDKs, models the gateway does not serve, proxies that would carry the gateway's traffic."""

from __future__ import annotations

import pytest

from codegateway.doctor import fixes
from codegateway.doctor.checks_environment import (
    ClientEnv,
    bypasses_proxy,
    check_base_url,
    check_credentials,
    check_key_format,
    check_model,
    check_proxies,
    shown_key,
)
from codegateway.doctor.report import Status

KEY = "sk-cg-0123456789abcdef_" + "s" * 43
OTHER_KEY = "sk-cg-fedcba9876543210_" + "t" * 43


@pytest.mark.parametrize(
    ("environ", "status", "says"),
    [
        ({}, Status.fail, "neither"),
        ({"ANTHROPIC_API_KEY": KEY}, Status.passed, "x-api-key"),
        ({"ANTHROPIC_AUTH_TOKEN": KEY}, Status.passed, "Authorization: Bearer"),
        ({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": KEY}, Status.passed, "same key"),
        ({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": OTHER_KEY}, Status.warn, "ANTHROPIC_API_KEY wins"),
    ],
)
def test_the_credentials_check_says_which_variable_the_gateway_uses(
    environ: dict[str, str], status: Status, says: str
) -> None:
    check = check_credentials(ClientEnv.read(environ))
    assert check.status is status and says in check.value


def test_both_keys_set_the_gateway_reads_the_api_key_first() -> None:
    env = ClientEnv.read({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": OTHER_KEY})
    assert env.key == KEY
    assert env.headers == {"x-api-key": KEY, "authorization": f"Bearer {OTHER_KEY}"}
    assert check_credentials(env).fix == fixes.BOTH_KEYS


def test_flags_override_the_environment() -> None:
    env = ClientEnv.read({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": "http://a"}, base_url="http://b", key="k")
    assert (env.base_url, env.key, env.key_source) == ("http://b", "k", "--key")


@pytest.mark.parametrize(
    ("key", "status", "fix"),
    [
        (KEY, Status.passed, ""),
        (f" {KEY} ", Status.warn, fixes.KEY_WHITESPACE),
        (f"{KEY}\n", Status.fail, fixes.KEY_WHITESPACE),
        ("sk-ant-api03-" + "x" * 80, Status.fail, fixes.NOT_A_GATEWAY_KEY),
        ("sk-cg-short", Status.fail, fixes.NOT_A_GATEWAY_KEY),
    ],
)
def test_the_key_check_catches_whitespace_and_foreign_keys(key: str, status: Status, fix: str) -> None:
    check = check_key_format(key)
    assert check is not None and check.status is status and check.fix == fix


def test_no_key_is_ever_printed_whole() -> None:
    for key in (KEY, "sk-ant-api03-" + "x" * 80, f" {KEY}\n"):
        check = check_key_format(key)
        assert check is not None
        assert key.strip()[10:] not in check.value
    assert shown_key(KEY) == "sk-cg-0123456789abcdef_..."


@pytest.mark.parametrize(
    ("base_url", "status", "fix"),
    [
        ("https://gateway.example.com", Status.passed, ""),
        ("http://127.0.0.1:8080", Status.passed, ""),
        ("http://localhost:8080", Status.passed, ""),
        ("http://[::1]:8080", Status.passed, ""),
        ("https://gateway.example.com/", Status.warn, fixes.BASE_URL_PATH),
        ("https://gateway.example.com/v1", Status.fail, fixes.BASE_URL_PATH),
        ("https://gateway.example.com/api/", Status.fail, fixes.BASE_URL_PATH),
        ("http://gateway.example.com", Status.fail, fixes.PLAIN_HTTP),
        ("http://10.0.0.5:8080", Status.fail, fixes.PLAIN_HTTP),
        ("gateway.example.com", Status.fail, fixes.NO_BASE_URL),
        (None, Status.fail, fixes.NO_BASE_URL),
    ],
)
def test_the_base_url_check_refuses_paths_slashes_and_plain_http_off_this_machine(
    base_url: str | None, status: Status, fix: str
) -> None:
    check = check_base_url(base_url)
    assert (check.status, check.fix) == (status, fix)


SERVED = ["claude-opus-4-8", "claude-sonnet-4-6", "claude-haiku-4-5"]


@pytest.mark.parametrize(
    ("model", "status", "names"),
    [
        ("claude-sonnet-4-6", Status.passed, ""),
        ("claude-sonnet-4.6", Status.fail, "claude-sonnet-4-6"),
        ("claude-sonnet-9-9", Status.fail, "claude-sonnet-4-6"),
        (None, Status.warn, "claude-opus-4-8"),
    ],
)
def test_a_model_the_gateway_does_not_serve_fails_with_the_nearest_ids(
    model: str | None, status: Status, names: str
) -> None:
    check = check_model(model, SERVED)
    assert check is not None and check.status is status
    assert names in check.fix
    if status is not Status.passed:
        assert check.fix.startswith(fixes.UNKNOWN_MODEL_422)


def test_no_model_pin_is_needed_where_claude_codes_default_is_served() -> None:
    check = check_model(None, [*SERVED, "claude-opus-5-5"])
    assert check is not None and check.status is Status.passed


def test_the_model_is_not_judged_without_the_gateways_list() -> None:
    assert check_model("claude-sonnet-4.6", None) is None


@pytest.mark.parametrize(
    ("environ", "base_url", "status", "says"),
    [
        ({}, "https://gw.example.com", Status.passed, "direct"),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "https://gw.example.com", Status.passed, "via HTTPS_PROXY"),
        ({"https_proxy": "http://u:secret@proxy:3128"}, "https://gw.example.com", Status.passed, "***@proxy:3128"),
        (
            {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "localhost,.example.com"},
            "https://gw.example.com",
            Status.passed,
            "bypassed",
        ),
        ({"HTTP_PROXY": "http://proxy:3128"}, "http://127.0.0.1:8080", Status.warn, "127.0.0.1"),
        ({"HTTP_PROXY": "http://p:3128", "no_proxy": "127.0.0.1"}, "http://127.0.0.1:8080", Status.passed, "bypass"),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://127.0.0.1:8080", Status.passed, "direct"),
    ],
)
def test_the_proxy_check_names_the_proxy_that_carries_the_gateways_traffic(
    environ: dict[str, str], base_url: str, status: Status, says: str
) -> None:
    check = check_proxies(environ, base_url)
    assert check.status is status and says in check.value
    assert "secret" not in check.value


@pytest.mark.parametrize(
    ("host", "no_proxy", "bypassed"),
    [
        ("gw.example.com", "*", True),
        ("gw.example.com", "example.com", True),
        ("gw.example.com", ".example.com", True),
        ("gw.example.com", "gw.example.com:443", True),
        ("gw.example.com", "other.com, ample.com", False),
        ("gw.example.com", "", False),
    ],
)
def test_no_proxy_matches_hosts_and_domain_suffixes(host: str, no_proxy: str, bypassed: bool) -> None:
    assert bypasses_proxy(host, no_proxy) is bypassed
