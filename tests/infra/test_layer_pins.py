"""The Lambda dependency layer installs exactly the runtime pins of pyproject.toml (no SAM CLI needed)."""

from __future__ import annotations

import re
import tomllib

from tests.infra.conftest import REPO

# Runtime dependencies only the CLI (cgw) uses: Lambda does not import them.
CLI_ONLY = {"typer", "rich"}


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


def test_layer_pins_equal_pyprojects_for_every_package_they_share() -> None:
    pyproject, layer = _pyproject_pins(), _layer_pins()
    assert set(layer) <= set(pyproject), "the layer installs a package pyproject.toml does not pin"
    assert {name: layer[name] for name in layer} == {name: pyproject[name] for name in layer}


def test_layer_has_every_runtime_dependency_except_the_clis() -> None:
    assert set(_layer_pins()) == set(_pyproject_pins()) - CLI_ONLY
