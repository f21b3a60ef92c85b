"""docs/configuration.md is what the Settings fields' descriptions say (`make docs` writes it)."""

from __future__ import annotations

from pathlib import Path

from codegateway.dev.config_doc import main, render
from codegateway.settings import Settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_page_is_the_one_the_settings_describe() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "docs/configuration.md is out of date: run `make docs`"


def test_every_setting_has_a_row_with_its_variable_and_default() -> None:
    page = render()
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"
        assert f"| `CGW_{name.upper()}`" in page
    assert "| `CGW_DEFAULT_RPM_LIMIT` | `120` | Requests per minute" in page
    assert "| `CGW_AWS_REGION` / `AWS_REGION` / `AWS_DEFAULT_REGION` | `us-east-1` |" in page


def test_check_mode_fails_on_a_stale_page(tmp_path: Path) -> None:
    page = tmp_path / "configuration.md"
    assert main([str(page)]) == 0
    assert main(["--check", str(page)]) == 0
    page.write_text(page.read_text(encoding="utf-8").replace("Requests per minute", "Requests per hour"))
    assert main(["--check", str(page)]) == 1
