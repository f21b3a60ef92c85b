"""The dashboard's pages once signed in: Keys, Balance, Logs (+ CSV), Sessions, Setup."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from codegateway.accounts.keys import issue_self_service_key, revoke, rotate_key
from codegateway.accounts.usage import cost_by_session, last_use_by_key, usage_csv
from codegateway.accounts.views import account_view, parse_time_bound
from codegateway.domain.pricing import nano_to_usd_str
from codegateway.domain.records import UsageRecord
from codegateway.domain.tiers import next_tier
from codegateway.errors import AuthenticationFailed, GatewayError, NotFound
from codegateway.proxy.runtime import Gateway
from codegateway.store import DashboardSession
from codegateway.web.dashboard_html import copy_block, csrf_field, e, linked_text, new_key_panel, notice, page, table
from codegateway.web.dashboard_session import check_session_csrf, current_session
from codegateway.web.dashboard_signin import SECURITY_HEADERS, form_fields, html, redirect
from codegateway.web.signup import public_base_url

# The Logs and Sessions pages read the newest records of the account, at most this many.
RECENT_RECORDS = 1000
LOG_ROWS_SHOWN = 200

Page = Callable[[Request, Gateway, DashboardSession], Awaitable[Response]]


def signed_in(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            return redirect("/dashboard")
        return await handler(request, request.app.state.gateway, session)

    return guarded


async def _keys_page(gateway: Gateway, session: DashboardSession, extra: str = "", status: int = 200) -> Response:
    records = await asyncio.to_thread(gateway.store.api_keys.list_for_account, session.account_id)
    # The request path does not write last_used_at (a write per request); the usage log knows.
    recent = await asyncio.to_thread(gateway.store.usage.requests, account_id=session.account_id, limit=RECENT_RECORDS)
    last_use = last_use_by_key(recent.records)
    rows = []
    for record in records:
        actions = "revoked " + e(record.revoked_at)
        if not record.is_revoked:
            target = e(record.name or record.key_id)
            actions = "".join(
                f'<form method="post" action="/dashboard/keys/{e(record.key_id)}/{action}">'
                f"{csrf_field(session.csrf_token)}"
                f'<button type="submit" aria-label="{label} key {target}">{label}</button></form> '
                for action, label in (("rotate", "Rotate"), ("revoke", "Revoke"))
            )
        rows.append(
            [
                e(record.name),
                f"<code>sk-cg-{e(record.key_id)}_...</code>",
                e(record.created_at),
                e(last_use.get(record.key_id) or record.last_used_at or "never"),
                actions,
            ]
        )
    create = (
        f'<form method="post" action="/dashboard/keys">{csrf_field(session.csrf_token)}'
        '<label for="key-name">New key name</label> <input id="key-name" name="name" maxlength="100" '
        'placeholder="laptop"> <button type="submit">Create key</button></form>'
    )
    body = extra + create + table(["Name", "Key", "Created", "Last used", "Actions"], rows, "Your API keys")
    return html(page("API keys", body, active="keys", csrf=session.csrf_token), status)


@signed_in
async def keys(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    return await _keys_page(gateway, session)


@signed_in
async def create_key(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    fields = await form_fields(request)
    check_session_csrf(session, fields.get("csrf"))
    try:
        issued = await asyncio.to_thread(
            issue_self_service_key, gateway.store, gateway.settings, session.account_id, name=fields.get("name", "")
        )
    except GatewayError as error:
        return await _keys_page(gateway, session, notice(error.message, error=True), error.status)
    return await _keys_page(gateway, session, new_key_panel(issued.plaintext, public_base_url(request, gateway)), 201)


@signed_in
async def key_action(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    fields = await form_fields(request)
    check_session_csrf(session, fields.get("csrf"))
    key_id, action = request.path_params["key_id"], request.path_params["action"]
    if action not in {"revoke", "rotate"}:
        raise NotFound(f"No route for {request.method} {request.url.path}.")
    try:
        if action == "revoke":
            revoked = await asyncio.to_thread(revoke, gateway.store, key_id, account_id=session.account_id)
            extra = notice(f"Key {revoked.name or revoked.key_id} is revoked: it is refused from now on.")
        else:
            rotated = await asyncio.to_thread(
                rotate_key, gateway.store, gateway.settings, key_id, account_id=session.account_id
            )
            extra = new_key_panel(rotated.issued.plaintext, public_base_url(request, gateway), "The replacement key")
    except GatewayError as error:
        return await _keys_page(gateway, session, notice(error.message, error=True), error.status)
    return await _keys_page(gateway, session, extra)


@signed_in
async def balance(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    account = await asyncio.to_thread(gateway.store.accounts.get, session.account_id)
    if account is None:
        raise AuthenticationFailed()
    view = account_view(account, gateway.settings.tiers)
    upcoming = next_tier(account.spend_90d_nano, gateway.settings.tiers)
    to_next = (
        f"{nano_to_usd_str(upcoming.min_spend_nano - account.spend_90d_nano)} USD more spend in 90 days reaches "
        f"{upcoming.name} (markup {upcoming.markup_text}x)"
        if upcoming
        else "You are on the lowest markup."
    )
    facts = [
        ("Balance", f"{view['balance_usd']} USD"),
        ("Held by requests in flight", f"{view['held_usd']} USD"),
        ("Markup", f"{view['markup']}x"),
        ("Tier", view["tier"]),
        ("90-day spend", f"{view['spend_90d_usd']} USD"),
        ("Next tier", to_next),
        ("Account", view["id"]),
        ("Email", view["email"]),
    ]
    body = "<dl>" + "".join(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in facts) + "</dl>"
    body += f'<h2>Top up</h2><p class="topup">{linked_text(gateway.settings.topup_text)}</p>'
    return html(page("Balance", body, active="balance", csrf=session.csrf_token))


async def _filtered_records(request: Request, gateway: Gateway, session: DashboardSession) -> list[UsageRecord]:
    params = request.query_params
    page_ = await asyncio.to_thread(
        gateway.store.usage.requests,
        account_id=session.account_id,
        since=parse_time_bound("since", params.get("since")),
        until=parse_time_bound("until", params.get("until")),
        limit=RECENT_RECORDS,
    )
    key, session_id = params.get("key", "").strip(), params.get("session", "").strip()
    return [
        record
        for record in page_.records
        if (not key or record.key_id == key) and (not session_id or record.session_id == session_id)
    ]


@signed_in
async def logs(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    params = request.query_params
    try:
        records = await _filtered_records(request, gateway, session)
    except GatewayError as error:
        records, problem = [], notice(error.message, error=True)
    else:
        problem = ""
    filters = (
        '<form method="get" action="/dashboard/logs" class="filters">'
        + "".join(
            f'<label for="f-{name}">{label}</label> '
            f'<input id="f-{name}" name="{name}" value="{e(params.get(name, ""))}" placeholder="{hint}"> '
            for name, label, hint in (
                ("key", "Key id", ""),
                ("session", "Session", ""),
                ("since", "From", "2026-11-01"),
                ("until", "To", "2026-11-30"),
            )
        )
        + '<button type="submit">Filter</button></form>'
    )
    csv_link = f'<p><a href="/dashboard/logs.csv?{e(request.url.query)}">Download CSV</a></p>'
    rows = [
        [
            e(r.created_at),
            e(r.model),
            f"<code>{e(r.key_id)}</code>",
            e(r.session_id or ""),
            e(r.input_tokens),
            e(r.output_tokens),
            e(r.cache_read_input_tokens),
            e(nano_to_usd_str(r.billed_nano)),
            e(r.status),
            e(r.duration_ms),
        ]
        for r in records[:LOG_ROWS_SHOWN]
    ]
    headers = ["Time", "Model", "Key", "Session", "Input", "Output", "Cache read", "Cost USD", "Status", "ms"]
    body = (
        problem
        + "<p>Metadata only: prompts and answers are never kept.</p>"
        + filters
        + csv_link
        + table(headers, rows, f"Requests, newest first ({len(rows)} shown)")
    )
    return html(page("Logs", body, active="logs", csrf=session.csrf_token))


@signed_in
async def logs_csv(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    records = await _filtered_records(request, gateway, session)
    return Response(
        usage_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "content-disposition": 'attachment; filename="codegateway-usage.csv"'},
    )


@signed_in
async def sessions(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    records = await _filtered_records(request, gateway, session)
    headers = ["Session", "Requests", "Cost USD", "First request", "Last request"]
    per_session = [
        [
            f'<a href="/dashboard/logs?session={e(c.session_id)}">{e(c.session_id)}</a>',
            e(c.requests),
            e(nano_to_usd_str(c.billed_nano)),
            e(c.first_at),
            e(c.last_at),
        ]
        for c in cost_by_session(records)
    ]
    per_agent = [
        [e(c.session_id), e(c.agent_id), e(c.requests), e(nano_to_usd_str(c.billed_nano)), e(c.last_at)]
        for c in cost_by_session(records, by_agent=True)
    ]
    body = (
        "<p>Cost per Claude Code session (x-claude-code-session-id), costliest first.</p>"
        + table(headers, per_session, "Sessions")
        + table(
            ["Session", "Subagent", "Requests", "Cost USD", "Last request"],
            per_agent,
            "Per subagent (x-claude-code-agent-id)",
        )
    )
    return html(page("Sessions", body, active="sessions", csrf=session.csrf_token))


@signed_in
async def setup(request: Request, gateway: Gateway, session: DashboardSession) -> Response:
    url = public_base_url(request, gateway)
    body = (
        "<ol>"
        "<li><strong>Sign up</strong> with your email: done, with a starter credit.</li>"
        '<li><strong>Create a key</strong> on the <a href="/dashboard/keys">Keys</a> page (shown once).</li>'
        "<li><strong>Set the two variables</strong> in your shell:"
        + copy_block("setup-exports", f"export ANTHROPIC_BASE_URL={url}\nexport ANTHROPIC_API_KEY=sk-cg-...", "lines")
        + "</li><li><strong>Verify</strong> with one request:"
        + copy_block("setup-check", 'claude --print "Say hello"', "command")
        + "</li></ol>"
    )
    return html(page("Set up Claude Code", body, active="setup", csrf=session.csrf_token))
