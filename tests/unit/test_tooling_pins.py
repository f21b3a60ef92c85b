"""The pre-commit hooks run the tool versions `make lint` runs (the pins in pyproject.toml)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dev_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {}
    for requirement in project["project"]["optional-dependencies"]["dev"]:
        name, version = re.split(r"==", requirement.split(";")[0].strip(), maxsplit=1)
        pins[name.split("[")[0].lower()] = version
    return pins


def test_pre_commit_runs_ruff_at_the_pinned_version_and_the_import_contracts() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    ruff_pin = f"ruff=={_dev_pins()['ruff']}"
    for hook_id in ("ruff-check", "ruff-format"):
        assert hooks[hook_id]["additional_dependencies"] == [ruff_pin], hook_id
    assert "ruff format --check" in hooks["ruff-format"]["entry"]
    assert hooks["import-contracts"]["entry"].endswith("lint-imports")
    assert hooks["import-contracts"]["pass_filenames"] is False
