"""Keys of any account: create (plaintext in this answer only), list (never a hash), show, revoke,
rotate (new key out, old key refused within a second)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from codegateway.accounts.keys import issue_key, list_keys, revoke, rotate_key
from codegateway.accounts.lookups import find_key
from codegateway.accounts.views import key_view, listing, new_key_view, rotation_view
from codegateway.admin_api.context import AdminSettings, AdminStore

router = APIRouter(tags=["keys"])


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = ""
    # Requests per minute; 0 is unlimited, null takes the account's (or the gateway's) default.
    rpm_limit: StrictInt | None = None


@router.post("/v1/accounts/{account_id}/keys", status_code=201)
def create(account_id: str, body: NewKey, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    issued = issue_key(store, settings, account_id, name=body.name, rpm_limit=body.rpm_limit)
    return new_key_view(issued.record, issued.plaintext)


@router.get("/v1/accounts/{account_id}/keys")
def account_keys(account_id: str, store: AdminStore) -> dict[str, Any]:
    return listing([key_view(record) for record in list_keys(store, account_id)])


@router.get("/v1/keys/{key_id}")
def show(key_id: str, store: AdminStore) -> dict[str, Any]:
    return key_view(find_key(store, key_id))


@router.post("/v1/keys/{key_id}/revoke")
def revoke_one(key_id: str, store: AdminStore) -> dict[str, Any]:
    return key_view(revoke(store, key_id))


@router.post("/v1/keys/{key_id}/rotate", status_code=201)
def rotate(key_id: str, store: AdminStore, settings: AdminSettings) -> dict[str, Any]:
    rotated = rotate_key(store, settings, key_id)
    return rotation_view(rotated.revoked, rotated.issued.record, rotated.issued.plaintext)
