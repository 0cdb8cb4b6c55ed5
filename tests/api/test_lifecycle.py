"""Jobs across failures and restarts, and logs that keep tokens out."""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from collections.abc import Callable

import httpx

from tests.api.conftest import OverHttp, Service
from tests.api.jobs import API, NOW, rows, submit, wait_done
from tests.conftest import LiveServer


def test_failed_job_answers_code_1_with_a_helpful_message(
    start_service: Callable[..., Service],
) -> None:
    server = start_service()
    acc = server.account()
    server.load(acc.app_id, rows())
    reports = server.data_dir / "reports"
    reports.mkdir(exist_ok=True)
    reports.rmdir()
    reports.write_text("not a directory")  # the export cannot write its ZIP
    job = submit(server, acc)
    answer = wait_done(server, acc.token, job)
    assert answer.status_code == 500
    (error,) = answer.json()["errors"]
    assert error["code"] == 1
    assert error["msg"].startswith("Unknown Error The export job failed:")
    assert "reports" in error["msg"]
    shown = server.cli("job", "show", job)  # what the operator sees of it
    assert (shown["status"], shown["spec"]["app_id"]) == ("failed", acc.app_id)
    assert "reports" in shown["error"]


def test_pending_and_interrupted_jobs_run_after_a_restart(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(RAWEXPORT_WORKERS="0", RAWEXPORT_MIN_JOB_INTERVAL_S="0")
    acc = server.account()
    server.load(acc.app_id, rows())
    with OverHttp.of(server) as live:
        pending, interrupted = submit(live, acc), submit(live, acc)
    server.stop()
    with sqlite3.connect(server.data_dir / "meta.sqlite3") as db:
        # what a process killed in the middle of the export leaves behind
        db.execute(
            "UPDATE jobs SET status='running', percent=40, worker_id='dead-process:0',"
            " started_at=1, heartbeat_at=1 WHERE id=?",
            (interrupted,),
        )
    server.env["RAWEXPORT_WORKERS"] = "2"
    server.start()
    with OverHttp.of(server) as live:
        for job in (pending, interrupted):
            assert wait_done(live, acc.token, job).status_code == 201
    listed = server.cli("job", "list")["jobs"]
    assert [j["id"] for j in listed] == [interrupted, pending]  # newest first
    for j in listed:
        assert (j["status"], j["rows"]) == ("complete", len(rows()))
        assert 0 < j["seconds"] == round(j["finished_at"] - j["created_at"], 3)


def test_access_log_never_contains_a_token(start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    acc = server.account()
    spellings = ["user_token", "user%5Ftoken", "user%5ftoken", "USER_TOKEN"]
    with httpx.Client(base_url=server.url) as client:
        for name in spellings:
            answer = client.get(f"{API}/getprogress?{name}={acc.token}&job_id=x")
            assert answer.status_code in (400, 401)  # it authenticated, or was no token at all
        client.get(f"{API}/download/user_token={acc.token}")
        client.post(f"{API}/getprogress", data={"user_token": acc.token, "job_id": "x"})
    server.stop()
    log = server.log.read_text()
    for name in spellings:
        assert f"getprogress?{name}=***&job_id=x HTTP/1.1" in log  # the real uvicorn line
    assert acc.token not in log


def test_simultaneous_jobs_of_two_apps_export_only_their_own_rows(
    start_service: Callable[..., Service],
) -> None:
    server = start_service(workers=2, min_job_interval_s=0)
    first, second = server.account(), server.account()
    now_ms = NOW * 1000  # the jobs export [NOW - 1 h, NOW)
    for acc, uid in ((first, 1), (second, 2)):
        server.load(
            acc.app_id,
            [
                {"event": "tr", "devtodev ID": uid, "time": now_ms - 60_000 - i, "step": 1}
                for i in range(2000)
            ],
        )
    jobs = [(acc, submit(server, acc)) for acc in (first, second) for _ in range(3)]
    for acc, job in jobs:
        url = wait_done(server, acc.token, job).json()["data"]["result"]["url"]
        with zipfile.ZipFile(io.BytesIO(server.client.get(url).content)) as report:
            ids = {line.split(b",")[0] for line in report.read("tr.csv").splitlines()[1:]}
        assert ids == {b"1" if acc is first else b"2"}


def test_the_data_directory_is_private_whatever_the_umask(
    start_server: Callable[..., LiveServer],
) -> None:
    laxer = os.umask(0o022)  # inherited by the server and the commands below
    try:
        server = start_server()
        server.data_dir.chmod(0o755)  # made before, under a lax umask
        acc = server.account()
        server.load(acc.app_id, rows())  # posted to the server
        with OverHttp.of(server) as live:
            assert wait_done(live, acc.token, submit(live, acc)).status_code == 201
        server.stop()
        server.load(acc.app_id, rows())  # `rawexport load` opening the store itself
    finally:
        os.umask(laxer)
    written_by_the_test = {server.log, *server.data_dir.glob("load-*.jsonl")}
    loose = {
        str(path.relative_to(server.data_dir)): oct(path.lstat().st_mode & 0o777)
        for path in [server.data_dir, *server.data_dir.rglob("*")]
        if path not in written_by_the_test
        and not path.is_symlink()  # chDB's table links: a link's own mode means nothing
        and path.lstat().st_mode & 0o077
    }
    assert loose == {}
    assert (server.data_dir / "reports").stat().st_mode & 0o777 == 0o700
