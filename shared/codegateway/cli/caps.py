"""cgw caps set|list|remove: spend caps of a key or an account, by day, week or month."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from codegateway.accounts.caps import cap_uses, remove_account_cap, remove_key_cap, set_account_cap, set_key_cap
from codegateway.accounts.views import cap_use_view, listing
from codegateway.cli.context import Admin, admin_command
from codegateway.cli.output import FormatOption, OutputFormat, print_listing
from codegateway.domain.money import parse_usd
from codegateway.errors import InvalidRequest

caps_app = typer.Typer(
    help="Spend caps of keys and accounts (day, week from Monday, month; UTC).", no_args_is_help=True
)

CAP_COLUMNS = ("scope", "id", "period", "limit_usd", "used_usd", "resets_at")


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"


KeyOption = Annotated[str | None, typer.Option("--key", help="The key's id (16 hex characters).")]
AccountOption = Annotated[str | None, typer.Option("--account", help="The account's id (acct_...).")]
PeriodOption = Annotated[Period, typer.Option("--period", help="day, week (from Monday) or month (from the 1st).")]


def _one_owner(key: str | None, account: str | None) -> None:
    if (key is None) == (account is None):
        raise InvalidRequest("give exactly one of --key and --account.")


def _print(admin: Admin, account_id: str, output: OutputFormat) -> None:
    views = [cap_use_view(use) for use in cap_uses(admin.store, account_id)]
    print_listing("Spend caps", listing(views), CAP_COLUMNS, output)


@caps_app.command("set")
@admin_command
def set_(
    admin: Admin,
    period: PeriodOption,
    usd: Annotated[str, typer.Option("--usd", help='The cap in US dollars, e.g. "25" or "0.05".')],
    key: KeyOption = None,
    account: AccountOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Cap a key's or an account's spend per period (replacing that period's cap)."""
    _one_owner(key, account)
    limit = parse_usd(usd, "usd")
    if key is not None:
        account = set_key_cap(admin.store, key, period.value, limit)
    else:
        assert account is not None
        set_account_cap(admin.store, account, period.value, limit)
    _print(admin, account, output)


@caps_app.command("remove")
@admin_command
def remove(
    admin: Admin,
    period: PeriodOption,
    key: KeyOption = None,
    account: AccountOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Remove a key's or an account's cap for a period."""
    _one_owner(key, account)
    if key is not None:
        account = remove_key_cap(admin.store, key, period.value)
    else:
        assert account is not None
        remove_account_cap(admin.store, account, period.value)
    _print(admin, account, output)


@caps_app.command("list")
@admin_command
def list_(
    admin: Admin,
    account: Annotated[str, typer.Option("--account", help="The account's id: its caps and its keys' caps.")],
    output: FormatOption = OutputFormat.table,
) -> None:
    """Every cap of an account and its keys, with the use this period and when it resets."""
    _print(admin, account, output)
