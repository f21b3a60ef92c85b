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

    # Each field's description is its row in docs/configuration.md (`make docs` writes it; a unit test
    # fails when the two differ).

    # Upstream (the Anthropic API or a stand-in).
    upstream_url: str = Field(default="https://api.anthropic.com", description="Where requests go.")
    upstream_api_key: SecretStr | None = Field(
        default=None, description="The upstream key, locally (deployed: `CGW_UPSTREAM_API_KEY_SECRET_ID`)."
    )
    upstream_api_key_secret_id: str | None = Field(
        default=None,
        description="Deployed: the Secrets Manager secret holding the upstream key (read through Powertools "
        "Parameters at start-up and refreshed in the background).",
    )
    upstream_secret_max_age_s: int = Field(
        default=300, description="How often the secrets are re-read, so a rotated upstream key is in use within it."
    )

    # Timeouts. first_byte counts to the upstream's response headers.
    connect_timeout_s: float = Field(default=30.0, description="Upstream connect timeout.")
    first_byte_timeout_s: float = Field(
        default=60.0, description="Upstream timeout to the response headers (a 504 `timeout_error` past it)."
    )
    total_timeout_s: float = Field(
        default=600.0, description="The whole response, slow clients included (mid-stream: an SSE `timeout_error`)."
    )
    # Must stay well under CloudFront's 30 s origin read timeout and 30-60 s middlebox idle timeouts.
    keepalive_interval_s: float = Field(
        default=10.0,
        gt=0,
        description="Ping interval while the upstream is silent (an SSE `ping` at an event boundary).",
    )
    retry_backoff_min_s: float = Field(default=0.2, description="Shortest jittered pause before the one retry.")
    retry_backoff_max_s: float = Field(default=1.0, description="Longest jittered pause before the one retry.")

    # Requests. 6 MiB is the Lambda Function URL's own request payload cap.
    max_body_bytes: int = Field(default=6 * MIB, description="Request body cap (the Function URL's own); over it: 413.")

    # DynamoDB.
    dynamodb_endpoint: str | None = Field(
        default=None, description="DynamoDB endpoint (the local stack's moto server); unset: AWS."
    )
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("CGW_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="The AWS region of the tables and secrets (the first of these variables that is set).",
    )
    accounts_table: str = Field(default="codegateway-accounts", description="Accounts table name.")
    api_keys_table: str = Field(default="codegateway-api-keys", description="ApiKeys table name.")
    usage_table: str = Field(default="codegateway-usage", description="Usage table name.")
    rate_limits_table: str = Field(default="codegateway-rate-limits", description="RateLimits table name.")
    dynamodb_timeout_s: float = Field(default=3.0, description="Connect and read timeout of each DynamoDB call.")
    dynamodb_client: Literal["http", "botocore"] = Field(
        default="http",
        description="http: DynamoDB's JSON protocol on kept-alive connections (store/dynamodb_http.py, ~0.2 ms "
        "of CPU a call); botocore: botocore's client (~1 ms a call).",
    )
    # The DynamoDB client pools as many connections as there are threads.
    io_threads: int = Field(
        default=64,
        ge=4,
        le=256,
        description="Threads (and DynamoDB connections) for blocking calls (DynamoDB, bcrypt).",
    )

    # Keys. The secret carries 256 random bits, so bcrypt's work factor guards nothing a guess could
    # reach; it only costs the first request of a key in each warm process. 10 rounds ~ 60 ms.
    bcrypt_rounds: int = Field(
        default=10,
        description="Cost of new key hashes (the secret has 256 random bits; bcrypt runs once per key per process).",
    )
    # Key and account records read from DynamoDB: at most 1 s old, so a revoked key dies within that.
    record_refresh_after_s: float = Field(
        default=0.4, ge=0.0, le=1.0, description="Key and account records are re-read in the background after this."
    )
    record_max_age_s: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Key and account records are never used after this (<= 1: a revoked key dies within it).",
    )

    speculative_admission: bool = Field(
        default=True,
        description="Send a request upstream while admission answers, when the caller's cached records show "
        "headroom (proxy/speculation.py); false: admission always answers first.",
    )
    default_rpm_limit: int = Field(
        default=120,
        ge=0,
        description="Requests per minute for keys and accounts without their own cap (0: unlimited).",
    )
    diagnostics_streams_per_minute: int = Field(
        default=10,
        ge=1,
        description="`GET /v1/diagnostics/stream` (free, for `cgw doctor`): streams per key per minute.",
    )

    # Money.
    starter_credit_nano: int = Field(default=2 * NANO_PER_USD, description="A new account's credit ($2.00).")
    default_markup_bp: int = Field(
        default=15_000,
        description="The markup a new account starts at, in basis points (1.5x), until the tier job sets its tier.",
    )
    # The hold rule: domain/estimate.py.
    default_overdraft_nano: int = Field(
        default=DEFAULT_OVERDRAFT_NANO,
        ge=0,
        description="The overdraft limit new accounts get ($0.50): how far below zero a balance may go while "
        "admitted streams finish (admins set it per account).",
    )
    hold_margin_s: int = Field(
        default=300, description="How long past the total timeout a hold lives before the tier job may release it."
    )
    usage_retention_days: int = Field(
        default=400, description="TTL of usage records and daily rollups (credits never expire)."
    )
    tiers: tuple[Tier, ...] = Field(
        default=DEFAULT_TIERS,
        description="Markup tiers by rolling 90-day billed spend (thresholds include their lower bound): a JSON "
        "list of `{name, min_spend_nano, markup_bp}` in any order, one starting at 0 (docs/billing.md).",
    )

    @model_validator(mode="after")
    def _records_refresh_before_they_expire(self) -> Settings:
        if self.record_refresh_after_s > self.record_max_age_s:
            raise ValueError("record_refresh_after_s must not exceed record_max_age_s")
        return self

    @field_validator("tiers")
    @classmethod
    def _tiers_start_at_zero(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        return validate_tiers(tiers)

    # The tier job. Each worker holds one DynamoDB connection; the client's pool has 64.
    tier_scan_segments: int = Field(
        default=4, ge=1, le=64, description="The tier job's parallel scan segments of the Accounts table."
    )
    tier_workers: int = Field(default=16, ge=1, le=64, description="The tier job's worker threads (accounts at once).")

    pricing_catalog_path: Path | None = Field(
        default=None,
        description="Your own pricing catalog (JSON, same shape as `shared/codegateway/domain/pricing_catalog.json`); "
        "unset: the bundled one.",
    )
    pricing_catalog_source: Literal["file", "dynamodb"] = Field(
        default="file",
        description="`dynamodb` (deployed and in `cgw dev`): the catalog imported with `cgw prices import` is in "
        "force, the file until there is one.",
    )
    pricing_catalog_refresh_s: float = Field(
        default=60.0, ge=1.0, description="How often a proxy re-reads the imported catalog."
    )
    # "family" lets a model released today work before the catalog lists it.
    unknown_model_policy: Literal["family", "refuse"] = Field(
        default="family",
        description="`family`: an unknown `claude-<family>-...` id is priced as that family's newest model "
        "(recorded as `priced_as`, warned once per id, counted in a metric); `refuse`: 422.",
    )

    # Sign-up by email: off by default deployed (a stack parameter); `cgw dev` runs it open.
    signup_mode: Literal["off", "open", "domains"] = Field(
        default="off", description="Who may sign up by email: nobody, anyone, or addresses at `CGW_SIGNUP_DOMAINS`."
    )
    signup_domains: str = Field(default="", description="`example.com,team.dev` for the `domains` sign-up mode.")
    outbox: Literal["console", "ses"] = Field(
        default="console",
        description="Where codes go: `console` prints `verification code for EMAIL: NNNNNN` and the link; "
        "`ses` (deployed) sends them through Amazon SES.",
    )
    ses_sender: str = Field(default="", description="SES From address (a verified SES identity).")
    ses_template: str = Field(default="", description="SES template (variables `{{code}}`, `{{link}}`).")
    public_url: str = Field(
        default="",
        description="The gateway URL shown in the export lines and the emailed link; unset: the request's URL "
        "(behind CloudFront: set it).",
    )
    # Dashboard sessions: short-lived and server-side (revocable).
    dashboard_session_ttl_s: int = Field(default=3600, ge=60, le=86_400, description="Dashboard session lifetime.")
    dashboard_secure_cookies: bool = Field(
        default=True, description="Mark the dashboard's cookies Secure (off only for the local stack's plain HTTP)."
    )
    topup_text: str = Field(
        default="Ask your gateway administrator to top up your account.",
        description="Shown on the Balance page: how to top up (an https:// URL in it is shown as a link).",
    )

    @property
    def signup_domain_set(self) -> frozenset[str]:
        return frozenset(part.strip().lower() for part in self.signup_domains.split(",") if part.strip())

    # Edge: set by CloudFront as an origin header; WAF cannot attach to a Function URL.
    origin_verify_secret: SecretStr | None = Field(
        default=None, description="The CloudFront origin header value that requests must carry (edge on)."
    )
    origin_verify_secret_id: str | None = Field(
        default=None, description="Deployed: the Secrets Manager secret holding that value."
    )

    emit_metrics: bool = Field(
        default=False,
        description="EMF metrics on stdout, which CloudWatch reads from the function's log (the template turns "
        "them on).",
    )
    metrics_namespace: str = Field(default="CodeGateway", description="The EMF metrics' namespace.")
    log_level: str = Field(default="INFO", description="Log level of the JSON log lines.")
    service_name: str = Field(default="codegateway", description="The `service` of log lines and metrics.")

    @property
    def upstream_base(self) -> str:
        return self.upstream_url.rstrip("/")
