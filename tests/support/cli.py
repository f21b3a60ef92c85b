"""Run `cgw` admin commands in-process (typer's CliRunner) against the local stack's DynamoDB."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner, Result

from codegateway.cli import app


@dataclass
class Cgw:
    dynamodb_endpoint: str

    def run(self, *args: str) -> Result:
        # The endpoint the way an admin's shell would give it; table names are the stack's defaults.
        return CliRunner().invoke(app, list(args), env={"CGW_DYNAMODB_ENDPOINT": self.dynamodb_endpoint})

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, f"cgw {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json").stdout)

    def fails(self, exit_code: int, *args: str) -> str:
        """Run a command that must fail with `exit_code`; returns its stderr (stdout must be empty)."""
        result = self.run(*args)
        assert result.exit_code == exit_code, f"cgw {' '.join(args)} -> {result.exit_code}\n{result.output}"
        assert result.stdout == ""
        return result.stderr
