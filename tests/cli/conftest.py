"""An operator's shell for the CLI tests: `rawexport ...` in-process on one data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rawexport.cli.main import cli


class Operator:
    """Runs `rawexport ...` on one data directory, as an operator's shell would."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def text(self, *args: str) -> str:
        done = self.runner.invoke(cli, [*args, "--data-dir", str(self.data_dir)])
        assert done.exit_code == 0, done.output
        return done.stdout

    def json(self, *args: str) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text(*args, "--json"))
        return parsed


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    return Operator(tmp_path / "data")
