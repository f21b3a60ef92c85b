"""Spend caps of keys and accounts: list (with use this period), set, remove."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictStr

from codegateway.accounts.caps import cap_uses, remove_account_cap, remove_key_cap, set_account_cap, set_key_cap
from codegateway.accounts.views import cap_use_view, listing
from codegateway.admin_api.context import AdminStore
from codegateway.domain.money import parse_usd

router = APIRouter(tags=["caps"])


class Cap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_usd: StrictStr


def _caps(store: AdminStore, account_id: str) -> dict[str, Any]:
    return listing([cap_use_view(use) for use in cap_uses(store, account_id)])


@router.get("/v1/accounts/{account_id}/caps")
def account_caps(account_id: str, store: AdminStore) -> dict[str, Any]:
    return _caps(store, account_id)


@router.put("/v1/accounts/{account_id}/caps/{period}")
def set_on_account(account_id: str, period: str, body: Cap, store: AdminStore) -> dict[str, Any]:
    set_account_cap(store, account_id, period, parse_usd(body.amount_usd))
    return _caps(store, account_id)


@router.delete("/v1/accounts/{account_id}/caps/{period}")
def remove_from_account(account_id: str, period: str, store: AdminStore) -> dict[str, Any]:
    remove_account_cap(store, account_id, period)
    return _caps(store, account_id)


@router.put("/v1/keys/{key_id}/caps/{period}")
def set_on_key(key_id: str, period: str, body: Cap, store: AdminStore) -> dict[str, Any]:
    return _caps(store, set_key_cap(store, key_id, period, parse_usd(body.amount_usd)))


@router.delete("/v1/keys/{key_id}/caps/{period}")
def remove_from_key(key_id: str, period: str, store: AdminStore) -> dict[str, Any]:
    return _caps(store, remove_key_cap(store, key_id, period))
