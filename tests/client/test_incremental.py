"""Pipelines on `continue_from`: `rawexport pull --incremental` run again and again, and
`Client.export(..., continue_from=...)`, against a real server."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from click.testing import CliRunner, Result

from rawexport.cli.pull import pull
from rawexport.client import Client

if TYPE_CHECKING:
    from tests.conftest import Account, LiveServer

NOW = int(time.time())
WINDOW = ["--from", str(NOW - 3600), "--to", str(NOW)]


def tr(user: int, seconds_before_now: int) -> dict[str, Any]:
    return {"event": "tr", "devtodev ID": user, "time": (NOW - seconds_before_now) * 1000}


def run_pull(
    server: LiveServer, account: Account, output: Path, state: Path, app: str | None = None
) -> Result:
    return CliRunner().invoke(
        pull,
        [
            *("--url", server.url, "--app", app or account.app_id, "-o", str(output)),
            *WINDOW,
            *("--event", "tr", "--incremental", str(state)),
        ],
        env={"RAWEXPORT_TOKEN": account.token},
    )


def users_in(output: Path) -> list[int]:
    with (output / "tr.csv").open(newline="") as rows:
        return sorted(int(row["devtodev ID"]) for row in csv.DictReader(rows))


def test_pull_incremental_twice_gets_the_new_rows_once(
    shared_server: LiveServer, tmp_path: Path
) -> None:
    account = shared_server.account()
    state = tmp_path / "pipeline.json"
    shared_server.load(account.app_id, [tr(1, 600), tr(2, 300), tr(9, 7200)])  # 9: before

    first = run_pull(shared_server, account, tmp_path / "run1", state)
    assert first.exit_code == 0, first.stderr
    recorded = json.loads(state.read_text())
    # A late arrival: its time lies before the rows already exported.
    shared_server.load(account.app_id, [tr(3, 3000), tr(4, 60)])
    second = run_pull(shared_server, account, tmp_path / "run2", state)
    assert second.exit_code == 0, second.stderr
    third = run_pull(shared_server, account, tmp_path / "run3", state)

    assert users_in(tmp_path / "run1") == [1, 2]
    assert users_in(tmp_path / "run2") == [3, 4]
    assert third.exit_code == 0 and "Unfortunately" in third.stderr  # nothing new, nothing twice
    assert set(recorded) == {"app_id", "job_id", "snapshot"}
    assert recorded["app_id"] == account.app_id
    assert json.loads(state.read_text())["job_id"] != recorded["job_id"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pipeline")] == []


def test_a_state_file_of_another_app_or_a_broken_one_is_refused(
    shared_server: LiveServer, tmp_path: Path
) -> None:
    account = shared_server.account()
    state = tmp_path / "pipeline.json"
    state.write_text(json.dumps({"app_id": "another", "job_id": "j", "snapshot": "1"}))
    other = run_pull(shared_server, account, tmp_path / "out", state)
    assert other.exit_code == 2 and "records app another" in other.stderr
    state.write_text("{not json")
    broken = run_pull(shared_server, account, tmp_path / "out", state)
    assert broken.exit_code == 1 and "not a readable state file" in broken.stderr
    assert state.read_text() == "{not json"  # left as it was


def test_client_export_continues_from_the_report_before(
    shared_server: LiveServer, tmp_path: Path
) -> None:
    account = shared_server.account()
    shared_server.load(account.app_id, [tr(1, 600)])
    with Client(shared_server.url, account.token) as client:
        window = (account.app_id, NOW - 3600, NOW, ["tr"])
        first = client.export(*window, directory=tmp_path / "1")
        shared_server.load(account.app_id, [tr(2, 1200)])
        second = client.export(*window, directory=tmp_path / "2", continue_from=first.job_id)
        third = client.export(*window, directory=tmp_path / "3", continue_from=second.job_id)

    assert first.rows["tr.csv"] == 1 and second.rows["tr.csv"] == 1
    assert third.path is None and third.job_id is not None  # empty: nothing new
    assert third.snapshot is not None  # an empty continuation still tells its snapshot
    assert first.snapshot is not None and second.snapshot is not None
    assert int(second.snapshot) > int(first.snapshot)
