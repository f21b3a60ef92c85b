"""`sam validate --lint` and `sam build` pass on this machine, without Docker or AWS credentials,
and the built layers hold what Lambda (arm64, Python 3.13) needs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import Build, run_sam

pytestmark = pytest.mark.sam

# Lambda: 250 MB unzipped for a function and all its layers. Keep room for the function code.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
ELF_MACHINE_AARCH64 = 183
PYC_FLAG_HASH_BASED = 0b01


def _tree_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF shared object"
    return int.from_bytes(header[18:20], "little")


def test_template_passes_sam_validate_lint_without_credentials(sam_cli: Path) -> None:
    result = run_sam("validate", "--lint", "--region", "us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_template_passes_lint_outside_us_east_1_where_the_web_acl_is_not_created(sam_cli: Path) -> None:
    result = run_sam("validate", "--lint", "--region", "eu-west-1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_build_succeeds_without_docker(sam_build: Build) -> None:
    assert "Build Succeeded" in sam_build.result.stdout
    for logical_id in ("ProxyFunction", "AdminFunction", "TiersFunction", "DependenciesLayer", "CodeGatewayLayer"):
        assert sam_build.artifact(logical_id).is_dir(), logical_id


def test_package_layer_ships_the_pricing_catalog_but_not_the_cli_local_stack_or_doctor(sam_build: Build) -> None:
    package = sam_build.artifact("CodeGatewayLayer") / "python" / "codegateway"
    assert (package / "domain" / "pricing_catalog.json").is_file()
    assert (package / "settings.py").is_file()
    assert (package / "web" / "app.py").is_file()
    # The dashboard's own script and style: served by the proxy, no CDN.
    assert (package / "web" / "static" / "dashboard.js").is_file()
    assert (package / "web" / "static" / "dashboard.css").is_file()
    assert not (package / "cli").exists()
    assert not (package / "dev").exists()
    assert not (package / "doctor").exists()


def test_dependency_layer_holds_aarch64_wheels_for_python_3_13(sam_build: Build) -> None:
    site = sam_build.artifact("DependenciesLayer") / "python"
    assert (site / "bcrypt").is_dir()
    extensions = list(site.rglob("*.so"))
    assert any(path.parent.name == "bcrypt" for path in extensions)
    # Every compiled extension must load on Graviton: one x86-64 .so would fail only in Lambda.
    wrong = [path.relative_to(site) for path in extensions if _elf_machine(path) != ELF_MACHINE_AARCH64]
    assert wrong == []
    versioned = [path.name for path in extensions if ".cpython-" in path.name]
    assert versioned and all("cpython-313-aarch64" in name for name in versioned)
    for package in ("starlette", "uvicorn", "httpx", "orjson", "aws_lambda_powertools", "pydantic_settings"):
        assert (site / package).is_dir(), package
    # The CLI's, the tests' and (boto3, botocore) what the python3.13 runtime already includes.
    for not_shipped in ("typer", "rich", "yaml", "moto", "pytest", "boto3", "botocore", "s3transfer"):
        assert not (site / not_shipped).exists(), not_shipped
    assert not (site / "bin").exists()


def test_layer_bytecode_is_hash_based_so_sams_1980_zip_dates_do_not_invalidate_it(sam_build: Build) -> None:
    for layer, sample in (("DependenciesLayer", "starlette"), ("CodeGatewayLayer", "codegateway")):
        pycs = list((sam_build.artifact(layer) / "python" / sample).rglob("*.cpython-313.pyc"))
        assert pycs, f"{layer}: no Python 3.13 bytecode"
        flags = int.from_bytes(pycs[0].read_bytes()[4:8], "little")
        assert flags & PYC_FLAG_HASH_BASED, f"{pycs[0]} is timestamp-based"


def test_function_and_layers_fit_lambdas_unzipped_size_limit(sam_build: Build) -> None:
    total = sum(
        _tree_bytes(sam_build.artifact(logical_id))
        for logical_id in ("ProxyFunction", "DependenciesLayer", "CodeGatewayLayer")
    )
    # The Web Adapter layer adds a few MB on top.
    assert total < LAMBDA_UNZIPPED_LIMIT_BYTES - 20 * 1024 * 1024


def test_proxy_entry_script_is_executable(sam_build: Build) -> None:
    mode = (sam_build.artifact("ProxyFunction") / "run.sh").stat().st_mode
    assert mode & stat.S_IXUSR and mode & stat.S_IXOTH


def test_proxy_app_imports_from_the_built_package_layer_alone(sam_build: Build) -> None:
    """What Lambda does at init: /opt/python (the layers) then the function code, and build the app.
    The dependency layer is aarch64, so this machine's own copies of the dependencies stand in."""
    layer = sam_build.artifact("CodeGatewayLayer") / "python"
    probe = (
        "import sys, app, codegateway;"
        f"assert codegateway.__file__.startswith({str(layer)!r}), codegateway.__file__;"
        "app.create_app();"
        "unshipped = ('codegateway.cli', 'codegateway.dev', 'codegateway.doctor');"
        "leaked = sorted(m for m in sys.modules if m.startswith(unshipped));"
        "assert not leaked, leaked"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(layer), str(sam_build.artifact("ProxyFunction"))])}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=sam_build.artifact("ProxyFunction"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
