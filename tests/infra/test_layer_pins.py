"""The Lambda dependency layer installs the runtime pins of pyproject.toml that Lambda needs and does
not already have, each at pyproject's version (no SAM CLI needed)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from tests.infra.conftest import REPO

# Runtime dependencies only the CLI (cgw) and the local stack use: Lambda does not import them.
CLI_ONLY = {"typer", "rich", "pyyaml"}
# Included in the python3.13 Lambda runtime (AWS Lambda docs, "Runtime-included SDK versions").
RUNTIME_PROVIDED = {"boto3", "botocore"}
# Package code that is not shipped (layers/codegateway/Makefile removes it).
UNSHIPPED = {"cli", "dev", "doctor"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for line in requirements:
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not requirement:
            continue
        name, separator, version = requirement.partition("==")
        assert separator, f"not pinned with ==: {line!r}"
        pins[_normalise(name)] = version.strip()
    return pins


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return _pins(project["dependencies"])


def _layer_pins() -> dict[str, str]:
    return _pins((REPO / "layers" / "deps" / "requirements.txt").read_text().splitlines())


def _shipped_sources() -> list[Path]:
    package = REPO / "shared" / "codegateway"
    shipped = [path for path in package.rglob("*.py") if path.relative_to(package).parts[0] not in UNSHIPPED]
    return shipped + list((REPO / "functions").rglob("*.py"))


def _top_level_imports(source: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_layer_pins_equal_pyprojects_for_every_package_they_share() -> None:
    pyproject, layer = _pyproject_pins(), _layer_pins()
    assert set(layer) <= set(pyproject), "the layer installs a package pyproject.toml does not pin"
    assert {name: layer[name] for name in layer} == {name: pyproject[name] for name in layer}


def test_layer_has_every_runtime_dependency_except_the_clis_and_the_runtimes_own() -> None:
    pyproject = set(_pyproject_pins())
    # The names left out are real runtime pins: a renamed or dropped one must be looked at again.
    assert pyproject >= CLI_ONLY | RUNTIME_PROVIDED
    assert set(_layer_pins()) == pyproject - CLI_ONLY - RUNTIME_PROVIDED


def test_every_package_the_shipped_code_imports_is_in_the_layer_or_the_runtime() -> None:
    distributions = importlib.metadata.packages_distributions()
    available = set(_layer_pins()) | RUNTIME_PROVIDED | {"codegateway"}
    missing = {}
    for source in _shipped_sources():
        for name in _top_level_imports(source) - set(sys.stdlib_module_names):
            provided_by = {_normalise(dist) for dist in distributions.get(name, [name])}
            if not provided_by & available:
                missing[name] = str(source.relative_to(REPO))
    assert missing == {}, "imported by code Lambda runs, but neither the layer nor the runtime has it"
