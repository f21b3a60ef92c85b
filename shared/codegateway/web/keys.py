"""Key self-service for a key holder: list, create, revoke, rotate and cap the keys of the caller's
own account. Another account's key id answers 404, exactly like an id that does not exist.

A key may revoke (or rotate away) itself: this answer still goes out, and the next request with it
is refused (within a second, like any revocation).
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codegateway.accounts.caps import cap_uses, remove_key_cap, set_key_cap
from codegateway.accounts.keys import issue_own_key, revoke, rotate_key
from codegateway.accounts.views import cap_use_view, key_view, listing, new_key_view, rotation_view
from codegateway.domain.money import parse_usd
from codegateway.edge.caller import authenticated
from codegateway.errors import InvalidRequest
from codegateway.proxy.exchange import Caller
from codegateway.proxy.runtime import Gateway
from codegateway.web.body import read_limited_body

# A key name and nothing else: far below any request limit.
_MAX_BODY_BYTES = 4096


async def _caller(request: Request) -> tuple[Gateway, Caller]:
    gateway: Gateway = request.app.state.gateway
    return gateway, await authenticated(request, gateway.authenticator)


async def _key_name(request: Request) -> str:
    body = await read_limited_body(request, _MAX_BODY_BYTES)
    if not body.strip():
        return ""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(parsed, dict) or set(parsed) - {"name"}:
        raise InvalidRequest('The body may hold only a key name: {"name": "laptop"}.')
    name = parsed.get("name", "")
    if not isinstance(name, str):
        raise InvalidRequest("name: must be a string.")
    return name


async def list_own_keys(request: Request) -> Response:
    gateway, caller = await _caller(request)
    records = await asyncio.to_thread(gateway.store.api_keys.list_for_account, caller.account.account_id)
    return JSONResponse(listing([key_view(record) for record in records]))


async def create_own_key(request: Request) -> Response:
    gateway, caller = await _caller(request)
    name = await _key_name(request)
    issued = await asyncio.to_thread(issue_own_key, gateway.store, gateway.settings, caller.key, name=name)
    return JSONResponse(new_key_view(issued.record, issued.plaintext), status_code=201)


async def revoke_own_key(request: Request) -> Response:
    gateway, caller = await _caller(request)
    revoked = await asyncio.to_thread(
        revoke, gateway.store, request.path_params["key_id"], account_id=caller.account.account_id
    )
    return JSONResponse(key_view(revoked))


async def rotate_own_key(request: Request) -> Response:
    gateway, caller = await _caller(request)
    rotated = await asyncio.to_thread(
        rotate_key, gateway.store, gateway.settings, request.path_params["key_id"], account_id=caller.account.account_id
    )
    return JSONResponse(
        rotation_view(rotated.revoked, rotated.issued.record, rotated.issued.plaintext), status_code=201
    )


async def set_own_key_cap(request: Request) -> Response:
    """PUT /v1/account/keys/{key_id}/caps/{period} {"amount_usd": "5"}: cap one of the account's keys."""
    gateway, caller = await _caller(request)
    body = await read_limited_body(request, _MAX_BODY_BYTES)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest('The body is not valid JSON: send {"amount_usd": "5"}.') from None
    if not isinstance(parsed, dict) or set(parsed) != {"amount_usd"}:
        raise InvalidRequest('The body holds the cap only: {"amount_usd": "5"}.')
    limit_nano = parse_usd(parsed["amount_usd"])
    account_id = caller.account.account_id
    params = request.path_params
    await asyncio.to_thread(
        set_key_cap, gateway.store, params["key_id"], params["period"], limit_nano, account_id=account_id
    )
    return await _own_caps(gateway, account_id)


async def remove_own_key_cap(request: Request) -> Response:
    gateway, caller = await _caller(request)
    account_id = caller.account.account_id
    params = request.path_params
    await asyncio.to_thread(remove_key_cap, gateway.store, params["key_id"], params["period"], account_id=account_id)
    return await _own_caps(gateway, account_id)


async def _own_caps(gateway: Gateway, account_id: str) -> Response:
    uses = await asyncio.to_thread(cap_uses, gateway.store, account_id)
    return JSONResponse(listing([cap_use_view(use) for use in uses]))
