"""`make run` (cgw dev) and cgw serve on a port something else holds: one line saying which port and
how to pick another, not OSError's traceback, and nothing started."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from codegateway.cli import app


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("command", ["dev", "serve"])
def test_a_busy_port_is_named_with_how_to_choose_another(command: str, busy_port: int) -> None:
    result = CliRunner().invoke(app, [command, "--port", str(busy_port)])
    assert result.exit_code == 1
    assert f"Error: port {busy_port} on 127.0.0.1 is in use" in result.stderr
    assert "make run PORT=8081" in result.stderr
    assert "Traceback" not in result.output
