"""`rawexport worker` as its own process beside `rawexport serve --workers 0`, sharing only a
PostgreSQL database: jobs cross from the API node to the worker, a notification wakes the worker
at once, and SIGTERM hands a running job back to the queue; and which process owns a data
directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from rawexport.cli.worker import READY
from rawexport.domain.jobspec import JobSpec
from rawexport.domain.quotas import Limits
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import Accounts
from rawexport.meta.db import connect
from rawexport.meta.jobs import Job, JobQueue
from rawexport.runtime import Runtime
from rawexport.settings import Settings
from tests.api.conftest import OverHttp
from tests.api.jobs import rows, submit, wait_done
from tests.conftest import RAWEXPORT, Account, LiveServer, granted_account

on_postgresql = pytest.mark.parametrize("metadata_url", ["postgresql"], indirect=True)

NEVER_ENDING_EXPORT = """
import sys, threading
import rawexport.cli.worker
from rawexport.cli.main import main

def never_ends(store, spec, destination, on_progress):
    while True:  # reports progress, so it notices a stop like a real export does
        on_progress(10)
        threading.Event().wait(0.05)

rawexport.cli.worker.run_export = never_ends
sys.argv = ["rawexport", "worker", *sys.argv[1:]]
main()
"""


class WorkerProcess:
    """`rawexport worker` (or `command`) in a child process with its own data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str], command: list[str]) -> None:
        self.data_dir, self.env = data_dir, env
        self.log = data_dir / "worker.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [*command, "--data-dir", str(data_dir)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY in self.log.read_text():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited: {self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError("the worker never became ready")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)


@pytest.fixture
def fleet_env(metadata_url: str) -> dict[str, str]:
    """The environment of every node: one shared PostgreSQL, quick heartbeats, no spacing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAWEXPORT_")}
    return env | {
        "RAWEXPORT_DATABASE_URL": metadata_url,
        "RAWEXPORT_HEARTBEAT_S": "1",
        "RAWEXPORT_MIN_JOB_INTERVAL_S": "0",
    }


@pytest.fixture
def shared(metadata_url: str) -> Iterator[Engine]:
    """This test's own connection to the shared database, as one more node of the fleet."""
    engine = connect(metadata_url, upgrade_existing=False)
    yield engine
    engine.dispose()


@pytest.fixture
def start_worker(
    tmp_path: Path, fleet_env: dict[str, str]
) -> Iterator[Callable[..., WorkerProcess]]:
    """`start_worker(command, **env)`: a ready worker process, stopped after the test."""
    started: list[WorkerProcess] = []

    def start(command: list[str] | None = None, **env: str) -> WorkerProcess:
        data_dir = tmp_path / f"worker-{len(started)}"
        worker = WorkerProcess(data_dir, fleet_env | env, command or [*RAWEXPORT, "worker"])
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop(signal.SIGKILL)


def wait_for(queue: JobQueue, job_id: str, done: Callable[[Job], bool], timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if job is not None and done(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id}: {queue.get(job_id)}")


def new_account(engine: Engine) -> Account:
    """A user granted one app, made in the shared database by this test process."""
    return granted_account(Accounts(engine))


def submit_directly(engine: Engine) -> str:
    """A job submitted by this test process, one more node of the fleet; returns its id."""
    account = new_account(engine)
    user = Accounts(engine).user_by_token(account.token)
    assert user is not None
    spec = JobSpec(account.app_id, 1, 2, events=())
    return JobQueue(engine).submit(user, spec, Limits(9, 9, 9, 0))


@on_postgresql
def test_a_job_submitted_through_an_api_node_completes_on_a_worker_process(
    start_server: Callable[..., LiveServer],
    start_worker: Callable[..., WorkerProcess],
    fleet_env: dict[str, str],
    shared: Engine,
    tmp_path: Path,
) -> None:
    api = start_server(**fleet_env, RAWEXPORT_WORKERS="0")
    acc = new_account(shared)
    # The worker's own embedded store holds the events; the API node's holds none, so only an
    # export by the worker process can find them.
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(row) + "\n" for row in rows()))
    worker_dir = tmp_path / "worker-0"
    loaded = subprocess.run(
        [*RAWEXPORT, "load", "--app", acc.app_id, str(events), "--data-dir", str(worker_dir)],
        env=fleet_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    start_worker()

    with OverHttp.of(api) as over_http:
        job_id = submit(over_http, acc)
        answer = wait_done(over_http, acc.token, job_id)

    assert answer.status_code == 201, answer.text
    done = JobQueue(shared).get(job_id)
    assert done is not None and (done.status, done.rows) == (JobStatus.COMPLETE, len(rows()))
    assert (worker_dir / "reports" / f"{job_id}.zip").exists()
    assert not (api.data_dir / "reports" / f"{job_id}.zip").exists()


@on_postgresql
def test_a_submission_wakes_an_idle_worker_of_another_process_at_once(
    start_worker: Callable[..., WorkerProcess], shared: Engine
) -> None:
    start_worker(RAWEXPORT_POLL_S="30")
    queue = JobQueue(shared)
    time.sleep(0.5)  # the worker's first look found nothing: it waits for news or its poll

    job_id = submit_directly(shared)
    claimed = wait_for(queue, job_id, lambda job: job.started_at is not None, timeout=5)

    # By the database's clock, the claim came long before a 30-second poll would have.
    assert claimed.started_at is not None and claimed.started_at - claimed.created_at < 2


@on_postgresql
def test_sigterm_puts_the_running_job_back_in_the_queue(
    start_worker: Callable[..., WorkerProcess], shared: Engine
) -> None:
    worker = start_worker([sys.executable, "-c", NEVER_ENDING_EXPORT])
    queue = JobQueue(shared)
    job_id = submit_directly(shared)
    wait_for(queue, job_id, lambda job: job.percent == 10, timeout=15)

    began = time.monotonic()
    exit_code = worker.stop(signal.SIGTERM)
    stopped_after = time.monotonic() - began
    job = queue.get(job_id)

    assert exit_code == 0 and stopped_after < 10
    assert job is not None
    assert (job.status, job.worker_id, job.attempts) == (JobStatus.PENDING, None, 0)
    assert "released: this process is stopping" in worker.log.read_text()


def test_a_worker_needs_at_least_one_export_worker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAWEXPORT_")}
    out = subprocess.run(
        [*RAWEXPORT, "worker", "--workers", "0", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert out.returncode != 0
    assert "--workers must be at least 1" in out.stderr
    assert "Traceback" not in out.stderr


def test_only_an_embedded_event_store_ties_a_process_to_its_data_directory(
    tmp_path: Path,
) -> None:
    embedded = Runtime(Settings(data_dir=tmp_path))
    remote = Runtime(Settings(data_dir=tmp_path, store_url="clickhouse://ch.internal:8123/raw"))

    # Only the owner writes server.json (and its admin key) and refuses a second owner.
    assert embedded.owns_data_dir and not remote.owns_data_dir
    assert not embedded.shares_metadata
    assert Runtime(Settings(database_url="postgresql+psycopg://db/raw")).shares_metadata
