"""cgw keys create|list|revoke|rotate: keys of any account. A key's plaintext is printed once, when it
is made, and never again."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from codegateway.accounts.keys import issue_key, list_keys, revoke, rotate_key
from codegateway.accounts.views import key_view, listing, new_key_view, rotation_view
from codegateway.cli.context import Admin, admin_command
from codegateway.cli.output import FormatOption, OutputFormat, note, print_json, print_listing, print_record

keys_app = typer.Typer(help="API keys of any account: create, list, revoke, rotate.", no_args_is_help=True)

KEY_COLUMNS = ("id", "name", "status", "rpm_limit", "created_at", "revoked_at")
KeyId = Annotated[str, typer.Argument(help="The key's id (the 16 hex characters after sk-cg-).")]


def _show_new_key(view: dict[str, Any]) -> None:
    print_record("New key", view, ("id", "account_id", "name", "rpm_limit", "created_at"))
    note("The key is shown this once; it is stored nowhere. Copy it now:")
    typer.echo(view["key"])


@keys_app.command()
@admin_command
def create(
    admin: Admin,
    account_id: Annotated[str, typer.Argument(help="The account's id (acct_...).")],
    name: Annotated[str, typer.Option(help="What the key is for (laptop, ci...).")] = "",
    rpm_limit: Annotated[
        int | None, typer.Option(min=0, help="Requests per minute (0: unlimited; default: the gateway's).")
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Create a key for an account; prints the key once."""
    issued = issue_key(admin.store, admin.settings, account_id, name=name, rpm_limit=rpm_limit)
    view = new_key_view(issued.record, issued.plaintext)
    if output is OutputFormat.json:
        print_json(view)
    else:
        _show_new_key(view)


@keys_app.command("list")
@admin_command
def list_(
    admin: Admin,
    account_id: Annotated[str, typer.Argument(help="The account's id (acct_...).")],
    output: FormatOption = OutputFormat.table,
) -> None:
    """An account's keys, revoked ones included (never a secret or a hash)."""
    views = [key_view(record) for record in list_keys(admin.store, account_id)]
    print_listing(f"Keys of {account_id}", listing(views), KEY_COLUMNS, output)


@keys_app.command("revoke")
@admin_command
def revoke_(admin: Admin, key_id: KeyId, output: FormatOption = OutputFormat.table) -> None:
    """Revoke a key: every gateway instance refuses it within a second."""
    view = key_view(revoke(admin.store, key_id))
    if output is OutputFormat.json:
        print_json(view)
    else:
        print_record(f"Key {key_id}", view)


@keys_app.command()
@admin_command
def rotate(admin: Admin, key_id: KeyId, output: FormatOption = OutputFormat.table) -> None:
    """Replace a key: a new key with the same name and RPM cap, the old one revoked at once."""
    rotated = rotate_key(admin.store, admin.settings, key_id)
    view = rotation_view(rotated.revoked, rotated.issued.record, rotated.issued.plaintext)
    if output is OutputFormat.json:
        print_json(view)
        return
    print_record(f"Revoked {key_id}", view["revoked"], ("id", "status", "revoked_at"))
    _show_new_key(view["issued"])
