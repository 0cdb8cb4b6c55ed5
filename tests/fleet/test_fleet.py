"""The real topology on loopback: two API nodes and two workers sharing PostgreSQL, ClickHouse
(the chDB-backed HTTP stand-in of tests/clickhouse_http.py, or RAWEXPORT_TEST_CLICKHOUSE_URL)
and an S3 server (moto's server mode), with a worker killed in the middle of a job; and the
pipeline extensions across those processes: a job's webhook posted by the worker process that
ran it, and a job that continues from an earlier one exporting only the rows stored since.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
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
from tests.webhooks.receiver import Receiver, running_receiver

DAY_MS = 86_400_000
JOBS_PER_USER = 5
USERS_PER_SPACE = 2
BIG_APP_ROWS = 150_000
SMALL_APP_ROWS = 20_000
DECOY_ID = 1_000_000_000
"""Users from this id on exist only in a decoy app or outside the window: never exported."""
LATE_ROWS = 600
LATE_FIRST_USER = 700
"""Users of the events that arrive late: none of them has an event stored before."""


@dataclass(frozen=True)
class Member:
    space: int
    user_id: str
    token: str
    app_id: str


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def fleet(
    tmp_path: Path,
    pg_url: str,
    clickhouse_url: str,
    s3_env: dict[str, str],
    s3_reports_url: str,
    receiver: Receiver,
) -> Iterator[Fleet]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAWEXPORT_", "AWS_"))}
    with fresh_database(pg_url) as database_url:
        env.update(s3_env)
        env.update(
            RAWEXPORT_DATABASE_URL=database_url,
            RAWEXPORT_WEBHOOK_HOSTS=urlsplit(receiver.url).netloc,
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
    hard_only: bool = False


@dataclass
class Studios:
    """Two spaces of two analysts each, an app per space with events, and decoys around them."""

    fleet: Fleet
    node: ApiNode
    start_ms: int
    end_ms: int
    members: list[Member] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each app's events stored before any job: what every analyst's job exports."""
    ingest_keys: dict[str, str] = field(default_factory=dict)
    spaces: list[str] = field(default_factory=list)

    def populate(self) -> None:
        for space, rows in enumerate((BIG_APP_ROWS, SMALL_APP_ROWS)):
            space_id = self.fleet.cli("space", "create", f"studio-{space}")["space_id"]
            self.spaces.append(space_id)
            app = self._app(space_id, f"game-{space}")
            decoy = self._app(space_id, f"decoy-{space}")
            for n in range(USERS_PER_SPACE):
                email = f"analyst-{n}@studio-{space}.example"
                self.members.append(self.member(space, email, app))
            # Decoys: another app of the space, and this app's events before the window.
            before = _events(1000, self.start_ms - DAY_MS, self.start_ms, DECOY_ID)
            self._ingest(decoy, _events(1000, self.start_ms, self.end_ms, DECOY_ID))
            self._ingest(app, before)
            self.events[app] = _events(rows, self.start_ms, self.end_ms, 1)
            self._ingest(app, self.events[app])

    def _app(self, space_id: str, name: str) -> str:
        app = self.fleet.cli("app", "create", "--space", space_id, name)
        self.ingest_keys[app["app_id"]] = app["ingest_key"]
        return str(app["app_id"])

    def member(self, space: int, email: str, app_id: str) -> Member:
        """A user of the space granted the app; one made after `populate` is not in `members`,
        so its jobs count toward no analyst's quota."""
        user = self.fleet.cli("user", "create", "--space", self.spaces[space], "--email", email)
        self.fleet.cli("app", "grant", user["user_id"], app_id)
        return Member(space, user["user_id"], user["user_token"], app_id)

    def arrive_late(self, app_id: str) -> list[dict[str, Any]]:
        """Events stored now whose times lie inside the window already exported, with late
        decoys before the window; the rows a job of the window would now find in addition."""
        late = _events(LATE_ROWS, self.start_ms, self.end_ms, LATE_FIRST_USER)
        before = _events(100, self.start_ms - DAY_MS, self.start_ms, DECOY_ID)
        self._ingest(app_id, late + before)
        return late

    def _ingest(self, app_id: str, rows: list[dict[str, Any]]) -> None:
        answer = httpx.post(
            f"{self.node.url}/api/v1/events",
            params={"app_id": app_id},
            headers={"X-Ingest-Key": self.ingest_keys[app_id]},
            content=_jsonl(rows),
            timeout=300,
        )
        assert answer.status_code == 200, answer.text

    def setjob(
        self, member: Member, node: ApiNode, *, hard_only: bool, **extensions: str
    ) -> httpx.Response:
        custom: dict[str, Any] = {"name": "levelComplete"}
        if hard_only:
            custom["filters"] = {"difficulty": {"eq": "hard"}}
        body = {
            "user_token": member.token,
            "app_id": member.app_id,
            "start_date": self.start_ms // 1000,
            "end_date": self.end_ms // 1000,
            "events": ["gs", custom],
            **extensions,
        }
        return node.call("setjob", body)

    def submit(
        self, member: Member, node: ApiNode, *, hard_only: bool = False, **extensions: str
    ) -> Job:
        answer = self.setjob(member, node, hard_only=hard_only, **extensions)
        assert answer.status_code == 200, answer.text
        return Job(member, str(answer.json()["data"]), hard_only)

    def check(self, job: Job, report: bytes, events: list[dict[str, Any]] | None = None) -> None:
        """The report holds exactly the job's rows of `events` (by default all its app's rows
        stored before any job), in time order, and their users."""
        events = self.events[job.member.app_id] if events is None else events
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


def _notified_job(
    fleet: Fleet, studios: Studios, node: ApiNode, worker: Service, receiver: Receiver
) -> Job:
    """A pipeline's job with a `notify_url`, run while `worker` is the fleet's only worker: its
    end arrives as one POST, signed with the space's secret, sent by that worker's process."""
    app_id = studios.members[-1].app_id
    pipeline = studios.member(1, "pipeline@studio-1.example", app_id)
    job = studios.submit(pipeline, node, notify_url=f"{receiver.url}/hooks/rawexport")
    _wait(partial(_complete, node, job), f"job {job.id}")
    [posted] = receiver.wait_for(1, timeout=60)

    secret = fleet.cli("space", "webhook-secret", studios.spaces[1])["webhook_secret"]
    signed = "sha256=" + hmac.new(secret.encode(), posted.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(posted.headers["x-rawexport-signature"], signed)
    assert (posted.path, posted.headers["x-rawexport-job"]) == ("/hooks/rawexport", job.id)
    # The getprogress answer a poll gets, but its report URL carries no token.
    polled = _progress(node, job)
    notified = orjson.loads(posted.body)["data"]
    without_token = f"{node.url}/api/v1/rawexport/download/?job_id={job.id}"
    assert notified == {**polled, "result": {**polled["result"], "url": without_token}}

    # API nodes run no deliverer: the worker that ran the job posted it, and said so.
    delivered = f"webhook delivered job_id={job.id} attempts=1 status=200"
    _wait(lambda: delivered in worker.log.read_text(), "the worker's journal line")
    assert f"job started job_id={job.id}" in worker.log.read_text()
    return job


def test_fleet_of_api_nodes_and_workers(
    fleet: Fleet, s3_env: dict[str, str], receiver: Receiver
) -> None:
    nodes = [fleet.api_node("api-a"), fleet.api_node("api-b")]
    doomed = fleet.worker("worker-1")
    for node in nodes:
        node.wait_healthy()
    end_ms = int(time.time()) // 3600 * 3600 * 1000
    studios = Studios(fleet, nodes[0], end_ms - 2 * DAY_MS, end_ms)
    studios.populate()
    notified = _notified_job(fleet, studios, nodes[1], doomed, receiver)

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

    # Late events of the window: the jobs above took their snapshots before, so only a job
    # continuing from the notified one exports them (and nothing else).
    late = studios.arrive_late(notified.member.app_id)
    continued = studios.submit(notified.member, nodes[0], continue_from=notified.id)
    exports = [(job, None) for job in jobs] + [(notified, None), (continued, late)]

    for n, (job, _) in enumerate(exports):
        _wait(partial(_complete, nodes[n % 2], job), f"job {job.id}")
    assert _job_row(fleet, killed.id).attempts == 1
    snapshots = [_progress(nodes[0], j)["result"]["snapshot"] for j in (notified, continued)]
    assert int(snapshots[1]) > int(snapshots[0])

    s3 = s3_client(s3_env)
    bucket, prefix = _bucket_of(fleet.env["RAWEXPORT_REPORTS_URL"])
    stored: dict[str, bytes] = {}
    for job, events in exports:
        url = urlsplit(_progress(nodes[0], job)["result"]["url"])
        reports = [_download(node, f"{url.path}?{url.query}") for node in nodes]
        stored[job.id] = s3.get_object(Bucket=bucket, Key=f"{prefix}{job.id}.zip")["Body"].read()
        assert reports[0] == reports[1] == stored[job.id], f"{job.id}: the bytes differ"
        studios.check(job, stored[job.id], events)
    # The continued report names what it read: the stored rows after one snapshot, up to its own.
    with zipfile.ZipFile(io.BytesIO(stored[continued.id])) as report:
        manifest = orjson.loads(report.read("manifest.json"))
    read = (manifest["continue_from"], manifest["after_snapshot"], manifest["snapshot"])
    assert read == (notified.id, *snapshots)

    # Only the published reports remain: the killed worker's upload is aborted by a sweeper.
    _wait(
        lambda: not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"),
        "the sweeper to abort the killed worker's upload",
    )
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert {o["Key"] for o in listed} == {f"{prefix}{job.id}.zip" for job, _ in exports}
    # Every worker process has looked at the outbox many times since: still the one POST.
    assert len(receiver.requests) == 1


def _download(node: ApiNode, path_and_query: str) -> bytes:
    answer = httpx.get(f"{node.url}{path_and_query}", timeout=120)
    assert answer.status_code == 200, answer.text
    return answer.content


def _bucket_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""
