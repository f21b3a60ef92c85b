"""Checks of the client's environment: the variables Claude Code and the SDKs read. Pure."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from codegateway.doctor import fixes
from codegateway.doctor.report import Check, fail, passed, warn
from codegateway.domain.keys import KEY_PREFIX, parse_key


@dataclass(frozen=True, slots=True)
class ClientEnv:
    base_url: str | None
    base_url_source: str
    api_key: str | None
    key_source: str
    auth_token: str | None
    model: str | None
    environ: Mapping[str, str]

    @classmethod
    def read(cls, environ: Mapping[str, str], *, base_url: str | None = None, key: str | None = None) -> ClientEnv:
        return cls(
            base_url=base_url if base_url is not None else environ.get("ANTHROPIC_BASE_URL") or None,
            base_url_source="--base-url" if base_url is not None else "ANTHROPIC_BASE_URL",
            api_key=key if key is not None else environ.get("ANTHROPIC_API_KEY") or None,
            key_source="--key" if key is not None else "ANTHROPIC_API_KEY",
            auth_token=environ.get("ANTHROPIC_AUTH_TOKEN") or None,
            model=environ.get("ANTHROPIC_MODEL") or None,
            environ=environ,
        )

    @property
    def key(self) -> str | None:
        """The key the gateway will use: it reads x-api-key (ANTHROPIC_API_KEY) before Authorization."""
        return self.api_key or self.auth_token

    @property
    def headers(self) -> dict[str, str]:
        """The credential headers Claude Code sends for these variables."""
        headers = {}
        if self.api_key:
            headers["x-api-key"] = self.api_key.strip()
        if self.auth_token:
            headers["authorization"] = f"Bearer {self.auth_token.strip()}"
        return headers


def shown_key(key: str) -> str:
    """A key as it may be printed: the prefix and key id, never the secret."""
    parsed = parse_key(key.strip())
    if parsed:
        return f"{KEY_PREFIX}{parsed.key_id}_..."
    return f"{key.strip()[:7]}... ({len(key.strip())} characters)"


def check_credentials(env: ClientEnv) -> Check:
    name = "env.credentials"
    if not env.api_key and not env.auth_token:
        return fail(name, "neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set", fixes.NO_KEY)
    if env.api_key and env.auth_token:
        if env.api_key.strip() == env.auth_token.strip():
            return passed(name, f"{env.key_source} and ANTHROPIC_AUTH_TOKEN hold the same key")
        return warn(name, f"both set and different: {env.key_source} wins (x-api-key)", fixes.BOTH_KEYS)
    source = env.key_source if env.api_key else "ANTHROPIC_AUTH_TOKEN"
    return passed(name, f"{source} (sent as {'x-api-key' if env.api_key else 'Authorization: Bearer'})")


def check_key_format(key: str | None) -> Check | None:
    if key is None:
        return None
    name = "env.key"
    if "\n" in key or "\r" in key:
        return fail(name, f"{shown_key(key)} with a line break in it", fixes.KEY_WHITESPACE)
    if key != key.strip():
        return warn(name, f"{shown_key(key)} with spaces around it", fixes.KEY_WHITESPACE)
    if parse_key(key) is None:
        kind = "an Anthropic key (sk-ant-...)" if key.startswith("sk-ant-") else "not an sk-cg-... key"
        return fail(name, f"{shown_key(key)}: {kind}", fixes.NOT_A_GATEWAY_KEY)
    return passed(name, shown_key(key))


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str | None, source: str = "ANTHROPIC_BASE_URL") -> Check:
    name = "env.base_url"
    if not base_url:
        return fail(name, f"{source} is not set", fixes.NO_BASE_URL)
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail(name, f"{base_url!r}: not an http(s) URL", fixes.NO_BASE_URL)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return fail(name, f"{base_url} has a path ({parts.path or '?' + parts.query})", fixes.BASE_URL_PATH)
    if parts.path == "/":
        return warn(name, f"{base_url} ends with a slash", fixes.BASE_URL_PATH)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return fail(name, f"{base_url}: plain http to {parts.hostname}", fixes.PLAIN_HTTP)
    return passed(name, base_url)


def origin_of(base_url: str) -> str:
    """scheme://host[:port] of a base URL, whatever path it (wrongly) carries."""
    parts = urlsplit(base_url.strip())
    return f"{parts.scheme}://{parts.netloc}"


def near_model_ids(model: str, served: Sequence[str]) -> list[str]:
    normalized = model.strip().lower().replace(".", "-").replace("_", "-")
    if normalized in served:
        return [normalized]
    return difflib.get_close_matches(normalized, served, n=3, cutoff=0.5)


# What Claude Code 2.1.3xx sends when no model is set (docs/reference/claude-code-wire.md).
CLAUDE_CODE_DEFAULT_MODEL = "claude-opus-5-5"


def check_model(model: str | None, served: Sequence[str] | None) -> Check | None:
    name = "env.model"
    if served is None:
        return None
    if model is None:
        if CLAUDE_CODE_DEFAULT_MODEL in served:
            return passed(name, f"not set: Claude Code's default, {CLAUDE_CODE_DEFAULT_MODEL}, is served")
        hint = f" (e.g. ANTHROPIC_MODEL={served[0]})" if served else ""
        return warn(name, "ANTHROPIC_MODEL not set: Claude Code picks its own default", fixes.UNKNOWN_MODEL_422 + hint)
    if model in served:
        return passed(name, f"{model} (served)")
    near = near_model_ids(model, served)
    hint = f" Nearest: {', '.join(near)}." if near else ""
    return fail(name, f"{model}: not served by this gateway", fixes.UNKNOWN_MODEL_422 + hint)


def _proxy_for(environ: Mapping[str, str], scheme: str) -> tuple[str, str] | None:
    for variable in (f"{scheme.upper()}_PROXY", f"{scheme}_proxy"):
        if environ.get(variable):
            return variable, environ[variable]
    return None


def bypasses_proxy(host: str, no_proxy: str) -> bool:
    """NO_PROXY as curl and Node's proxy agents read it: `*`, exact hosts, domain suffixes."""
    host = host.lower().rstrip(".")
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        entry = entry.split(":")[0] if entry.count(":") == 1 else entry
        if not entry:
            continue
        if entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
            return True
    return False


def _without_credentials(proxy_url: str) -> str:
    parts = urlsplit(proxy_url)
    if parts.username or parts.password:
        return proxy_url.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[-1])
    return proxy_url


def check_proxies(environ: Mapping[str, str], base_url: str) -> Check:
    name = "net.proxy"
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    proxy = _proxy_for(environ, parts.scheme)
    if proxy is None:
        return passed(name, f"no {parts.scheme.upper()}_PROXY: direct to {host}")
    variable, url = proxy
    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
    if bypasses_proxy(host, no_proxy):
        return passed(name, f"{variable}={_without_credentials(url)}, bypassed for {host} (NO_PROXY)")
    if is_loopback(host):
        return warn(name, f"{variable}={_without_credentials(url)} also carries {host}", fixes.PROXY_FOR_LOOPBACK)
    return passed(name, f"via {variable}={_without_credentials(url)} (NO_PROXY does not cover {host})")
