"""`cgw`: the local stack, the admin verbs and the doctor."""

from __future__ import annotations

import typer

from codegateway.cli.admin import register_admin_commands
from codegateway.cli.dev import register_dev_commands
from codegateway.cli.doctor import register_doctor_commands
from codegateway.cli.tiers import register_tier_commands

app = typer.Typer(help="CodeGateway: local stack and administration.", no_args_is_help=True, add_completion=False)
register_dev_commands(app)
register_tier_commands(app)
register_admin_commands(app)
register_doctor_commands(app)


def main() -> None:
    app()
