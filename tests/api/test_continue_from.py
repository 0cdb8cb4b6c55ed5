"""`continue_from` through the API: a chain of jobs delivers every stored row once, late arrivals
included, on every store backend; and the code-5 answers for jobs that cannot be continued."""

from __future__ import annotations

import csv
import io
import itertools
import json
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import update

from rawexport.meta.schema import jobs
from tests.api.conftest import Service
from tests.api.jobs import API, NOW, post_setjob, submit, wait_done
from tests.conftest import Account

START, END = NOW - 3600, NOW  # every job's window
LOADERS = 2


def ingest(server: Service, app_id: str, key: str, rows: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(json.dumps(r) + "\n" for r in rows)
    return server.client.post(
        "/api/v1/events", params={"app_id": app_id}, headers={"X-Ingest-Key": key}, content=body
    )


def tr(user: int, offset_ms: int) -> dict[str, Any]:
    return {"event": "tr", "devtodev ID": user, "time": START * 1000 + offset_ms, "step": 1}


class LateEvents:
    """Loaders posting events whose times lie inside the window (late arrivals) until stopped,
    with decoys in every file: another event, times just outside the window, another app."""

    def __init__(self, server: Service, app: tuple[str, str], decoy_app: tuple[str, str]) -> None:
        self._server, self._app, self._decoy_app = server, app, decoy_app
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.stored: list[int] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._post) for _ in range(LOADERS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def count(self) -> int:
        with self._lock:
            return len(self.stored)

    def wait_for_more(self) -> None:
        seen = self.count()
        _wait_for(lambda: self.count() > seen)

    def _post(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                users = [next(self._ids) for _ in range(5)]
            wanted = [tr(u, (u * 7919) % 3_600_000) for u in users]  # anywhere in the window
            decoys = [
                {"event": "gs", "devtodev ID": users[0], "time": START * 1000 + 5},
                tr(users[0], -1),  # the millisecond before the window
                tr(users[0], 3_600_000),  # the window's end, excluded
            ]
            answer = ingest(self._server, *self._app, wanted + decoys)
            ingest(self._server, *self._decoy_app, [tr(u, 1000) for u in users])
            with self._lock:
                if answer.status_code == 200:
                    self.stored.extend(users)
                else:
                    self.failures.append(answer.text)


def report_users(server: Service, token: str, job_id: str) -> tuple[list[int], dict[str, Any]]:
    """The users of the job's `tr.csv` rows, and its getprogress result."""
    done = wait_done(server, token, job_id).json()["data"]
    result = done["result"]
    if "url" not in result:
        return [], result
    archive = zipfile.ZipFile(io.BytesIO(server.client.get(result["url"]).content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["snapshot"] == result["snapshot"]
    lines = csv.DictReader(io.StringIO(archive.read("tr.csv").decode()))
    return [int(line["devtodev ID"]) for line in lines], result | {"manifest": manifest}


def test_a_chain_of_jobs_delivers_every_late_row_once(service_on_each_store: Service) -> None:
    server = service_on_each_store
    accounts = server.runtime.accounts
    space = accounts.create_space("pipelines")
    user_id, token = accounts.create_user(space, "analyst@x.io")
    app, decoy_app = accounts.create_app(space, "game"), accounts.create_app(space, "other")
    for app_id, _ in (app, decoy_app):
        accounts.grant(user_id, app_id)
    acc = Account(space, user_id, token, app[0])
    delivered: list[int] = []
    snapshots: list[int] = []
    previous: str | None = None
    late = LateEvents(server, app, decoy_app)
    late.start()
    try:
        for n in range(5):
            if n == 4:  # the last job starts once every loader has stopped
                late.stop()
            else:  # each job starts after more late rows were stored
                late.wait_for_more()
            extra = {} if previous is None else {"continue_from": previous}
            previous = submit(server, acc, **extra)
            users, result = report_users(server, token, previous)
            delivered.extend(users)
            snapshots.append(int(result["snapshot"]))
            if "manifest" in result:
                assert result["manifest"]["continue_from"] == extra.get("continue_from")
    finally:
        late.stop()

    assert late.failures == []
    assert [u for u, times in Counter(delivered).items() if times > 1] == []  # no row twice
    assert sorted(delivered) == sorted(late.stored)  # none lost, no decoy
    assert snapshots == sorted(snapshots)


def _wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    (error,) = response.json()["errors"]
    return response.status_code, error["code"], error["msg"]


def test_jobs_that_cannot_be_continued_are_code_5(shared_service: Service) -> None:
    server = shared_service
    acc, stranger = server.account(), server.account()
    server.load(acc.app_id, [tr(1, 1000)])
    other_app, _ = server.runtime.accounts.create_app(acc.space_id, "second")
    server.runtime.accounts.grant(acc.user_id, other_app)
    complete = submit(server, acc)
    assert wait_done(server, acc.token, complete).status_code == 201
    strangers = submit(server, stranger)
    wait_done(server, stranger.token, strangers)

    refused = {
        "an unknown job": post_setjob(server, acc, continue_from="no-such-job"),
        "another user's job": post_setjob(server, acc, continue_from=strangers),
        "another app's job": post_setjob(server, acc, app_id=other_app, continue_from=complete),
        "not a string": post_setjob(server, acc, continue_from=7),
        # A type check: it comes before the app is looked up (code 6).
        "and an unknown app": post_setjob(server, acc, app_id="nope", continue_from="x"),
    }
    for case, response in refused.items():
        status, code, message = error_of(response)
        assert (status, code) == (400, 5), case
        assert message.startswith("Field continue_from has type "), case
    assert "integer" in error_of(refused["not a string"])[2]
    assert post_setjob(server, acc, continue_from=complete).status_code == 200


def test_a_job_not_complete_cannot_be_continued_an_expired_one_can(
    start_service: Callable[..., Service],
) -> None:
    server = start_service(workers=0, min_job_interval_s=0)  # jobs stay pending
    acc = server.account()
    pending, failed = submit(server, acc), submit(server, acc)
    server.runtime.jobs.cancel(failed, "cancelled by the test")
    for job, state in ((pending, "a pending job"), (failed, "a failed job")):
        status, code, message = error_of(post_setjob(server, acc, continue_from=job))
        assert (status, code) == (400, 5) and state in message

    with server.runtime.engine.begin() as conn:  # as if it had run and its report expired
        done = {"status": "complete", "snapshot": 0, "expires_at": 0, "finished_at": 0}
        conn.execute(update(jobs).where(jobs.c.id == pending).values(done))
    assert post_setjob(server, acc, continue_from=pending).status_code == 200


def test_complete_results_carry_the_snapshot_but_a_published_empty_one_only_its_message(
    shared_service: Service,
) -> None:
    server = shared_service
    acc = server.account()
    server.load(acc.app_id, [tr(1, 1000)])
    job = submit(server, acc)
    result = wait_done(server, acc.token, job).json()["data"]["result"]
    assert set(result) == {"msg", "format", "url", "ttl", "expire", "snapshot"}
    empty = submit(server, acc, start_date=START - 7200, end_date=START - 3600)
    answer = wait_done(server, acc.token, empty)
    assert answer.json()["data"]["result"] == {"msg": answer.json()["data"]["result"]["msg"]}
    assert f"{API}/download" in result["url"]
