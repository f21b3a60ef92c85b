"""The records the gateway keeps, as plain values. The store maps them to DynamoDB items."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
