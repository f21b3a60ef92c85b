"""Balance: top-ups (once per Idempotency-Key, written to the ledger with the caller's identity) and
the ledger of an account's credits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from codegateway.accounts.accounts import credit_account, ledger_entries
from codegateway.accounts.views import account_view, listing, topup_view
from codegateway.admin_api.context import Actor, AdminSettings, AdminStore
from codegateway.domain.money import parse_usd
from codegateway.errors import InvalidRequest

router = APIRouter(prefix="/v1/accounts/{account_id}/topups", tags=["balance"])


class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Any JSON type gets in, so that a number is refused by parse_usd with a message saying why.
    amount_usd: Any = Field(description='US dollars as a decimal string, e.g. "25" or "12.50".')
    reason: StrictStr


@router.post("", status_code=201, responses={200: {"description": "The Idempotency-Key was used before."}})
def top_up(
    account_id: str,
    body: TopUpRequest,
    store: AdminStore,
    settings: AdminSettings,
    actor: Actor,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    if not idempotency_key:
        raise InvalidRequest("Idempotency-Key header: required, so that a retried top-up is applied once.")
    credit = credit_account(
        store,
        account_id,
        parse_usd(body.amount_usd),
        idempotency_key=idempotency_key,
        actor=actor,
        reason=body.reason,
    )
    answer = {
        "applied": credit.applied,
        "topup": topup_view(credit.entry),
        "account": account_view(credit.account, settings.tiers),
    }
    return JSONResponse(answer, status_code=201 if credit.applied else 200)


@router.get("")
def ledger(account_id: str, store: AdminStore) -> dict[str, Any]:
    # An account's credits are few; the whole ledger is one page.
    return listing([topup_view(entry) for entry in ledger_entries(store, account_id)])
