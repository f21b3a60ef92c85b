"""cgw topup (credit an account once per idempotency key) and cgw ledger (an account's credits)."""

from __future__ import annotations

from typing import Annotated

import typer

from codegateway.accounts.accounts import credit_account, ledger_entries
from codegateway.accounts.views import account_view, listing, topup_view
from codegateway.cli.context import Admin, admin_command
from codegateway.cli.output import FormatOption, OutputFormat, note, print_json, print_listing, print_record
from codegateway.domain.money import parse_usd

TOPUP_COLUMNS = ("created_at", "amount_usd", "reason", "actor", "idempotency_key")


@admin_command
def topup(
    admin: Admin,
    account_id: Annotated[str, typer.Argument(help="The account's id (acct_...).")],
    amount_usd: Annotated[str, typer.Argument(help="US dollars, e.g. 25 or 12.50 (at most 9 decimals).")],
    idempotency_key: Annotated[
        str,
        typer.Option(help="Names this credit: running the command again with it changes nothing (safe to retry)."),
    ],
    reason: Annotated[str, typer.Option(help="Why (an invoice number...): it goes in the ledger.")],
    output: FormatOption = OutputFormat.table,
) -> None:
    """Credit an account's balance, once per idempotency key, with a ledger entry naming you."""
    credit = credit_account(
        admin.store,
        account_id,
        parse_usd(amount_usd, "AMOUNT_USD"),
        idempotency_key=idempotency_key,
        actor=admin.actor,
        reason=reason,
    )
    account = account_view(credit.account, admin.settings.tiers)
    if output is OutputFormat.json:
        print_json({"applied": credit.applied, "topup": topup_view(credit.entry), "account": account})
        return
    if not credit.applied:
        note(f"Idempotency key {idempotency_key} was used before: nothing changed. The earlier credit:")
    print_record("Top-up" if credit.applied else "Earlier top-up", topup_view(credit.entry))
    print_record(f"Account {account_id}", account, ("balance_usd", "available_usd", "status"))


@admin_command
def ledger(
    admin: Admin,
    account_id: Annotated[str, typer.Argument(help="The account's id (acct_...).")],
    output: FormatOption = OutputFormat.table,
) -> None:
    """An account's credits, newest first: who, when, how much, why."""
    entries = [topup_view(entry) for entry in ledger_entries(admin.store, account_id)]
    print_listing(f"Credits of {account_id}", listing(entries), TOPUP_COLUMNS, output)


def register_balance_commands(app: typer.Typer) -> None:
    app.command()(topup)
    app.command()(ledger)
