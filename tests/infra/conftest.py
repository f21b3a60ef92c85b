"""SAM fixtures, built once per session: the SAM CLI, `sam build` output, the synthesized template.

Skipped (with the reason) only when the SAM CLI is missing; `make install` / `make test` install it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SAM_VENV = REPO / ".venv-sam" / "bin"
SAM = SAM_VENV / "sam"
TEMPLATE = REPO / "template.yaml"


def sam_env() -> dict[str, str]:
    # sam build resolves python3.13 (the runtime) and the layer Makefiles' python3 through PATH.
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }


def run_sam(*args: str, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SAM), *args], cwd=REPO, env=sam_env(), capture_output=True, text=True, timeout=timeout_s, check=False
    )


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    if not SAM.exists():
        pytest.skip(f"SAM CLI not installed at {SAM.relative_to(REPO)}: run `make install-sam` (make test does)")
    return SAM


@dataclass(frozen=True)
class Build:
    directory: Path
    result: subprocess.CompletedProcess[str]

    def artifact(self, logical_id: str) -> Path:
        return self.directory / logical_id


@pytest.fixture(scope="session")
def sam_build(sam_cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """`sam build` (no Docker) of the repo's template into a temporary directory, once per session."""
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = run_sam("build", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir), "--no-cached")
    assert result.returncode == 0, f"sam build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return Build(directory=build_dir, result=result)


@pytest.fixture(scope="session")
def synthesized(sam_build: Build) -> dict[str, Any]:
    """The CloudFormation SAM makes of the built template (AWS::Serverless::* expanded)."""
    result = subprocess.run(
        [
            str(SAM_VENV / "python"),
            str(Path(__file__).with_name("synthesize.py")),
            str(sam_build.directory / "template.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"SAM transform failed:\n{result.stderr[-4000:]}"
    template: dict[str, Any] = json.loads(result.stdout)
    return template


@pytest.fixture(scope="session")
def resources(synthesized: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = synthesized["Resources"]
    return resources


def of_type(resources: dict[str, dict[str, Any]], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in resources.items() if resource["Type"] == resource_type}
