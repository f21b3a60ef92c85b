"""The dashboard's HTML: small string templates, every value escaped with html.escape. No script
or style inline (the Content-Security-Policy forbids both): one static JS and one CSS file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

_URL_RE = re.compile(r"https://[^\s<>\"']+")

NAV = (("keys", "Keys"), ("balance", "Balance"), ("logs", "Logs"), ("sessions", "Sessions"), ("setup", "Setup"))


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, active: str = "", csrf: str = "") -> str:
    nav = ""
    if csrf:
        links = "".join(
            f'<li><a href="/dashboard/{slug}"{" aria-current=page" if slug == active else ""}>{label}</a></li>'
            for slug, label in NAV
        )
        nav = (
            f'<nav aria-label="Dashboard"><ul>{links}</ul>'
            f'<form method="post" action="/dashboard/signout">{csrf_field(csrf)}'
            '<button type="submit">Sign out</button></form></nav>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · CodeGateway</title>"
        '<link rel="stylesheet" href="/dashboard/static/dashboard.css">'
        '<script src="/dashboard/static/dashboard.js" defer></script></head>'
        f'<body><header><p class="brand">CodeGateway</p>{nav}</header>'
        f'<main id="main"><h1>{e(title)}</h1>{body}</main></body></html>'
    )


def linked_text(text: str) -> str:
    """Escaped text whose https:// URLs are links (the operator's top-up text)."""
    parts, last = [], 0
    for match in _URL_RE.finditer(text):
        url = match.group(0)
        parts += [e(text[last : match.start()]), f'<a href="{e(url)}" rel="noopener noreferrer">{e(url)}</a>']
        last = match.end()
    return "".join([*parts, e(text[last:])])


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(token)}">'


def notice(text: str, *, error: bool = False) -> str:
    role = "alert" if error else "status"
    return f'<p class="notice{" error" if error else ""}" role="{role}">{e(text)}</p>' if text else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str) -> str:
    """Cells are HTML already (escape values with e())."""
    head = "".join(f'<th scope="col">{e(header)}</th>' for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}">Nothing yet.</td></tr>'
    return f"<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def copy_block(block_id: str, text: str, label: str) -> str:
    return (
        f'<div class="copy"><pre id="{e(block_id)}">{e(text)}</pre>'
        f'<button type="button" data-copy="{e(block_id)}">Copy {e(label)}</button></div>'
    )


def new_key_panel(plaintext: str, gateway_url: str, heading: str = "Your new key") -> str:
    exports = f"export ANTHROPIC_BASE_URL={gateway_url}\nexport ANTHROPIC_API_KEY={plaintext}"
    return (
        f'<section class="new-key" aria-labelledby="new-key-heading"><h2 id="new-key-heading">{e(heading)}</h2>'
        "<p>Shown once: copy it now. The gateway keeps only a hash of it.</p>"
        f"{copy_block('new-key', plaintext, 'key')}"
        "<p>Set these two variables in your shell, then run Claude Code:</p>"
        f"{copy_block('new-key-exports', exports, 'export lines')}</section>"
    )


def sign_in_page(
    csrf: str, message: str = "", error: bool = False, email: str = "", code_sent: bool = False, code: str = ""
) -> str:
    if code_sent:
        body = (
            notice(message, error=error)
            + '<form method="post" action="/dashboard/verify">'
            + csrf_field(csrf)
            + f'<input type="hidden" name="email" value="{e(email)}">'
            + f"<p>We sent a 6-digit code to <strong>{e(email)}</strong>. It is valid for 10 minutes.</p>"
            + '<label for="code">Code</label> <input id="code" name="code" inputmode="numeric" '
            'autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" ' + f'value="{e(code)}" required autofocus> '
            '<button type="submit">Continue</button></form>'
        )
        return page("Enter your code", body)
    body = (
        notice(message, error=error)
        + '<section aria-labelledby="by-email"><h2 id="by-email">Sign up or sign in by email</h2>'
        '<form method="post" action="/dashboard/code">'
        + csrf_field(csrf)
        + f'<label for="email">Email</label> <input id="email" name="email" type="email" value="{e(email)}" '
        'autocomplete="email" required autofocus> <button type="submit">Email me a code</button></form></section>'
        '<section aria-labelledby="by-key"><h2 id="by-key">Sign in with an API key</h2>'
        '<form method="post" action="/dashboard/signin-key">'
        + csrf_field(csrf)
        + '<label for="api_key">API key</label> <input id="api_key" name="api_key" type="password" '
        'autocomplete="off" placeholder="sk-cg-..." required> <button type="submit">Sign in</button></form></section>'
    )
    return page("Sign in", body)
