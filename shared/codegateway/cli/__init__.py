"""`cgw`: the local stack and the admin verbs."""

from __future__ import annotations

import typer

from codegateway.cli.admin import register_admin_commands
from codegateway.cli.dev import register_dev_commands
from codegateway.cli.tiers import register_tier_commands

app = typer.Typer(help="CodeGateway: local stack and administration.", no_args_is_help=True, add_completion=False)
register_dev_commands(app)
register_tier_commands(app)
register_admin_commands(app)


def main() -> None:
    app()
