"""How accounts and usage records are shown to callers and admins (JSON rows, CSV). No I/O.

Money leaves the gateway as exact decimal strings of USD, never floats. Key hashes never leave.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from codegateway.domain.clock import iso
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.domain.records import Account, ApiKeyRecord, TopUpEntry, UsageRecord
from codegateway.domain.tiers import DEFAULT_TIERS, Tier, tier_for_markup, tier_for_spend
from codegateway.errors import InvalidRequest
from codegateway.settings import DEFAULT_OVERDRAFT_NANO

if TYPE_CHECKING:
    from codegateway.domain.spend_caps import CapUse
    from codegateway.store import DailyRollup

USAGE_COLUMNS = (
    "request_id", "created_at", "model", "key_id", "input_tokens", "output_tokens",
    "cache_creation_input_tokens", "cache_read_input_tokens", "cost_usd", "status", "ended",
    "error_type", "duration_ms", "session_id", "stream", "source", "priced_as", "speed", "inference_geo",
    "catalog_version", "agent_id",
)  # fmt: skip


def account_view(account: Account, tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> dict[str, Any]:
    tier = tier_for_markup(account.markup_bp, tiers) or tier_for_spend(account.spend_90d_nano, tiers)
    markup = Tier(tier.name, 0, account.markup_bp).markup_text
    return {
        "type": "account",
        "id": account.account_id,
        "email": account.email,
        "name": account.name,
        "status": account.status,
        "balance_usd": nano_to_usd_str(account.balance_nano),
        "available_usd": nano_to_usd_str(account.available_nano),
        "held_usd": nano_to_usd_str(account.balance_nano - account.available_nano),
        "overdraft_limit_usd": nano_to_usd_str(
            DEFAULT_OVERDRAFT_NANO if account.overdraft_nano is None else account.overdraft_nano
        ),
        "markup": markup,
        "tier": tier.name,
        "spend_90d_usd": nano_to_usd_str(account.spend_90d_nano),
        "created_at": account.created_at,
    }


def usage_row(record: UsageRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "created_at": record.created_at,
        "model": record.model,
        "key_id": record.key_id,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_creation_input_tokens": record.cache_creation_input_tokens,
        "cache_read_input_tokens": record.cache_read_input_tokens,
        "cost_usd": nano_to_usd_str(record.billed_nano),
        "status": record.status,
        "ended": record.ended,
        "error_type": record.error_type,
        "duration_ms": record.duration_ms,
        "session_id": record.session_id,
        "stream": record.stream,
        "source": record.source,
        # Set when the id sent is not a catalog id (an unknown model priced by its family, a [1m] id).
        "priced_as": record.priced_as,
        "speed": record.speed,
        "inference_geo": record.inference_geo,
        "catalog_version": record.catalog_version,
        "agent_id": record.agent_id,
    }


def key_view(record: ApiKeyRecord) -> dict[str, Any]:
    """A key as listings show it: never the hash, never the secret."""
    return {
        "type": "api_key",
        "id": record.key_id,
        "account_id": record.account_id,
        "name": record.name,
        "hint": f"sk-cg-{record.key_id}_...",
        "created_at": record.created_at,
        "revoked_at": record.revoked_at,
        "rpm_limit": record.rpm_limit,
        "spend_caps_usd": {period: nano_to_usd_str(nano) for period, nano in record.spend_caps.items()},
        "status": "revoked" if record.is_revoked else "active",
    }


def new_key_view(record: ApiKeyRecord, plaintext: str) -> dict[str, Any]:
    """The answer to creating a key: the only time its plaintext (`key`) is ever shown."""
    return {**key_view(record), "key": plaintext}


def rotation_view(revoked: ApiKeyRecord, issued: ApiKeyRecord, plaintext: str) -> dict[str, Any]:
    return {"revoked": key_view(revoked), "issued": new_key_view(issued, plaintext)}


def parse_time_bound(name: str, text: str | None) -> str | None:
    """A `since`/`until` parameter (ISO date or date-time) as the records' UTC ISO form."""
    if text is None or text == "":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name}: expected an ISO 8601 date or date-time, e.g. 2026-11-25T00:00:00Z.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


def parse_limit(text: str | None, default: int = 100, maximum: int = 1000) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise InvalidRequest(f"limit: must be an integer from 1 to {maximum}.")
    return int(text)


def topup_view(entry: TopUpEntry) -> dict[str, Any]:
    """A ledger entry: who credited how much, when and why."""
    return {
        "type": "topup",
        "idempotency_key": entry.idempotency_key,
        "amount_usd": nano_to_usd_str(entry.amount_nano),
        "actor": entry.actor,
        "reason": entry.reason,
        "created_at": entry.created_at,
    }


def daily_usage_view(rollup: DailyRollup) -> dict[str, Any]:
    """One day of an account's usage, summed from its request records at settlement."""
    return {
        "day": rollup.day,
        "requests": rollup.requests,
        "input_tokens": rollup.input_tokens,
        "output_tokens": rollup.output_tokens,
        "cache_creation_input_tokens": rollup.cache_creation_input_tokens,
        "cache_read_input_tokens": rollup.cache_read_input_tokens,
        "base_cost_usd": nano_to_usd_str(rollup.base_nano),
        "cost_usd": nano_to_usd_str(rollup.billed_nano),
    }


def listing(data: list[dict[str, Any]], next_cursor: str | None = None) -> dict[str, Any]:
    """Every list answer: `page=<next_page>` fetches the next page while `has_more` is true."""
    return {"data": data, "has_more": next_cursor is not None, "next_page": next_cursor}


def cap_use_view(use: CapUse) -> dict[str, Any]:
    return {
        "type": "spend_cap",
        "scope": use.window.scope,
        "id": use.owner_id,
        "period": use.window.period,
        "limit_usd": nano_to_usd_str(use.window.limit_nano),
        "used_usd": nano_to_usd_str(max(0, use.used_nano)),
        "resets_at": iso(use.window.resets_at),
    }
