"""The worker pool on a real queue: results, progress, failures, stops, lost and restarted jobs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from rawexport.domain.jobspec import JobSpec
from rawexport.domain.states import JobStatus
from rawexport.export.zipstream import ZipSink
from rawexport.meta.jobs import Job, JobQueue, stopped_worker_message
from rawexport.store.base import EventStore
from rawexport.store.interruptible import InterruptibleStore
from rawexport.workers.pool import STOP_GRACE_S, ProgressCallback, WorkerPool
from tests.meta.conftest import age

StartPool = Callable[..., WorkerPool]


@dataclass(frozen=True)
class Written:
    rows: int
    empty: bool
    size: int


def write_report(
    store: EventStore, spec: JobSpec, out: ZipSink, on_progress: ProgressCallback
) -> Written:
    """A small real export: one CSV in a ZIP, written into the pool's report writer."""
    on_progress(50)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as report:
        report.writestr("users.csv", f"devtodev ID,app\n1,{spec.app_id}\n")
    out.write(archive.getvalue())
    return Written(rows=1, empty=False, size=len(archive.getvalue()))


class GatedExport:
    """Reports `percent` until `finish` is set, then writes the report; counts its runs."""

    def __init__(self, percent: int = 42) -> None:
        self.percent = percent
        self.finish = threading.Event()
        self.interrupted = threading.Event()
        self.runs = 0

    def __call__(
        self, store: EventStore, spec: JobSpec, out: ZipSink, on_progress: ProgressCallback
    ) -> Written:
        self.runs += 1
        try:
            while not self.finish.wait(0.01):
                on_progress(self.percent)
        except Exception:
            self.interrupted.set()
            raise
        return write_report(store, spec, out, on_progress)


def wait_for_job(
    queue: JobQueue, job_id: str, condition: Callable[[Job], bool], timeout: float = 15
) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if job is not None and condition(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never met the condition; last state: {queue.get(job_id)}")


def is_status(status: JobStatus) -> Callable[[Job], bool]:
    return lambda job: job.status == status


def test_runs_a_job_to_complete(
    queue: JobQueue,
    submit: Callable[[], str],
    pools: StartPool,
    opaque_store: EventStore,
    tmp_path: Path,
) -> None:
    stores: list[EventStore] = []

    def export(
        store: EventStore, spec: JobSpec, out: ZipSink, on_progress: ProgressCallback
    ) -> Written:
        stores.append(store)
        return write_report(store, spec, out, on_progress)

    pool = pools(export, report_ttl_s=600)
    job_id = submit()
    pool.notify()

    job = wait_for_job(queue, job_id, is_status(JobStatus.COMPLETE))

    report = tmp_path / "reports" / f"{job_id}.zip"
    assert job.report_key == f"{job_id}.zip"
    assert (job.rows, job.empty, job.percent, job.report_size) == (
        1,
        False,
        100,
        report.stat().st_size,
    )
    assert job.finished_at is not None and job.expires_at == job.finished_at + 600
    assert job.ttl_s == 600
    assert [type(s).__name__ for s in stores] == [InterruptibleStore.__name__]
    with zipfile.ZipFile(report) as archive:
        assert archive.read("users.csv").decode().endswith(f"1,{job.app_id}\n")


def test_percent_is_reported_while_running(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    export = GatedExport(percent=42)
    pools(export)
    job_id = submit()

    running = wait_for_job(queue, job_id, lambda job: job.percent == 42)
    export.finish.set()
    done = wait_for_job(queue, job_id, is_status(JobStatus.COMPLETE))

    assert running.status == JobStatus.RUNNING
    assert done.percent == 100


def test_a_new_percent_is_recorded_without_waiting_for_the_heartbeat(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    export = GatedExport(percent=42)
    pools(export, heartbeat_s=3600)
    job_id = submit()

    running = wait_for_job(queue, job_id, lambda job: job.percent == 42)
    export.finish.set()

    assert running.status == JobStatus.RUNNING


def test_failed_job_keeps_a_helpful_message(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> Written:
        raise RuntimeError("event table events_x is missing")

    pools(broken)
    job_id = submit()

    job = wait_for_job(queue, job_id, is_status(JobStatus.FAILED))

    assert job.error == "event table events_x is missing"
    assert job.report_key is None
    logged = [r for r in caplog.records if r.exc_info and job_id in r.getMessage()]
    assert logged, "the traceback goes to the log"


def test_stop_interrupts_exports_requeues_and_leaves_no_thread(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    export = GatedExport()
    pool = pools(export)
    job_id = submit()
    wait_for_job(queue, job_id, is_status(JobStatus.RUNNING))

    pool.stop()

    assert export.interrupted.is_set()
    assert [t.name for t in threading.enumerate() if t.name.startswith("rawexport-")] == []
    job = queue.get(job_id)
    assert job is not None and (job.status, job.worker_id) == (JobStatus.PENDING, None)


def test_stop_releases_a_job_whose_export_does_not_notice_within_the_grace(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    started, finish = threading.Event(), threading.Event()

    def deaf(
        store: EventStore, spec: JobSpec, destination: ZipSink, on_progress: ProgressCallback
    ) -> Written:
        started.set()
        finish.wait(60)  # no progress report: nothing tells it to stop
        return write_report(store, spec, destination, lambda _: None)

    pool = pools(deaf)
    job_id = submit()
    assert started.wait(15)

    began = time.monotonic()
    pool.stop()
    stopped_after = time.monotonic() - began
    finish.set()

    assert stopped_after < STOP_GRACE_S + 2
    released = queue.get(job_id)
    assert released is not None and (released.status, released.worker_id) == (
        JobStatus.PENDING,
        None,
    )


def test_a_submission_wakes_a_postgresql_pool_it_was_not_told_about(
    engine: Engine, queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no notifications: its workers are woken in the same process")
    pools(write_report, poll_s=3600)
    time.sleep(0.2)  # let both workers find the queue empty and go idle
    job_id = submit()  # no pool.notify(): only the database can tell the pool

    job = wait_for_job(queue, job_id, is_status(JobStatus.COMPLETE), timeout=5)

    assert job.started_at is not None and job.started_at - job.created_at < 2


def test_a_requeued_job_is_dropped_by_its_old_worker(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    export = GatedExport()
    pools(export, workers=1)
    job_id = submit()
    first = wait_for_job(queue, job_id, is_status(JobStatus.RUNNING))

    # As if the worker had been silent too long (a heartbeat an hour from now would be stale):
    # another worker may now take the job.
    assert queue.reclaim_stale(stale_after_s=-3600, max_attempts=3).requeued == 1
    assert export.interrupted.wait(15)
    export.finish.set()
    done = wait_for_job(queue, job_id, is_status(JobStatus.COMPLETE))

    assert export.runs == 2
    assert done.attempts == 1 and done.worker_id == first.worker_id


def test_stale_jobs_of_live_pools_are_requeued_periodically(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    job_id = submit()
    assert queue.claim("vanished-worker") is not None
    pools(write_report, stale_after_s=2)

    job = wait_for_job(queue, job_id, is_status(JobStatus.COMPLETE))

    assert job.attempts == 1


CRASHING_SERVER = """
import sys, threading
from pathlib import Path
from rawexport.meta.db import connect
from rawexport.meta.jobs import JobQueue
from rawexport.reports import LocalReportStore
from rawexport.settings import Settings
from rawexport.workers.pool import WorkerPool

def never_ends(store, spec, destination, on_progress):
    threading.Event().wait()

settings = Settings(data_dir=Path(sys.argv[2]), workers=1, heartbeat_s=1)
reports = LocalReportStore(Path(sys.argv[2]) / "reports")
WorkerPool(JobQueue(connect(sys.argv[1])), None, reports, settings, never_ends).start()
threading.Event().wait()
"""


def crash_a_worker_on(
    queue: JobQueue, job_id: str, metadata_url: str, tmp_path: Path, attempt: int = 0
) -> None:
    """A worker process claims the job (its `attempt`-th run) and dies (kill -9) in the middle."""
    server = subprocess.Popen([sys.executable, "-c", CRASHING_SERVER, metadata_url, str(tmp_path)])
    try:
        wait_for_job(
            queue, job_id, lambda job: job.status == JobStatus.RUNNING and job.attempts == attempt
        )
    finally:
        server.kill()
        server.wait()


def test_restart_runs_pending_and_interrupted_jobs(
    metadata_url: str,
    engine: Engine,
    queue: JobQueue,
    submit: Callable[[], str],
    pools: StartPool,
    tmp_path: Path,
) -> None:
    interrupted = submit()
    crash_a_worker_on(queue, interrupted, metadata_url, tmp_path)
    pending = submit()
    # Two missed heartbeats tell a new pool, at its start, that the worker is gone.
    age(engine, interrupted, 2.5)

    pools(write_report, stale_after_s=3600)
    rerun = wait_for_job(queue, interrupted, is_status(JobStatus.COMPLETE))
    taken_up = wait_for_job(queue, pending, is_status(JobStatus.COMPLETE))

    assert rerun.attempts == 1 and taken_up.attempts == 0


def test_a_job_that_killed_three_workers_fails_instead_of_a_fourth(
    metadata_url: str,
    engine: Engine,
    queue: JobQueue,
    submit: Callable[[], str],
    pools: StartPool,
    tmp_path: Path,
) -> None:
    job_id = submit()
    for attempt in range(3):
        crash_a_worker_on(queue, job_id, metadata_url, tmp_path, attempt)
        age(engine, job_id, 2.5)
    runs: list[str] = []

    def export(
        store: EventStore, spec: JobSpec, destination: ZipSink, on_progress: ProgressCallback
    ) -> Written:
        runs.append(spec.app_id)
        return write_report(store, spec, destination, on_progress)

    pools(export, stale_after_s=3600)
    failed = wait_for_job(queue, job_id, is_status(JobStatus.FAILED))

    assert failed.attempts == 3 and failed.error == stopped_worker_message(3)
    assert runs == []


def test_a_job_cancelled_while_running_stops_its_export_and_stays_failed(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    export = GatedExport()
    pools(export)
    job_id = submit()
    wait_for_job(queue, job_id, is_status(JobStatus.RUNNING))

    assert queue.cancel(job_id, "cancelled by the operator")

    assert export.interrupted.wait(15)  # its next progress report found the job no longer its own
    job = queue.get(job_id)
    assert job is not None
    assert (job.status, job.error) == (JobStatus.FAILED, "cancelled by the operator")
    assert job.report_key is None and export.runs == 1
    assert not queue.cancel(job_id, "again")  # an ended job stays as it ended


def own_nice() -> int:
    """The calling thread's nice value (on Linux, a thread's own)."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice value per thread: Linux")
def test_exports_and_the_threads_they_start_run_nicer_than_the_rest(
    queue: JobQueue, submit: Callable[[], str], pools: StartPool
) -> None:
    seen: dict[str, int] = {}

    def export(
        store: EventStore, spec: JobSpec, out: ZipSink, on_progress: ProgressCallback
    ) -> Written:
        seen["export"] = own_nice()
        started = threading.Thread(target=lambda: seen.update(started=own_nice()))
        started.start()  # as the export's deflaters and queries are
        started.join()
        return write_report(store, spec, out, on_progress)

    here = own_nice()
    pools(export, export_nice=7)
    job_id = submit()

    wait_for_job(queue, job_id, is_status(JobStatus.COMPLETE))

    expected = min(19, here + 7)
    assert seen == {"export": expected, "started": expected}
    assert own_nice() == here  # the process's other threads keep theirs
