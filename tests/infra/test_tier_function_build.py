"""The tier function as `sam build` packs it: its handler imports from the built package layer alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.infra.conftest import Build

pytestmark = pytest.mark.sam


def test_tier_handler_imports_from_the_built_package_layer_alone(sam_build: Build) -> None:
    """What Lambda does at init: /opt/python (the layers) then the function code. The dependency layer
    is aarch64, so this machine's own copies of the dependencies stand in."""
    layer = sam_build.artifact("CodeGatewayLayer") / "python"
    function = sam_build.artifact("TiersFunction")
    probe = (
        "import sys, datetime, handler, codegateway;"
        f"assert codegateway.__file__.startswith({str(layer)!r}), codegateway.__file__;"
        "now = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC);"
        "assert str(handler.scheduled_day({'scheduled_time': '2026-11-24T23:00:00Z'}, now)) == '2026-11-24';"
        "leaked = sorted(m for m in sys.modules if m.startswith(('codegateway.cli', 'codegateway.dev')));"
        "assert not leaked, leaked"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=function,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(layer), str(function)])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
