"""`rawexport load` prints rows per table as a table, on its own and through a running server."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.conftest import Operator
from tests.conftest import RAWEXPORT, LiveServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(data_dir: Path, app_id: str, *files: str) -> subprocess.CompletedProcess[str]:
    paths = [str(EXAMPLES / f) for f in files]
    return subprocess.run(
        [*RAWEXPORT, "load", "--app", app_id, "--data-dir", str(data_dir), *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rows(table: str) -> dict[str, str]:
    """{name: rows} from the lines of a printed table."""
    cells = (line.strip("│┃ ").split("│") for line in table.splitlines() if "│" in line)
    return {c[0].strip(): c[1].strip() for c in cells if len(c) == 2}


def test_load_through_the_server_prints_a_table_of_rows(server: LiveServer) -> None:
    account = server.account()
    done = _load(server.data_dir, account.app_id, "events.jsonl", "events.csv")
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert (rows["tr"], rows["shopOpened"], rows["total"]) == ("5", "2", "24")
    assert "{" not in done.stdout


def test_load_without_a_server_prints_the_same_table(operator: Operator) -> None:
    studio = operator.json("space", "create", "Studio")["space_id"]
    app_id = operator.json("app", "create", "--space", studio, "Game")["app_id"]
    done = _load(operator.data_dir, app_id, "events.csv")
    assert done.returncode == 0, done.stderr
    assert _rows(done.stdout) == {"tr": "2", "pe": "1", "shopOpened": "1", "total": "4"}
