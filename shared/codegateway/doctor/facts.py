"""What the probes measured, as plain values: the checks read these and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Resolved:
    host: str
    addresses: tuple[str, ...] = ()
    elapsed_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    address: str
    port: int
    elapsed_s: float = 0.0
    # "refused", "timeout" or "other" when the connection failed.
    error_kind: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TlsFacts:
    # The protocol negotiated without verifying (so it is known even when verification fails).
    version: str | None = None
    # A handshake that failed before any certificate was judged (e.g. WRONG_VERSION_NUMBER).
    handshake_error: str | None = None
    # Verification against the system store, then with NODE_EXTRA_CA_CERTS added (None: verified).
    system_error: str | None = None
    extra_ca_path: str | None = None
    extra_error: str | None = None

    @property
    def verified(self) -> bool:
        if self.handshake_error:
            return False
        return self.system_error is None or (self.extra_ca_path is not None and self.extra_error is None)


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int | None = None
    elapsed_s: float = 0.0
    location: str | None = None
    body: Any = None
    error: str | None = None

    @property
    def error_type(self) -> str | None:
        """The Anthropic-shaped error's type, if the body is one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            error_type = self.body["error"].get("type")
            return error_type if isinstance(error_type, str) else None
        return None


@dataclass(frozen=True, slots=True)
class StreamFacts:
    status: int | None = None
    first_byte_s: float | None = None
    total_s: float = 0.0
    start: dict[str, Any] | None = None
    done: dict[str, Any] | None = None
    pings: int = 0
    # The longest gap between two arrivals of bytes (from the first byte on).
    longest_silence_s: float = 0.0
    error: str | None = None
    answer: HttpAnswer | None = None
    events: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ClaudeState:
    """Claude Code's own files, reduced to what matters here (never a token)."""

    credentials_path: str | None = None
    # A claude.ai login (OAuth) stored in the credentials file or ~/.claude.json.
    has_login: bool = False
    login_expires_ms: int | None = None
    config_path: str | None = None
    # The key's last 20 characters are in customApiKeyResponses.rejected.
    key_rejected: bool = False
    unreadable: str | None = None
