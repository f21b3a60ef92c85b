"""GET /v1/account and GET /v1/account/usage: a key holder's own balance, tier and metadata log."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codegateway.accounts.caps import cap_uses
from codegateway.accounts.views import account_view, cap_use_view, parse_limit, parse_time_bound, usage_row
from codegateway.errors import AuthenticationFailed, InvalidRequest
from codegateway.proxy.runtime import Gateway


async def get_account(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller = await gateway.authenticator.authenticate(
        request.headers.get("x-api-key"), request.headers.get("authorization")
    )
    # Read fresh: the caller asks because the balance just moved.
    account = await asyncio.to_thread(gateway.store.accounts.get, caller.account.account_id)
    if account is None:
        raise AuthenticationFailed()
    uses = await asyncio.to_thread(cap_uses, gateway.store, account.account_id)
    return JSONResponse(
        {**account_view(account, gateway.settings.tiers), "spend_caps": [cap_use_view(use) for use in uses]}
    )


async def list_usage(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller = await gateway.authenticator.authenticate(
        request.headers.get("x-api-key"), request.headers.get("authorization")
    )
    params = request.query_params
    try:
        page = await asyncio.to_thread(
            gateway.store.usage.requests,
            account_id=caller.account.account_id,
            since=parse_time_bound("since", params.get("since")),
            until=parse_time_bound("until", params.get("until")),
            limit=parse_limit(params.get("limit")),
            cursor=params.get("page"),
        )
    except ValueError:
        raise InvalidRequest("page: not a cursor this endpoint returned.") from None
    return JSONResponse(
        {
            "data": [usage_row(record) for record in page.records],
            "has_more": page.next_cursor is not None,
            "next_page": page.next_cursor,
        }
    )
