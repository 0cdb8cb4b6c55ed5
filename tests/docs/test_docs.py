"""The docs say what the code does: settings table and `--help` come from the registry."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rawexport.cli.main import cli
from rawexport.settings import SETTINGS, settings_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_operations_doc_holds_the_generated_settings_table() -> None:
    assert settings_markdown() in (ROOT / "docs" / "operations.md").read_text()


def test_serve_help_lists_every_setting_and_its_variable() -> None:
    text = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200).output
    for s in SETTINGS:
        assert s.env in text
        if s.name != "data_dir":
            assert "--" + s.name.replace("_", "-") in text


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make demo" in head and "make test" in head
