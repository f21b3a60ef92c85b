"""All configuration, read once from the environment (prefix CGW_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from codegateway.domain.money import NANO_PER_USD
from codegateway.domain.tiers import DEFAULT_TIERS, Tier, validate_tiers

MIB = 1024 * 1024
# $0.50: how far below zero a balance may go while admitted streams finish, unless set per account.
DEFAULT_OVERDRAFT_NANO = 500_000_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CGW_", frozen=True, extra="ignore")

    # Upstream (the Anthropic API or a stand-in).
    upstream_url: str = "https://api.anthropic.com"
    upstream_api_key: SecretStr | None = None
    # Deployed: the Secrets Manager secret holding the upstream key (read through Powertools Parameters).
    upstream_api_key_secret_id: str | None = None
    upstream_secret_max_age_s: int = 300

    # Timeouts (issue 4 / DESIGN.md step 4). first_byte counts to the upstream's response headers.
    connect_timeout_s: float = 30.0
    first_byte_timeout_s: float = 60.0
    total_timeout_s: float = 600.0
    # Must stay well under CloudFront's 30 s origin read timeout and 30-60 s middlebox idle timeouts.
    keepalive_interval_s: float = Field(default=10.0, gt=0)
    retry_backoff_min_s: float = 0.2
    retry_backoff_max_s: float = 1.0

    # Requests. 6 MiB is the Lambda Function URL's own request payload cap.
    max_body_bytes: int = 6 * MIB

    # DynamoDB.
    dynamodb_endpoint: str | None = None
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("CGW_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    accounts_table: str = "codegateway-accounts"
    api_keys_table: str = "codegateway-api-keys"
    usage_table: str = "codegateway-usage"
    rate_limits_table: str = "codegateway-rate-limits"
    dynamodb_timeout_s: float = 3.0
    # Threads for blocking calls (DynamoDB, bcrypt); the DynamoDB client pools as many connections.
    io_threads: int = Field(default=64, ge=4, le=256)

    # Keys. The secret carries 256 random bits, so bcrypt's work factor guards nothing a guess could
    # reach; it only costs the first request of a key in each warm process. 10 rounds ~ 60 ms.
    bcrypt_rounds: int = 10
    # Key and account records read from DynamoDB: re-read in the background once older than
    # record_refresh_after_s, never used once older than record_max_age_s (DESIGN: at most 1 s, so
    # a revoked key dies within that).
    record_refresh_after_s: float = Field(default=0.4, ge=0.0, le=1.0)
    record_max_age_s: float = Field(default=0.9, ge=0.0, le=1.0)

    # Send a request upstream while admission answers, when the caller's cached records show headroom
    # (proxy/speculation.py); off: admission always answers first.
    speculative_admission: bool = True

    # Requests per minute for keys and accounts that set no cap of their own (0: unlimited).
    default_rpm_limit: int = Field(default=120, ge=0)
    # GET /v1/diagnostics/stream (free, for `cgw doctor`): streams a key may open per minute.
    diagnostics_streams_per_minute: int = Field(default=10, ge=1)

    # Money.
    starter_credit_nano: int = 2 * NANO_PER_USD
    default_markup_bp: int = 15_000
    # How far below zero an account's balance may go while admitted streams finish (per account,
    # settable by admins; this is the default). The hold rule: estimate.py.
    default_overdraft_nano: int = Field(default=DEFAULT_OVERDRAFT_NANO, ge=0)
    # A hold outlives the longest possible request by this margin before the sweep may release it.
    hold_margin_s: int = 300
    usage_retention_days: int = 400
    # Markup by rolling 90-day billed spend, e.g.
    # CGW_TIERS='[{"name":"starter","min_spend_nano":0,"markup_bp":15000}, ...]'
    tiers: tuple[Tier, ...] = DEFAULT_TIERS

    @model_validator(mode="after")
    def _records_refresh_before_they_expire(self) -> Settings:
        if self.record_refresh_after_s > self.record_max_age_s:
            raise ValueError("record_refresh_after_s must not exceed record_max_age_s")
        return self

    @field_validator("tiers")
    @classmethod
    def _tiers_start_at_zero(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        return validate_tiers(tiers)

    # The tier job: parallel scan segments of the Accounts table, and accounts worked on at once
    # (each worker holds one DynamoDB connection; the client's pool has 64).
    tier_scan_segments: int = Field(default=4, ge=1, le=64)
    tier_workers: int = Field(default=16, ge=1, le=64)

    pricing_catalog_path: Path | None = None
    # "dynamodb": the catalog an operator imported (`cgw prices import`) is in force, re-read every
    # pricing_catalog_refresh_s; the bundled file (or pricing_catalog_path) until there is one.
    pricing_catalog_source: Literal["file", "dynamodb"] = "file"
    pricing_catalog_refresh_s: float = Field(default=60.0, ge=1.0)
    # A `claude-<family>-...` id the catalog does not know: "family" admits it at the newest served
    # model of that family (recorded as priced_as, warned once per id, counted in a metric), so a
    # model released today works before the catalog lists it; "refuse" answers 422.
    unknown_model_policy: Literal["family", "refuse"] = "family"

    # Sign-up by email (issue 19): off (deployed default, a stack parameter), open, or domains
    # (only addresses at CGW_SIGNUP_DOMAINS=example.com,...). `cgw dev` runs it open.
    signup_mode: Literal["off", "open", "domains"] = "off"
    signup_domains: str = ""
    # Where codes go: "console" (the process's output, `cgw dev`) or "ses" (deployed).
    outbox: Literal["console", "ses"] = "console"
    ses_sender: str = ""
    ses_template: str = ""
    # The gateway's own URL as users see it (behind CloudFront); else the request's own.
    public_url: str = ""
    # Dashboard sessions: short-lived and server-side (revocable); Secure cookies unless local.
    dashboard_session_ttl_s: int = Field(default=3600, ge=60, le=86_400)
    dashboard_secure_cookies: bool = True
    # Shown on the Balance page: how to top up (text; an https:// URL in it is shown as a link).
    topup_text: str = "Ask your gateway administrator to top up your account."

    @property
    def signup_domain_set(self) -> frozenset[str]:
        return frozenset(part.strip().lower() for part in self.signup_domains.split(",") if part.strip())

    # Edge: when set, requests must carry this header value (set by CloudFront as an origin header).
    origin_verify_secret: SecretStr | None = None
    origin_verify_secret_id: str | None = None

    # EMF metrics on stdout (CloudWatch reads them from the function's log); off for the local stack.
    emit_metrics: bool = False
    metrics_namespace: str = "CodeGateway"
    log_level: str = "INFO"
    service_name: str = "codegateway"

    @property
    def upstream_base(self) -> str:
        return self.upstream_url.rstrip("/")
