"""The records the gateway keeps, as plain values. The store maps them to DynamoDB items."""

from __future__ import annotations

from dataclasses import dataclass, field

from codegateway.domain.outcomes import ApiSurface

ACTIVE = "active"
SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    email: str
    status: str
    # Settled money: what the account has after every finished request.
    balance_nano: int
    # balance_nano minus the holds of requests in flight; admission reserves against this.
    available_nano: int
    markup_bp: int
    spend_90d_nano: int
    created_at: str
    # Requests per minute for keys that set no cap of their own; None means unlimited.
    rpm_limit: int | None = None
    name: str = ""
    # How far below zero the balance may go while admitted requests finish; None: the default.
    overdraft_nano: int | None = None
    # Spend caps of the whole account: period ("day", "week", "month") -> nano-USD (spend_caps.py).
    spend_caps: dict[str, int] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key_id: str
    account_id: str
    name: str
    key_hash: str
    created_at: str
    revoked_at: str | None = None
    # None: the account's default applies; 0: unlimited.
    rpm_limit: int | None = None
    last_used_at: str | None = None
    # Spend caps of this key: period -> nano-USD (spend_caps.py).
    spend_caps: dict[str, int] = field(default_factory=dict)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class Hold:
    """Money reserved for one request in flight, released at settlement or after expires_at."""

    request_id: str
    nano: int
    expires_at: int  # epoch seconds
    # The spend-cap counters this hold is counted on (moved with it by every ledger write).
    counters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """What is kept of one request: metadata only, never prompt or completion text."""

    account_id: str
    request_id: str
    created_at: str
    key_id: str
    model: str
    status: int
    ended: str  # an outcomes.Ended (stored and read back as its string)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_input_tokens: int = 0
    web_search_requests: int = 0
    speed: str | None = None
    inference_geo: str | None = None
    base_nano: int = 0
    markup_bp: int = 0
    billed_nano: int = 0
    duration_ms: int = 0
    ttfb_ms: int | None = None
    attempts: int = 0
    stream: bool = False
    error_type: str | None = None
    session_id: str | None = None
    # Claude Code's subagent id (x-claude-code-agent-id): which subagent of the session spent it.
    agent_id: str | None = None
    upstream_request_id: str | None = None
    source: str = ApiSurface.ANTHROPIC  # an outcomes.ApiSurface: OPENAI for translated chat completions
    # The catalog id the request was priced with, when `model` (the id sent) is not one itself: an
    # unknown id priced by family, or a `[1m]`-suffixed one.
    priced_as: str | None = None
    catalog_version: str | None = None


@dataclass(frozen=True, slots=True)
class TopUpEntry:
    """A credit to an account's balance: applied once per idempotency key."""

    idempotency_key: str
    amount_nano: int
    actor: str
    reason: str
    created_at: str
