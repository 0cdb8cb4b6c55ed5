"""The docs say what the code does: settings table and `--help` come from the registry."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from click.testing import CliRunner

from rawexport.cli.main import cli
from rawexport.domain import catalog
from rawexport.domain.errors import MESSAGES
from rawexport.settings import SETTINGS, settings_markdown
from rawexport.store.loading.validate import loadable_columns

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


def _section(text: str, heading: str) -> str:
    """The text under `### heading` up to the next heading."""
    start = text.index(f"\n### {heading}")
    end = text.find("\n#", start + 1)
    return text[start : end if end != -1 else None]


def test_loading_doc_lists_every_loadable_field_of_every_table() -> None:
    text = (ROOT / "docs" / "loading.md").read_text()
    for table in (*catalog.STANDARD_EVENTS.values(), catalog.CUSTOM_TABLE):
        heading = f"`{table.id}`" if table is not catalog.CUSTOM_TABLE else "custom events"
        section = _section(text, heading)
        listed = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
        assert listed == list(loadable_columns(table)), table.id
    cards = re.findall(r"^\| `([^`]+)` \|", text.split("## User cards")[1], flags=re.MULTILINE)
    assert cards[: len(catalog.USERS.columns)] == list(catalog.USERS.column_names)


def test_api_doc_lists_every_error_code_with_its_status() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    for error in MESSAGES.values():
        assert re.search(rf"^\| {error.status} \| {error.code} \| ", text, flags=re.MULTILINE)


def test_no_file_sends_readers_outside_the_repository() -> None:
    """A clone has none of the team's own folder beside it, and no contract to look sections up
    in: no file of the project sends a reader there."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    offenders = [
        name
        for name in tracked
        if name
        and (ROOT / name).is_file()
        and (ROOT / name).resolve() != Path(__file__).resolve()
        and re.search(r"share[d]/|contract §|§\s?\d", (ROOT / name).read_text(errors="replace"))
    ]
    assert offenders == []
