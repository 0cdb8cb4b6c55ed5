"""Nothing left behind by a crash: real processes killed outright (SIGKILL), then a new start.

A killed process runs no clean-up, so what it leaves is found by its name: temporary folders
carry their process id, staging tables a prefix and their creation time; worker processes die
with their parent. Each test points the temporary directory (TMPDIR) at a folder of its own, so
what it sees there is its processes' alone.

That folder has a short path, not one under pytest's `tmp_path`: a large load validates in
processes of a multiprocessing fork server, whose socket lives in TMPDIR, and a socket's path
may not be longer than 107 bytes. Under pytest-xdist `tmp_path` is ten bytes longer, enough to
make the fork server fail to start.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RAWEXPORT, LiveServer
from tests.polling import wait_until

API = "/api/v1/rawexport"

_TIME = 1_700_000_000_000
_BIG_ROWS = 700_000
"""About 45 MB of JSON lines: validated by worker processes for about a second or more."""


@pytest.fixture
def tmp() -> Iterator[Path]:
    """A temporary directory of the test's own, with a short path (see the module docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="rx-crash-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAWEXPORT_")}
    env["TMPDIR"] = str(tmp)
    return env


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in map(int, children.read_text().split()):
            found |= {child, *descendants(child)}
    return found


def running(pid: int) -> bool:
    """Whether `pid` is a process that still runs (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def staging_tables(data_dir: Path) -> list[str]:
    """The staging tables of the embedded store, from the definitions chDB keeps on disk (the
    store itself is open in one process at a time)."""
    return sorted(p.stem for p in (data_dir / "events/metadata/rawexport").glob("staging_*.sql"))


def store_rows(data_dir: Path, env: dict[str, str], sql: str) -> list[list[Any]]:
    """The rows of `sql` on the embedded store of `data_dir`, read by a process of its own."""
    script = (
        "import json, sys\n"
        "from rawexport.store import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "print(json.dumps(store.rows(sys.argv[2])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, f"chdb://{data_dir / 'events'}", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows: list[list[Any]] = json.loads(done.stdout)
    return rows


def events_file(path: Path, event: str, rows: int, start_ms: int = _TIME) -> Path:
    line = b'{"event":"%s","devtodev ID":%d,"time":%d}\n'
    with path.open("wb") as out:
        for first in range(0, rows, 100_000):
            block = range(first, min(rows, first + 100_000))
            out.write(b"".join(line % (event.encode(), n, start_ms + n) for n in block))
    return path


def ours(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("rawexport-"))


def test_sigterm_stops_the_server_and_removes_server_json(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server()
    assert (server.data_dir / "server.json").exists()

    server.stop(signal.SIGTERM)

    assert server.process is not None and server.process.returncode == 128 + signal.SIGTERM
    assert not (server.data_dir / "server.json").exists()


def test_a_load_killed_outright_leaves_nothing_after_the_next_start(
    tmp_path: Path, tmp: Path
) -> None:
    data_dir = tmp_path / "data"
    env = clean_env(tmp)
    app_id = LiveServer("", data_dir, env).account().app_id
    big = events_file(tmp_path / "big.jsonl", "crashed", _BIG_ROWS)
    errors = tmp_path / "load.err"
    with errors.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        loader = subprocess.Popen(
            [*RAWEXPORT, "load", "--app", app_id, "--data-dir", str(data_dir), str(big)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    wait_until(lambda: bool(staging_tables(data_dir)) or loader.poll() is not None)
    assert loader.poll() is None, f"the load ended before it staged: {errors.read_text()}"
    # The fork server lives as long as the loader, so the workers are found whatever the moment.
    workers = descendants(loader.pid)
    loader.kill()
    loader.wait()

    assert workers, "the load had no worker processes when it was killed"
    assert staging_tables(data_dir)
    assert ours(tmp) and all(f"-{loader.pid}-" in name for name in ours(tmp))
    wait_until(lambda: not any(map(running, workers)), timeout=15)

    small = events_file(tmp_path / "small.jsonl", "kept", 3)
    again = subprocess.run(
        [*RAWEXPORT, "load", "--app", app_id, "--data-dir", str(data_dir), str(small)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert again.returncode == 0, again.stderr
    assert ours(tmp) == []
    assert staging_tables(data_dir) == []
    stored = "SELECT event, count() FROM ev_custom GROUP BY event ORDER BY event"
    assert store_rows(data_dir, env, stored) == [["kept", 3]]


def test_a_server_killed_during_an_export_leaves_nothing_after_its_restart(
    start_server: Callable[..., LiveServer], tmp_path: Path, tmp: Path
) -> None:
    server = start_server(
        TMPDIR=str(tmp),
        RAWEXPORT_HEARTBEAT_S="1",
        RAWEXPORT_STALE_AFTER_S="2",
        RAWEXPORT_SWEEP_INTERVAL_S="1",
    )
    acc = server.account()
    now = int(time.time())
    big = events_file(tmp_path / "big.jsonl", "exported", _BIG_ROWS, (now - 3000) * 1000)
    server.cli("load", "--app", acc.app_id, str(big))
    decoy = events_file(tmp_path / "decoy.jsonl", "notAsked", 5, (now - 3000) * 1000)
    server.cli("load", "--app", acc.app_id, str(decoy))
    body = {
        "user_token": acc.token,
        "app_id": acc.app_id,
        "start_date": now - 3600,
        "end_date": now,
        "events": [{"name": "exported"}],
    }
    answer = httpx.post(f"{server.url}{API}/setjob", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["data"]
    assert server.process is not None
    dead = server.process.pid
    reports = server.data_dir / "reports"

    def exporting() -> bool:
        """A query streaming through its FIFO folder into the ZIP being made."""
        streaming = any(f"rawexport-fifo-{dead}-" in name for name in ours(tmp))
        return streaming and any(p.name.endswith(".tmp") for p in reports.iterdir())

    wait_until(exporting)
    server.process.kill()
    server.process.wait()
    assert exporting()
    server.start()

    done = wait_for_report(server, acc.token, job_id)
    assert not any(f"-{dead}-" in name for name in ours(tmp))
    wait_until(lambda: sorted(p.name for p in reports.iterdir()) == [f"{job_id}.zip"])
    with zipfile.ZipFile(io.BytesIO(httpx.get(done).content)) as report:
        assert sorted(report.namelist()) == ["exported.csv", "manifest.json", "users.csv"]
        assert report.read("exported.csv").count(b"\n") == _BIG_ROWS + 1


def test_an_upload_of_a_server_killed_outright_is_removed_at_its_restart(
    start_server: Callable[..., LiveServer], tmp: Path
) -> None:
    server = start_server(TMPDIR=str(tmp))
    space = server.cli("space", "create", "studio")["space_id"]
    app = server.cli("app", "create", "--space", space, "game")
    assert server.process is not None
    dead = server.process.pid
    live = tmp / f"rawexport-upload-{os.getpid()}-kept"  # a live process's (this test's)
    live.mkdir()
    first_block_sent, never = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield b'{"event":"tr","devtodev ID":1,"time":%d}\n' % _TIME
        first_block_sent.set()
        never.wait(timeout=120)  # the upload stays in progress until the server dies

    def upload() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                f"{server.url}/api/v1/events",
                params={"app_id": app["app_id"]},
                headers={"X-Ingest-Key": app["ingest_key"]},
                content=body(),
                timeout=120,
            )

    uploading = threading.Thread(target=upload)
    uploading.start()
    try:
        wait_until(lambda: any(f"rawexport-upload-{dead}-" in name for name in ours(tmp)))
        server.process.kill()
        server.process.wait()
    finally:
        never.set()
        uploading.join()
    assert first_block_sent.is_set()
    assert any(f"rawexport-upload-{dead}-" in name for name in ours(tmp))

    server.start()

    assert ours(tmp) == [live.name]


def wait_for_report(server: LiveServer, token: str, job_id: str) -> str:
    """The report's URL once the job is complete."""
    found: list[str] = []

    def complete() -> bool:
        answer = httpx.get(
            f"{server.url}{API}/getprogress",
            params={"user_token": token, "job_id": job_id},
            timeout=30,
        ).json()
        if answer["status_code"] == 201:
            found.append(answer["data"]["result"]["url"])
        return bool(found)

    wait_until(complete, timeout=120)
    return found[0]
