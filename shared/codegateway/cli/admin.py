"""The admin verbs of `cgw`, straight against the DynamoDB tables with the admin's own AWS credentials."""

from __future__ import annotations

import typer

from codegateway.cli.accounts import accounts_app
from codegateway.cli.balance import register_balance_commands
from codegateway.cli.caps import caps_app
from codegateway.cli.keys import keys_app
from codegateway.cli.prices import register_prices_commands
from codegateway.cli.usage import register_usage_commands


def register_admin_commands(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(keys_app, name="keys")
    app.add_typer(caps_app, name="caps")
    register_balance_commands(app)
    register_usage_commands(app)
    register_prices_commands(app)
