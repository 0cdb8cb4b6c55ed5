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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from tests.fleet.topology import ApiNode, Fleet
from tests.pg_server import fresh_database
from tests.s3_server import s3_client

DAY_MS = 86_400_000
JOBS_PER_USER = 5
USERS_PER_SPACE = 2
BIG_APP_ROWS = 300_000
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
            RAWEXPORT_MAX_CONCURRENT_JOBS=str(JOBS_PER_USER),
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


def test_fleet_of_api_nodes_and_workers(fleet: Fleet, s3_env: dict[str, str]) -> None:
    node_a, node_b = fleet.api_node("api-a"), fleet.api_node("api-b")
    first_worker = fleet.worker("worker-1")
    node_a.wait_healthy()
    node_b.wait_healthy()
    nodes = (node_a, node_b)

    end_ms = int(time.time()) // 3600 * 3600 * 1000
    start_ms = end_ms - 2 * DAY_MS
    members: list[Member] = []
    apps: list[tuple[str, str]] = []
    for space in range(2):
        space_id = fleet.cli("space", "create", f"studio-{space}")["space_id"]
        app = fleet.cli("app", "create", "--space", space_id, f"game-{space}")
        apps.append((app["app_id"], app["ingest_key"]))
        decoy = fleet.cli("app", "create", "--space", space_id, f"decoy-{space}")
        for n in range(USERS_PER_SPACE):
            email = f"analyst-{n}@studio-{space}.example"
            user = fleet.cli("user", "create", "--space", space_id, "--email", email)
            fleet.cli("app", "grant", user["user_id"], app["app_id"])
            members.append(Member(space, user["user_id"], user["user_token"], app["app_id"]))
        # Decoys: another app of the space, and this app's events outside the window.
        decoy_rows = _events(1000, start_ms, end_ms, DECOY_ID)
        outside = _events(1000, start_ms - DAY_MS, start_ms, DECOY_ID)
        _ingest(node_a, decoy["app_id"], decoy["ingest_key"], decoy_rows)
        _ingest(node_a, app["app_id"], app["ingest_key"], outside)

    expected: dict[str, list[dict[str, Any]]] = {}
    for (app_id, key), rows in zip(apps, (BIG_APP_ROWS, SMALL_APP_ROWS), strict=True):
        events = _events(rows, start_ms, end_ms, 1)
        _ingest(node_a, app_id, key, events)
        expected[app_id] = events

    database = create_engine(fleet.env["RAWEXPORT_DATABASE_URL"])

    def job_row(job_id: str) -> Any:
        with database.connect() as conn:
            query = text("SELECT status, worker_id, attempts FROM jobs WHERE id = :id")
            return conn.execute(query, {"id": job_id}).one()

    def submit(member: Member, node: ApiNode, hard_only: bool) -> str:
        custom: dict[str, Any] = {"name": "levelComplete"}
        if hard_only:
            custom["filters"] = {"difficulty": {"eq": "hard"}}
        body = {
            "user_token": member.token,
            "app_id": member.app_id,
            "start_date": start_ms // 1000,
            "end_date": end_ms // 1000,
            "events": ["gs", custom],
        }
        answer = node.call("setjob", body)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"])

    # The first job runs on the only worker, which is frozen mid-job and killed.
    jobs: list[tuple[Member, str, bool]] = []
    killed_job = ""
    for attempt in range(3):
        member = members[0]
        job_id = submit(member, nodes[attempt % 2], hard_only=False)
        jobs.append((member, job_id, False))
        _wait(lambda: job_row(job_id).status != "pending", "the first claim")
        os.kill(first_worker.pid, signal.SIGSTOP)
        if job_row(job_id).status == "running":
            killed_job = job_id
            first_worker.stop(signal.SIGKILL)
            break
        os.kill(first_worker.pid, signal.SIGCONT)  # it finished first: try a bigger moment
    assert killed_job, "the first worker finished every job before it could be stopped"
    fleet.worker("worker-2")
    fleet.worker("worker-3")

    for n in range(len(jobs), JOBS_PER_USER * len(members)):
        member = members[n % len(members)]
        hard_only = n % 3 == 0
        jobs.append((member, submit(member, nodes[n % 2], hard_only), hard_only))
    assert len(jobs) == 20

    # Quotas are one count across the fleet: every user's next job is refused on either node.
    for n, member in enumerate(members):
        answer = _submit_sessions(nodes[n % 2], member, start_ms, end_ms)
        assert answer.status_code == 403, answer.text
        assert answer.json()["errors"][0]["code"] == 18

    def complete(member: Member, job_id: str, node: ApiNode) -> dict[str, Any] | None:
        answer = node.call("getprogress", {"user_token": member.token, "job_id": job_id})
        data: dict[str, Any] = answer.json()["data"]
        assert data["status"] != "failed", answer.text
        return data if data["status"] == "complete" else None

    for n, (member, job_id, _) in enumerate(jobs):
        _wait(lambda m=member, j=job_id, n=n: complete(m, j, nodes[n % 2]) is not None, job_id)
    assert job_row(killed_job).attempts >= 1

    s3 = s3_client(s3_env)
    bucket, prefix = _bucket_of(fleet.env["RAWEXPORT_REPORTS_URL"])
    published: set[str] = set()
    for n, (member, job_id, hard_only) in enumerate(jobs):
        result = complete(member, job_id, nodes[n % 2])
        assert result is not None
        url = urlsplit(result["result"]["url"])
        reports = [_download(node, f"{url.path}?{url.query}") for node in nodes]
        assert reports[0] == reports[1], f"{job_id}: the two nodes served different bytes"
        key = f"{prefix}{job_id}.zip"
        stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert stored == reports[0]
        published.add(key)
        _check_report(reports[0], expected[member.app_id], start_ms, end_ms, hard_only)

    # Only the published reports remain: the killed worker's upload was aborted.
    def leftovers() -> bool:
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return not uploads

    _wait(leftovers, "the sweeper to abort the killed worker's upload", timeout=60)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert {o["Key"] for o in listed} == published


def _submit_sessions(node: ApiNode, member: Member, start_ms: int, end_ms: int) -> Any:
    body = {
        "user_token": member.token,
        "app_id": member.app_id,
        "start_date": start_ms // 1000,
        "end_date": end_ms // 1000,
        "events": ["gs"],
    }
    return node.call("setjob", body)


def _ingest(node: ApiNode, app_id: str, key: str, rows: list[dict[str, Any]]) -> None:
    answer = httpx.post(
        f"{node.url}/api/v1/events",
        params={"app_id": app_id},
        headers={"X-Ingest-Key": key},
        content=_jsonl(rows),
        timeout=300,
    )
    assert answer.status_code == 200, answer.text


def _download(node: ApiNode, path_and_query: str) -> bytes:
    answer = httpx.get(f"{node.url}{path_and_query}", timeout=120)
    assert answer.status_code == 200, answer.text
    return answer.content


def _check_report(
    report: bytes, events: list[dict[str, Any]], start_ms: int, end_ms: int, hard_only: bool
) -> None:
    sessions = [e for e in events if e["event"] == "gs"]
    levels = [
        e
        for e in events
        if e["event"] == "levelComplete" and (not hard_only or e["params"]["difficulty"] == "hard")
    ]
    assert all(start_ms <= e["time"] < end_ms for e in events)
    for name, wanted in (("gs.csv", sessions), ("levelComplete.csv", levels)):
        rows = _zip_rows(report, name)
        assert len(rows) == len(wanted), name
        assert all(int(r["devtodev ID"]) < DECOY_ID for r in rows), name
        assert [int(r["time"]) for r in rows] == sorted(e["time"] for e in wanted), name
    users = {int(r["devtodev ID"]) for r in _zip_rows(report, "users.csv")}
    assert users == {e["devtodev ID"] for e in sessions + levels}


def _bucket_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""
