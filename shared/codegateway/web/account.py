"""GET /v1/account and GET /v1/account/usage: a key holder's own balance, tier and metadata log."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codegateway.accounts.caps import cap_uses
from codegateway.accounts.usage import own_usage_page
from codegateway.accounts.views import account_view, cap_use_view, listing, parse_limit, parse_time_bound, usage_row
from codegateway.edge.caller import authenticated
from codegateway.errors import AuthenticationFailed
from codegateway.proxy.runtime import Gateway


async def get_account(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway.authenticator)
    # Read fresh: the caller asks because the balance just moved.
    account = await asyncio.to_thread(gateway.store.accounts.get, caller.account.account_id)
    if account is None:
        raise AuthenticationFailed()
    uses = await asyncio.to_thread(cap_uses, gateway.store, account.account_id)
    return JSONResponse(
        {**account_view(account, gateway.settings.tiers), "spend_caps": [cap_use_view(use) for use in uses]}
    )


async def list_usage(request: Request) -> Response:
    """The admin listing of one account (accounts.usage), on the caller's own account."""
    gateway: Gateway = request.app.state.gateway
    caller = await authenticated(request, gateway.authenticator)
    params = request.query_params
    page = await asyncio.to_thread(
        own_usage_page,
        gateway.store,
        caller.account.account_id,
        since=parse_time_bound("since", params.get("since")),
        until=parse_time_bound("until", params.get("until")),
        limit=parse_limit(params.get("limit")),
        cursor=params.get("page"),
    )
    return JSONResponse(listing([usage_row(record) for record in page.records], page.next_cursor))
