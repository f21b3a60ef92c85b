"""What every admin command shares: where the tables are (a local endpoint, a stack's outputs, flags or
CGW_* variables), the store built from that on first use, and errors as a message plus an exit code.

`@admin_command` adds the connection options to a command and hands it an `Admin`.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from codegateway.errors import GatewayError, StoreUnavailable

if TYPE_CHECKING:
    from codegateway.settings import Settings
    from codegateway.store import Store

_PANEL = "Where the tables are"

# Exit codes a script can branch on (typer itself exits 2 for a bad option).
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_UNREACHABLE = 5
_EXIT_BY_STATUS = {400: EXIT_BAD_INPUT, 404: EXIT_NOT_FOUND, 409: EXIT_CONFLICT, 422: EXIT_BAD_INPUT}


@dataclass(frozen=True)
class Connection:
    endpoint_url: str | None = None
    stack_name: str | None = None
    region: str | None = None
    accounts_table: str | None = None
    api_keys_table: str | None = None
    usage_table: str | None = None
    rate_limits_table: str | None = None


class Admin:
    """Settings and store for one command, built when first needed (so `--help` touches nothing)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @cached_property
    def settings(self) -> Settings:
        from codegateway.settings import Settings

        c = self.connection
        overrides: dict[str, Any] = {}
        if c.endpoint_url:
            overrides["dynamodb_endpoint"] = c.endpoint_url
        if c.region:
            overrides["aws_region"] = c.region
        if c.stack_name:
            from codegateway.cli.deployment import table_names_from_stack

            overrides.update(table_names_from_stack(c.stack_name, c.region or Settings().aws_region))
        for field in ("accounts_table", "api_keys_table", "usage_table", "rate_limits_table"):
            if getattr(c, field):
                overrides[field] = getattr(c, field)
        return Settings(**overrides)

    @cached_property
    def store(self) -> Store:
        from codegateway.store import build_store

        return build_store(self.settings)

    @cached_property
    def actor(self) -> str:
        """Who the ledger says made a top-up: the caller's IAM ARN against AWS, the OS user locally."""
        if not self.settings.dynamodb_endpoint:
            from codegateway.cli.deployment import caller_arn

            arn = caller_arn(self.settings.aws_region)
            if arn:
                return arn
        return f"cli:{getpass.getuser()}"


_CONNECTION_OPTIONS: dict[str, Any] = {
    "endpoint_url": Annotated[
        str | None,
        typer.Option(
            envvar="CGW_DYNAMODB_ENDPOINT",
            help="DynamoDB endpoint, e.g. the local stack's http://127.0.0.1:PORT (default: AWS).",
            rich_help_panel=_PANEL,
        ),
    ],
    "stack_name": Annotated[
        str | None,
        typer.Option(
            envvar="CGW_STACK_NAME",
            help="Read the table names from this CloudFormation stack's outputs.",
            rich_help_panel=_PANEL,
        ),
    ],
    "region": Annotated[
        str | None,
        typer.Option(help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION).", rich_help_panel=_PANEL),
    ],
    **{
        f"{table}_table": Annotated[
            str | None,
            typer.Option(
                help=f"The {table.replace('_', ' ')} table's name (default: CGW_{table.upper()}_TABLE).",
                rich_help_panel=_PANEL,
            ),
        ]
        for table in ("accounts", "api_keys", "usage", "rate_limits")
    },
}


def admin_command(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` (whose first parameter is `admin: Admin`) the connection options, and turn its
    errors into one line on stderr and a non-zero exit code."""
    signature = inspect.signature(command, eval_str=True)
    own = [parameter for name, parameter in signature.parameters.items() if name != "admin"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
        for name, annotation in _CONNECTION_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(**options: Any) -> None:
        connection = Connection(**{name: options.pop(name) for name in _CONNECTION_OPTIONS})
        with reported_errors():
            command(Admin(connection), **options)

    run.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    run.__annotations__ = {parameter.name: parameter.annotation for parameter in [*own, *added]}
    return run


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    try:
        yield
    except StoreUnavailable as error:
        if error.message != StoreUnavailable.default_message:
            fail(error.message, EXIT_UNREACHABLE)
        cause = error.__cause__ or error.__context__
        detail = f" ({cause})" if cause else ""
        fail(
            f"cannot reach DynamoDB{detail}. Check --endpoint-url, --region and your AWS credentials.", EXIT_UNREACHABLE
        )
    except GatewayError as error:
        fail(error.message, _EXIT_BY_STATUS.get(error.status, EXIT_FAILED))
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        if "ResourceNotFoundException" in str(error):
            fail(f"{error}. Are the table names right (--stack-name, --*-table, CGW_*_TABLE)?", EXIT_FAILED)
        fail(f"{type(error).__name__}: {error}", EXIT_FAILED)


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)
