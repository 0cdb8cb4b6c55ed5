"""The real topology on loopback: two API nodes and two workers sharing PostgreSQL, ClickHouse
(the chDB-backed HTTP stand-in of tests/clickhouse_http.py, or RAWEXPORT_TEST_CLICKHOUSE_URL)
and an S3 server (moto's server mode), with a worker killed in the middle of a job.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from sqlalchemy import text

from tests.fleet.topology import ApiNode, Fleet, Service
from tests.pg_server import fresh_database
from tests.s3_server import s3_client

DAY_MS = 86_400_000
JOBS_PER_USER = 5
USERS_PER_SPACE = 2
BIG_APP_ROWS = 150_000
SMALL_APP_ROWS = 20_000
DECOY_ID = 1_000_000_000
"""Users from this id on exist only in a decoy app or outside the window: never exported."""


@dataclass(frozen=True)
class Member:
    space: int
    user_id: str
    token: str
    app_id: str


@pytest.fixture
def fleet(
    tmp_path: Path,
    pg_url: str,
    clickhouse_url: str,
    s3_env: dict[str, str],
    s3_reports_url: str,
) -> Iterator[Fleet]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAWEXPORT_", "AWS_"))}
    with fresh_database(pg_url) as database_url:
        env.update(s3_env)
        env.update(
            RAWEXPORT_DATABASE_URL=database_url,
            RAWEXPORT_STORE_URL=clickhouse_url,
            RAWEXPORT_REPORTS_URL=s3_reports_url,
            RAWEXPORT_HEARTBEAT_S="1",
            RAWEXPORT_STALE_AFTER_S="3",
            RAWEXPORT_SWEEP_INTERVAL_S="1",
            RAWEXPORT_MIN_JOB_INTERVAL_S="0",
            RAWEXPORT_JOBS_PER_DAY_USER=str(JOBS_PER_USER),
            RAWEXPORT_MAX_CONCURRENT_JOBS=str(2 * JOBS_PER_USER),
        )
        topology = Fleet(tmp_path, env)
        topology.cli("db", "upgrade")
        try:
            yield topology
        finally:
            topology.stop_all()


def _events(app_rows: int, start_ms: int, end_ms: int, first_user: int) -> list[dict[str, Any]]:
    """Sessions and a custom event with a `difficulty`, spread over [start_ms, end_ms)."""
    span = end_ms - start_ms
    rows: list[dict[str, Any]] = []
    for i in range(app_rows):
        common = {"devtodev ID": first_user + i % 500, "time": start_ms + i * span // app_rows}
        if i % 2:
            rows.append({**common, "event": "gs", "count": 1, "avg_duration": 30})
        else:
            params = {"difficulty": ("easy", "hard")[i % 4 // 2], "stars": i % 3}
            rows.append({**common, "event": "levelComplete", "params": params})
    return rows


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in rows)


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _zip_rows(report: bytes, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(report)) as z:
        text_ = z.read(name).decode()
    return list(csv.DictReader(io.StringIO(text_, newline="")))


@dataclass(frozen=True)
class Job:
    member: Member
    id: str
    hard_only: bool


@dataclass
class Studios:
    """Two spaces of two analysts each, an app per space with events, and decoys around them."""

    fleet: Fleet
    node: ApiNode
    start_ms: int
    end_ms: int
    members: list[Member] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def populate(self) -> None:
        for space, rows in enumerate((BIG_APP_ROWS, SMALL_APP_ROWS)):
            space_id = self.fleet.cli("space", "create", f"studio-{space}")["space_id"]
            app = self.fleet.cli("app", "create", "--space", space_id, f"game-{space}")
            decoy = self.fleet.cli("app", "create", "--space", space_id, f"decoy-{space}")
            for n in range(USERS_PER_SPACE):
                email = f"analyst-{n}@studio-{space}.example"
                user = self.fleet.cli("user", "create", "--space", space_id, "--email", email)
                self.fleet.cli("app", "grant", user["user_id"], app["app_id"])
                self.members.append(
                    Member(space, user["user_id"], user["user_token"], app["app_id"])
                )
            # Decoys: another app of the space, and this app's events before the window.
            before = _events(1000, self.start_ms - DAY_MS, self.start_ms, DECOY_ID)
            self._ingest(decoy, _events(1000, self.start_ms, self.end_ms, DECOY_ID))
            self._ingest(app, before)
            self.events[app["app_id"]] = _events(rows, self.start_ms, self.end_ms, 1)
            self._ingest(app, self.events[app["app_id"]])

    def _ingest(self, app: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        answer = httpx.post(
            f"{self.node.url}/api/v1/events",
            params={"app_id": app["app_id"]},
            headers={"X-Ingest-Key": app["ingest_key"]},
            content=_jsonl(rows),
            timeout=300,
        )
        assert answer.status_code == 200, answer.text

    def setjob(self, member: Member, node: ApiNode, *, hard_only: bool) -> httpx.Response:
        custom: dict[str, Any] = {"name": "levelComplete"}
        if hard_only:
            custom["filters"] = {"difficulty": {"eq": "hard"}}
        body = {
            "user_token": member.token,
            "app_id": member.app_id,
            "start_date": self.start_ms // 1000,
            "end_date": self.end_ms // 1000,
            "events": ["gs", custom],
        }
        return node.call("setjob", body)

    def submit(self, member: Member, node: ApiNode, *, hard_only: bool = False) -> Job:
        answer = self.setjob(member, node, hard_only=hard_only)
        assert answer.status_code == 200, answer.text
        return Job(member, str(answer.json()["data"]), hard_only)

    def check(self, job: Job, report: bytes) -> None:
        """The report holds exactly the job's rows of its app, in time order, and their users."""
        events = self.events[job.member.app_id]
        sessions = [e for e in events if e["event"] == "gs"]
        levels = [
            e
            for e in events
            if e["event"] == "levelComplete"
            and (not job.hard_only or e["params"]["difficulty"] == "hard")
        ]
        for name, wanted in (("gs.csv", sessions), ("levelComplete.csv", levels)):
            rows = _zip_rows(report, name)
            assert [int(r["time"]) for r in rows] == sorted(e["time"] for e in wanted), name
            assert all(int(r["devtodev ID"]) < DECOY_ID for r in rows), name
        users = {int(r["devtodev ID"]) for r in _zip_rows(report, "users.csv")}
        assert users == {e["devtodev ID"] for e in sessions + levels}


def _job_row(fleet: Fleet, job_id: str) -> Any:
    query = text("SELECT status, worker_id, attempts FROM jobs WHERE id = :id")
    with fleet.database().connect() as conn:
        return conn.execute(query, {"id": job_id}).one()


def _progress(node: ApiNode, job: Job) -> dict[str, Any]:
    answer = node.call("getprogress", {"user_token": job.member.token, "job_id": job.id})
    body: dict[str, Any] = answer.json()
    assert "data" in body, f"job {job.id}: {answer.text}"  # a failed job answers errors
    data: dict[str, Any] = body["data"]
    return data


def _claimed(fleet: Fleet, job: Job) -> bool:
    return bool(_job_row(fleet, job.id).status != "pending")


def _complete(node: ApiNode, job: Job) -> bool:
    return bool(_progress(node, job)["status"] == "complete")


def _kill_mid_job(fleet: Fleet, studios: Studios, worker: Service, nodes: list[ApiNode]) -> Job:
    """Submit jobs until one is running on `worker`, freeze the worker there and kill it."""
    for attempt in range(3):
        job = studios.submit(studios.members[0], nodes[attempt % 2])
        _wait(partial(_claimed, fleet, job), "the first claim")
        os.kill(worker.pid, signal.SIGSTOP)  # frozen: it cannot finish while we look
        if _job_row(fleet, job.id).status == "running":
            worker.stop(signal.SIGKILL)
            return job
        os.kill(worker.pid, signal.SIGCONT)  # it finished first: try the next job
    raise AssertionError("the worker finished every job before it could be stopped")


def test_fleet_of_api_nodes_and_workers(fleet: Fleet, s3_env: dict[str, str]) -> None:
    nodes = [fleet.api_node("api-a"), fleet.api_node("api-b")]
    doomed = fleet.worker("worker-1")
    for node in nodes:
        node.wait_healthy()
    end_ms = int(time.time()) // 3600 * 3600 * 1000
    studios = Studios(fleet, nodes[0], end_ms - 2 * DAY_MS, end_ms)
    studios.populate()

    killed = _kill_mid_job(fleet, studios, doomed, nodes)
    fleet.worker("worker-2")
    fleet.worker("worker-3")
    jobs = [killed]
    for n in range(1, JOBS_PER_USER * len(studios.members)):
        member = studios.members[n % len(studios.members)]
        jobs.append(studios.submit(member, nodes[n % 2], hard_only=n % 3 == 0))

    # The daily quota is one count across the fleet: each user's next job is refused anywhere.
    for n, member in enumerate(studios.members):
        answer = studios.setjob(member, nodes[n % 2], hard_only=False)
        assert (answer.status_code, answer.json()["errors"][0]["code"]) == (429, 18)

    for n, job in enumerate(jobs):
        _wait(partial(_complete, nodes[n % 2], job), f"job {job.id}")
    assert _job_row(fleet, killed.id).attempts == 1

    s3 = s3_client(s3_env)
    bucket, prefix = _bucket_of(fleet.env["RAWEXPORT_REPORTS_URL"])
    for job in jobs:
        url = urlsplit(_progress(nodes[0], job)["result"]["url"])
        reports = [_download(node, f"{url.path}?{url.query}") for node in nodes]
        stored = s3.get_object(Bucket=bucket, Key=f"{prefix}{job.id}.zip")["Body"].read()
        assert reports[0] == reports[1] == stored, f"{job.id}: the bytes differ"
        studios.check(job, stored)

    # Only the published reports remain: the killed worker's upload is aborted by a sweeper.
    _wait(
        lambda: not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"),
        "the sweeper to abort the killed worker's upload",
    )
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert {o["Key"] for o in listed} == {f"{prefix}{job.id}.zip" for job in jobs}


def _download(node: ApiNode, path_and_query: str) -> bytes:
    answer = httpx.get(f"{node.url}{path_and_query}", timeout=120)
    assert answer.status_code == 200, answer.text
    return answer.content


def _bucket_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""
