"""cgw accounts create|get|list|suspend|resume|overdraft."""

from __future__ import annotations

from typing import Annotated

import typer

from codegateway.accounts.accounts import (
    create_account,
    get_account,
    list_accounts,
    resume_account,
    set_overdraft_limit,
    suspend_account,
)
from codegateway.accounts.views import account_view, listing
from codegateway.cli.context import Admin, admin_command
from codegateway.cli.output import FormatOption, OutputFormat, print_json, print_listing, print_record
from codegateway.domain.money import parse_usd
from codegateway.domain.records import Account

accounts_app = typer.Typer(
    help="Accounts: open, show, list, suspend, resume, set the overdraft limit.", no_args_is_help=True
)

ACCOUNT_COLUMNS = ("id", "email", "name", "status", "balance_usd", "available_usd", "tier", "markup", "created_at")
AccountId = Annotated[str, typer.Argument(help="The account's id (acct_...).")]


def _show(admin: Admin, account: Account, output: OutputFormat, title: str) -> None:
    view = account_view(account, admin.settings.tiers)
    if output is OutputFormat.json:
        print_json(view)
    else:
        print_record(title, view)


@accounts_app.command()
@admin_command
def create(
    admin: Admin,
    email: Annotated[str, typer.Argument(help="The account holder's email (one account per email).")],
    name: Annotated[str, typer.Option(help="A name to show beside the email.")] = "",
    output: FormatOption = OutputFormat.table,
) -> None:
    """Open an account holding the starter credit ($2.00)."""
    _show(admin, create_account(admin.store, admin.settings, email, name), output, "New account")


@accounts_app.command()
@admin_command
def get(admin: Admin, account_id: AccountId, output: FormatOption = OutputFormat.table) -> None:
    """Show an account: status, balance, tier."""
    _show(admin, get_account(admin.store, account_id), output, f"Account {account_id}")


@accounts_app.command("list")
@admin_command
def list_(
    admin: Admin,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Accounts per page.")] = 100,
    page: Annotated[str | None, typer.Option(help="The next_page cursor the page before ended with.")] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """List accounts, a page at a time."""
    found = list_accounts(admin.store, limit=limit, cursor=page)
    views = [account_view(account, admin.settings.tiers) for account in found.accounts]
    print_listing("Accounts", listing(views, found.next_cursor), ACCOUNT_COLUMNS, output)


@accounts_app.command()
@admin_command
def suspend(admin: Admin, account_id: AccountId, output: FormatOption = OutputFormat.table) -> None:
    """Suspend an account: its keys get 403 within a second; balance and keys are kept."""
    _show(admin, suspend_account(admin.store, account_id), output, f"Account {account_id}")


@accounts_app.command()
@admin_command
def resume(admin: Admin, account_id: AccountId, output: FormatOption = OutputFormat.table) -> None:
    """Let a suspended account's keys work again."""
    _show(admin, resume_account(admin.store, account_id), output, f"Account {account_id}")


@accounts_app.command()
@admin_command
def overdraft(
    admin: Admin,
    account_id: AccountId,
    usd: Annotated[
        str, typer.Argument(help='How far below zero the balance may go while streams finish, e.g. "0.50".')
    ],
    output: FormatOption = OutputFormat.table,
) -> None:
    """Set the account's overdraft limit (default $0.50; 0 stops every stream at zero)."""
    limit = parse_usd(usd, "usd", allow_zero=True)
    _show(admin, set_overdraft_limit(admin.store, account_id, limit), output, f"Account {account_id}")
