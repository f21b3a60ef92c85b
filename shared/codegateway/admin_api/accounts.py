"""Accounts: open (starter credit), find, list, suspend, resume, overdraft limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictStr

from codegateway.accounts.accounts import (
    create_account,
    get_account,
    list_accounts,
    resume_account,
    set_overdraft_limit,
    suspend_account,
)
from codegateway.accounts.views import account_view, listing, parse_limit
from codegateway.admin_api.context import AdminSettings, AdminStore
from codegateway.domain.money import parse_usd

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: StrictStr
    name: StrictStr = ""


@router.post("", status_code=201)
def open_account(body: NewAccount, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    return account_view(create_account(store, settings, body.email, body.name), settings.tiers)


@router.get("")
def accounts(store: AdminStore, settings: AdminSettings, limit: str | None = None, page: str | None = None) -> Any:
    found = list_accounts(store, limit=parse_limit(limit), cursor=page)
    return listing([account_view(account, settings.tiers) for account in found.accounts], found.next_cursor)


@router.get("/{account_id}")
def account(account_id: str, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    return account_view(get_account(store, account_id), settings.tiers)


@router.post("/{account_id}/suspend")
def suspend(account_id: str, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    return account_view(suspend_account(store, account_id), settings.tiers)


@router.post("/{account_id}/resume")
def resume(account_id: str, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    return account_view(resume_account(store, account_id), settings.tiers)


class OverdraftLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_usd: StrictStr


@router.put("/{account_id}/overdraft")
def overdraft(account_id: str, body: OverdraftLimit, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    limit = parse_usd(body.amount_usd, allow_zero=True)
    return account_view(set_overdraft_limit(store, account_id, limit), settings.tiers)
