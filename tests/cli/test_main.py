"""`rawexport --help` lists every command at once, on the server install and on the client's."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from rawexport.cli.main import BASE_INSTALL, COMMANDS, SUMMARIES, cli

SERVER_MODULES = (
    *("chdb", "fastapi", "isal", "orjson", "psycopg", "pyarrow", "sqlalchemy", "uvicorn"),
)

# Runs `rawexport ARGS` in a fresh interpreter where the server's libraries cannot be imported,
# as after `pip install .` without the extra; then names the rawexport modules it imported.
CLIENT_ONLY = f"""
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_MODULES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from rawexport.cli.main import cli
try:
    cli.main(sys.argv[1:], prog_name="rawexport")
except SystemExit as end:
    print("exit", end.code)
print(" ".join(sorted(m for m in sys.modules if m.startswith("rawexport.cli."))))
"""


def _client_only(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLIENT_ONLY, *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_command_in_its_section() -> None:
    text = CliRunner().invoke(cli, ["--help"], terminal_width=120).output
    analysts, operators = text.split("Commands for operators")
    for name in COMMANDS:
        assert f"\n  {name} " in (analysts if name in BASE_INSTALL else operators), name


def test_help_on_the_client_install_lists_every_command_and_says_what_to_install() -> None:
    done = _client_only("--help")
    *lines, imported = done.stdout.strip().splitlines()
    text = "\n".join(lines)
    assert "exit 0" in text
    assert all(f"\n  {name} " in text for name in COMMANDS)
    assert "need rawexport[server], not installed" in text
    assert "pip install 'rawexport[server]'" in text
    assert imported == "rawexport.cli.main"  # no command module was imported for the help


def test_a_server_command_on_the_client_install_says_what_to_install() -> None:
    done = _client_only("serve")
    assert "exit 1" in done.stdout
    assert "`rawexport serve` needs the server install" in done.stderr
    assert "Traceback" not in done.stderr


def test_pull_runs_on_the_client_install() -> None:
    done = _client_only("pull", "--help")
    assert "exit 0" in done.stdout and "--from" in done.stdout


def test_every_command_has_a_summary_so_help_imports_none() -> None:
    assert set(SUMMARIES) == set(COMMANDS)
