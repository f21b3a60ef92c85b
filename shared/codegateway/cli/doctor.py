"""cgw doctor: the troubleshooting guide as one command (checks in codegateway.doctor; printing here).

One line per check as it finishes (the idle check takes a minute), the fix indented under anything that
did not pass. Words, not colours alone, carry the status: NO_COLOR, pipes and narrow terminals lose nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codegateway.doctor.checks_gateway import IDLE_S
from codegateway.doctor.report import Check, Status, as_json, exit_code

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {Status.passed: "green", Status.warn: "yellow", Status.fail: "bold red"}
_NAME_WIDTH = 18
# Below this many columns a check's text goes under its name instead of beside it.
_NARROW_COLUMNS = 60


def print_check(console: Console, check: Check) -> None:
    from rich.table import Table
    from rich.text import Text

    status = Text(check.status.value, style=_STYLE[check.status])
    detail = Text(check.value)
    if check.fix:
        detail.append("\nfix: ", style="bold")
        detail.append(check.fix)
    if console.width < _NARROW_COLUMNS:
        from rich.padding import Padding

        console.print(Text.assemble(status, " ", check.name))
        console.print(Padding(detail, (0, 0, 0, 2)))
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=4, no_wrap=True)
    grid.add_column(width=_NAME_WIDTH, no_wrap=True, overflow="ellipsis")
    grid.add_column(overflow="fold")
    grid.add_row(status, check.name, detail)
    console.print(grid)


def summary(checks: list[Check], idle_run: bool) -> str:
    counts = {status: sum(check.status is status for check in checks) for status in Status}
    warnings = f"{counts[Status.warn]} warning{'' if counts[Status.warn] == 1 else 's'}"
    text = f"{counts[Status.passed]} passed, {warnings}, {counts[Status.fail]} failed."
    if not idle_run and counts[Status.fail] == 0:
        text += f" --idle adds the {IDLE_S:g} s idle-connection check."
    return text


def doctor(
    base_url: Annotated[
        str | None, typer.Option(help="The gateway's URL (default: ANTHROPIC_BASE_URL).", show_default=False)
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="The key (default: ANTHROPIC_API_KEY, else ANTHROPIC_AUTH_TOKEN).", show_default=False),
    ] = None,
    idle: Annotated[
        bool,
        typer.Option("--idle", help=f"Also hold a stream idle for {IDLE_S:g} s (pings only), as middleboxes see it."),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help='Print {"checks": [...]} for scripts.')] = False,
    idle_seconds: Annotated[float, typer.Option(min=0, max=120, hidden=True)] = IDLE_S,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each connection and answer.", min=0.1)] = 10.0,
) -> None:
    """Check everything between Claude Code and the gateway; print each fix. Exit 1 when a check fails."""
    from rich.console import Console

    from codegateway.doctor.run import DoctorOptions, run_doctor

    console = Console(highlight=False, soft_wrap=False)
    options = DoctorOptions(
        environ=dict(os.environ),
        home=Path.home(),
        base_url=base_url,
        key=key,
        idle=idle,
        idle_s=idle_seconds,
        timeout_s=timeout,
    )
    if json_output:
        checks = run_doctor(options)
        typer.echo(json.dumps(as_json(checks), indent=2))
    else:
        checks = run_doctor(options, on_check=lambda check: print_check(console, check))
        console.print(summary(checks, idle))
    raise typer.Exit(exit_code(checks))


def register_doctor_commands(app: typer.Typer) -> None:
    app.command()(doctor)
