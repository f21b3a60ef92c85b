"""Writes docs/configuration.md from the Settings fields' descriptions (`make docs`).

`python -m codegateway.dev.config_doc [PATH]` writes the page; `--check` exits 1 when PATH differs from
what would be written. tests/unit/test_configuration_doc.py runs the same comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from codegateway.settings import Settings

DEFAULT_PATH = Path("docs/configuration.md")

HEADER = """\
<!-- Written by `make docs` (python -m codegateway.dev.config_doc) from the field descriptions in
     shared/codegateway/settings.py: edit those, not this page. -->
# Configuration

Every setting is an environment variable with the `CGW_` prefix, read once at start-up by
`shared/codegateway/settings.py` (pydantic-settings). Money is integer nano-USD (1 USD = 1,000,000,000),
durations are seconds (`_s`), markups are basis points (1.5x = 15000). Deployed, `template.yaml` sets the
variables each function needs; locally `cgw dev` sets its own.

| variable | default | meaning |
|---|---|---|
"""


def env_names(name: str, field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [f"CGW_{name.upper()}"]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def default_text(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return f"`{json.dumps(_plain(value), separators=(', ', ': '))}`"
    return f"`{value}`"


def render(settings: type[Settings] = Settings) -> str:
    rows = []
    for name, field in settings.model_fields.items():
        if not field.description:
            raise ValueError(f"Settings.{name} has no description")
        variables = " / ".join(f"`{variable}`" for variable in env_names(name, field))
        meaning = field.description.replace("|", "\\|")
        rows.append(f"| {variables} | {default_text(field)} | {meaning} |\n")
    return HEADER + "".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is not what would be written")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != page:
            print(f"{args.path} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(page, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
