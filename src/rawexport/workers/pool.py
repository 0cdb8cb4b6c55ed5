"""Export worker threads: claim jobs, run the export, keep the claim alive, publish the result.

Restart: every claim is a lease kept alive by a heartbeat. At start a pool owns no job, so every
running job belongs to another process; those whose heartbeat missed two periods have lost their
worker (the process died), and are re-queued at once. Later, every heartbeat also re-queues jobs
whose heartbeat is older than `stale_after_s`, whichever process they belonged to. A worker that was
only slow, not dead, can do no harm: the queue accepts its heartbeat and its result only while the
job is still its own, and its export is interrupted at its next progress report.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rawexport.domain.jobspec import JobSpec
from rawexport.export.zipstream import ZipSink
from rawexport.meta.jobs import Job, JobQueue
from rawexport.reports import ReportStore, report_key
from rawexport.settings import Settings
from rawexport.store.base import EventStore
from rawexport.workers.sweeper import remove_crash_leftovers, sweep_expired_reports

__all__ = ["ExportOutcome", "ProgressCallback", "RunExport", "WorkerPool"]

log = logging.getLogger(__name__)

POLL_S = 0.5
"""How often an idle worker looks for jobs submitted by another process."""

PROGRESS_WRITE_S = 1.0
"""A running job's new percent reaches the database at most this often (and at heartbeats)."""

ProgressCallback = Callable[[int], None]


class ExportOutcome(Protocol):
    @property
    def rows(self) -> int: ...
    @property
    def empty(self) -> bool: ...
    @property
    def size(self) -> int: ...


RunExport = Callable[[EventStore, JobSpec, ZipSink, ProgressCallback], ExportOutcome]


class _Interrupted(Exception):
    """Raised from the progress callback to stop an export the pool no longer wants."""


@dataclass
class _Lease:
    job_id: str
    worker_id: str
    percent: int = 0
    lost: bool = False
    next_write: float = 0.0  # time.monotonic() from which a new percent may be written


class WorkerPool:
    def __init__(
        self,
        queue: JobQueue,
        store: EventStore,
        reports: ReportStore,
        settings: Settings,
        run_export: RunExport,
    ) -> None:
        self._queue, self._store, self._settings = queue, store, settings
        self._reports = reports
        self._run_export = run_export
        # Worker ids must never repeat across processes: a job's owner is known by its id alone.
        self._boot_id = uuid.uuid4().hex[:12]
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._leases: dict[str, _Lease] = {}
        self._leases_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the worker pool is already running")
        settings = self._settings
        self._stopping.clear()
        # See the module docstring: at start, two missed heartbeats mean a dead worker.
        dead_after_s = min(2 * settings.heartbeat_s, settings.stale_after_s)
        self._queue.requeue_stale(time.time() - dead_after_s)
        self._threads = [
            threading.Thread(
                target=self._work, args=(f"{self._boot_id}-{n}",), name=f"rawexport-worker-{n}"
            )
            for n in range(settings.workers)
        ]
        self._threads += [
            threading.Thread(
                target=self._every, args=(interval_s, action), name=f"rawexport-{name}"
            )
            for name, interval_s, action in (
                ("heartbeat", settings.heartbeat_s, self._keep_leases),
                ("sweeper", settings.sweep_interval_s, self._sweep),
            )
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop every thread; exports still running are interrupted and their jobs re-queued."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def notify(self) -> None:
        """Wake idle workers: a job was just submitted."""
        self._wake.set()

    def _work(self, worker_id: str) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                busy = self._take_one(worker_id)
            except Exception:
                # The metadata database failed; a job left running is re-queued once stale.
                log.exception("worker %s", worker_id)
                busy = False
            if not busy:
                self._wake.wait(POLL_S)

    def _take_one(self, worker_id: str) -> bool:
        job = self._queue.claim(worker_id, time.time())
        if job is not None:
            self._run(job, worker_id)
        return job is not None

    def _run(self, job: Job, worker_id: str) -> None:
        lease = _Lease(job.id, worker_id)

        def on_progress(percent: int) -> None:
            if lease.lost or self._stopping.is_set():
                raise _Interrupted(job.id)
            if percent != lease.percent and time.monotonic() >= lease.next_write:
                # Without this, getprogress would move only with the heartbeat (every 5 s).
                lease.next_write = time.monotonic() + PROGRESS_WRITE_S
                self._record_progress(lease, percent)
            lease.percent = percent

        with self._leases_lock:
            self._leases[worker_id] = lease
        key = report_key(job.id)
        try:
            spec = JobSpec.from_json(job.spec)
            with self._reports.writer(key) as report:
                result = self._run_export(self._store, spec, report, on_progress)
                if not result.empty:
                    report.commit()
        except Exception as error:
            self._abandon(lease, error)
            return
        finally:
            with self._leases_lock:
                del self._leases[worker_id]
        published = None if result.empty else key
        ttl_s = self._settings.report_ttl_s
        if not self._queue.complete(
            job.id, worker_id, published, result.size, result.rows, result.empty, ttl_s, time.time()
        ):
            log.warning("job %s was re-queued while this worker ran it; result dropped", job.id)

    def _abandon(self, lease: _Lease, error: Exception) -> None:
        # The export may wrap our _Interrupted in its own error, so the lease decides, not the type.
        if lease.lost:
            log.warning(
                "job %s was re-queued while this worker ran it; export stopped", lease.job_id
            )
        elif self._stopping.is_set():
            self._queue.release(lease.job_id, lease.worker_id)
        else:
            log.exception("job %s failed", lease.job_id, exc_info=error)
            message = str(error) or type(error).__name__
            self._queue.fail(lease.job_id, lease.worker_id, message, time.time())

    def _record_progress(self, lease: _Lease, percent: int) -> None:
        try:
            if not self._queue.heartbeat(lease.job_id, lease.worker_id, percent, time.time()):
                lease.lost = True
        except Exception:
            # Progress is advice to the poller; the export goes on, the heartbeat retries.
            log.warning("job %s: progress not recorded", lease.job_id, exc_info=True)

    def _keep_leases(self) -> None:
        now = time.time()
        with self._leases_lock:
            leases = list(self._leases.values())
        for lease in leases:
            if not self._queue.heartbeat(lease.job_id, lease.worker_id, lease.percent, now):
                lease.lost = True
        self._queue.requeue_stale(now - self._settings.stale_after_s)

    def _sweep(self) -> None:
        swept = sweep_expired_reports(self._queue, self._reports, time.time())
        if swept:
            log.info("deleted %d expired reports", swept)
        removed = remove_crash_leftovers(self._queue, self._reports, self._settings.stale_after_s)
        if removed:
            log.info("removed %d partial reports of writers that died", removed)

    def _every(self, interval_s: float, action: Callable[[], None]) -> None:
        while True:
            try:
                action()
            except Exception:
                log.exception("%s failed", threading.current_thread().name)
            if self._stopping.wait(interval_s):
                return
