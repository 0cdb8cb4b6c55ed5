"""Export worker threads: claim jobs, run the export, keep the claim alive, publish the result.

Restart: every claim is a lease kept alive by a heartbeat. At start a pool owns no job, so every
running job belongs to another process; those whose heartbeat missed two periods have lost their
worker (the process died), and are re-queued at once. Later, every heartbeat also re-queues jobs
whose heartbeat is older than `stale_after_s`, whichever process they belonged to; a job that has
lost `max_attempts` workers that way fails instead of taking the next one down. A worker that was
only slow, not dead, can do no harm: the queue accepts its heartbeat and its result only while the
job is still its own, and its export is interrupted as soon as a heartbeat finds the job gone.

Bounds: an export runs on an `InterruptibleStore`, so whatever it is doing (planning probes, a
file's query, deflating) it stops within seconds of being interrupted: its query is cancelled,
not waited for. Interruptions are a lost lease, the pool stopping, and the job time limit
(`job_timeout_s`), past which the job fails saying so.

Stop: exports are interrupted and their jobs released; a job whose export does not end within
`STOP_GRACE_S` is released all the same, so a stopping process hands its jobs back within
seconds (the export thread is a daemon and dies with the process).

Priority: a worker thread runs `export_nice` steps nicer than the rest of the process before it
takes a job (on Linux a nice value is a thread's own, and threads inherit it when created), so
the threads it starts for an export (planning, deflating, the calls into the store) are nicer
too. The scheduler then gives the API's event loop, heartbeats and the sweeper the CPU first.
The store engine's own query threads are left as they are: reniced as well (ClickHouse's
`os_thread_priority`), they made getprogress slower while exports ran, not faster, and an
embedded engine without CAP_SYS_NICE ignores that setting anyway (docs/performance.md).

Waking: `notify` wakes the idle workers of this process; the queue's listener (PostgreSQL)
calls it for jobs submitted by any process; otherwise idle workers look every `poll_s`.

Webhooks: the pool runs the delivery loop of `notify_url` notifications (`webhooks/delivery.py`)
and wakes it when one of its jobs ends, so the notification leaves at once.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rawexport.domain.jobspec import JobSpec
from rawexport.export.zipstream import ZipSink
from rawexport.meta.batches import prune_ended_batches
from rawexport.meta.jobs import Job, JobQueue
from rawexport.meta.wakeup import SubmissionListener
from rawexport.observability import journal
from rawexport.reports import ReportStore, report_key
from rawexport.settings import Settings
from rawexport.store.base import EventStore
from rawexport.store.interruptible import InterruptibleStore
from rawexport.store.leftovers import remove_leftovers
from rawexport.webhooks.delivery import Deliverer
from rawexport.workers.sweeper import remove_crash_leftovers, sweep_expired_reports

__all__ = [
    "ExportOutcome",
    "ProgressCallback",
    "RunExport",
    "WorkerPool",
    "time_limit_message",
]

log = logging.getLogger(__name__)

STOP_GRACE_S = 3.0
"""How long `stop` waits for exports to notice it before releasing their jobs regardless."""

LISTEN_READY_S = 5.0
"""How long `start` waits for the submission listener before relying on polling alone."""

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


_LOST = "the job was re-queued while this worker ran it"
_STOPPING = "this process is stopping"


def time_limit_message(limit_s: int) -> str:
    """The error of a job stopped by the time limit."""
    return f"the export ran longer than the limit of {limit_s} s"


@dataclass
class _Lease:
    job_id: str
    worker_id: str
    store: InterruptibleStore
    percent: int = 0
    lost: bool = False
    timed_out: bool = False
    next_write: float = 0.0  # time.monotonic() from which a new percent may be written

    def lose(self) -> None:
        self.lost = True
        self.store.interrupt(_LOST)

    def time_out(self, limit_s: int) -> None:
        self.timed_out = True
        self.store.interrupt(time_limit_message(limit_s))


def _lower_this_thread(steps: int) -> None:
    """Make the calling thread `steps` nicer (at most 19), and the threads it starts from now on.

    Lowering a priority needs no privilege; where a nice value is not per thread (not Linux)
    the thread keeps its priority rather than lower the whole process's.
    """
    if steps <= 0 or not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(
            os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + steps)
        )
    except OSError as error:
        log.warning("export threads keep the API's priority: %s", error)


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
        self._listener: SubmissionListener | None = None
        self._webhooks = Deliverer(queue.outbox, settings)

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the worker pool is already running")
        settings = self._settings
        self._stopping.clear()
        # See the module docstring: at start, two missed heartbeats mean a dead worker.
        self._reclaim(min(2 * settings.heartbeat_s, settings.stale_after_s))
        # Listening before the first claim: a job submitted in between is either claimed by the
        # first look or announced to a listener already in place.
        self._listener = self._queue.listener(self.notify)
        if self._listener is not None and not self._listener.start(LISTEN_READY_S):
            log.warning("not yet listening for submitted jobs; polling every %ss", settings.poll_s)
        # Daemons: an export (or a database call) stuck past STOP_GRACE_S must not keep the
        # process alive.
        self._threads = [
            threading.Thread(
                target=self._work,
                args=(f"{self._boot_id}-{n}",),
                name=f"rawexport-worker-{n}",
                daemon=True,
            )
            for n in range(settings.workers)
        ]
        self._threads += [
            threading.Thread(
                target=self._every,
                args=(interval_s, action),
                name=f"rawexport-{name}",
                daemon=True,
            )
            for name, interval_s, action in (
                ("heartbeat", settings.heartbeat_s, self._keep_leases),
                ("sweeper", settings.sweep_interval_s, self._sweep),
            )
        ]
        for thread in self._threads:
            thread.start()
        self._webhooks.start()

    def stop(self) -> None:
        """Stop every thread; exports still running are interrupted and their jobs re-queued."""
        self._stopping.set()
        self._wake.set()
        with self._leases_lock:
            for lease in self._leases.values():
                lease.store.interrupt(_STOPPING)
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        deadline = time.monotonic() + STOP_GRACE_S
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._release_leases()
        self._threads = []
        self._webhooks.stop()

    def _release_leases(self) -> None:
        """Hand back the jobs of exports that did not stop in time (see the module docstring)."""
        with self._leases_lock:
            leases = list(self._leases.values())
        for lease in leases:
            lease.lose()  # whatever the export does later is no longer ours to record
            if self._queue.release(lease.job_id, lease.worker_id):
                log.warning("job %s released while its export was still running", lease.job_id)

    def notify(self) -> None:
        """Wake idle workers: a job was just submitted."""
        self._wake.set()

    def _work(self, worker_id: str) -> None:
        _lower_this_thread(self._settings.export_nice)
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                busy = self._take_one(worker_id)
            except Exception:
                # The metadata database failed; a job left running is re-queued once stale.
                log.exception("worker %s", worker_id)
                busy = False
            if not busy:
                self._wake.wait(self._settings.poll_s)

    def _take_one(self, worker_id: str) -> bool:
        job = self._queue.claim(worker_id)
        if job is not None:
            self._run(job, worker_id)
        return job is not None

    def _run(self, job: Job, worker_id: str) -> None:
        lease = _Lease(job.id, worker_id, InterruptibleStore(self._store))
        limit_s = self._settings.job_timeout_s
        time_limit = threading.Timer(limit_s, lease.time_out, (limit_s,))
        time_limit.daemon = True
        journal.job_started(job.id, worker_id)

        def on_progress(percent: int) -> None:
            lease.store.check()
            if percent != lease.percent and time.monotonic() >= lease.next_write:
                # Without this, getprogress would move only with the heartbeat (every 5 s).
                lease.next_write = time.monotonic() + PROGRESS_WRITE_S
                self._record_progress(lease, percent)
            lease.percent = percent

        with self._leases_lock:
            self._leases[worker_id] = lease
            if self._stopping.is_set():  # claimed while `stop` interrupted the others
                lease.store.interrupt(_STOPPING)
        key = report_key(job.id)
        time_limit.start()
        try:
            with self._reports.writer(key) as report:
                result = self._run_export(lease.store, job.spec, report, on_progress)
                lease.store.check()  # an export that ignored the interruption is not published
                if not result.empty:
                    report.commit()
        except Exception as error:
            self._abandon(lease, error)
            return
        finally:
            time_limit.cancel()
            with self._leases_lock:
                del self._leases[worker_id]
        if not self._queue.complete(
            job.id,
            worker_id,
            report_key=None if result.empty else key,
            size=result.size,
            rows=result.rows,
            empty=result.empty,
            ttl_s=self._settings.report_ttl_s,
        ):
            log.warning("job %s was re-queued while this worker ran it; result dropped", job.id)
        else:
            journal.job_finished(job.id, result)
            self._webhooks.wake()

    def _abandon(self, lease: _Lease, error: Exception) -> None:
        # The export may wrap `Interrupted` in its own error, so the lease decides, not the type.
        if lease.lost:
            log.warning(
                "job %s was re-queued while this worker ran it; export stopped", lease.job_id
            )
        elif lease.timed_out:
            message = time_limit_message(self._settings.job_timeout_s)
            log.warning("job %s failed: %s", lease.job_id, message)
            self._queue.fail(lease.job_id, lease.worker_id, message)
            self._webhooks.wake()
        elif self._stopping.is_set():
            self._queue.release(lease.job_id, lease.worker_id)
            log.info("job %s released: this process is stopping", lease.job_id)
        else:
            log.exception("job %s failed", lease.job_id, exc_info=error)
            message = str(error) or type(error).__name__
            self._queue.fail(lease.job_id, lease.worker_id, message)
            journal.job_failed(lease.job_id, message)
            self._webhooks.wake()

    def _record_progress(self, lease: _Lease, percent: int) -> None:
        try:
            if not self._queue.heartbeat(lease.job_id, lease.worker_id, percent):
                lease.lose()
        except Exception:
            # Progress is advice to the poller; the export goes on, the heartbeat retries.
            log.warning("job %s: progress not recorded", lease.job_id, exc_info=True)

    def _keep_leases(self) -> None:
        with self._leases_lock:
            leases = list(self._leases.values())
        for lease in leases:
            if not self._queue.heartbeat(lease.job_id, lease.worker_id, lease.percent):
                lease.lose()
        self._reclaim(self._settings.stale_after_s)

    def _reclaim(self, stale_after_s: float) -> None:
        reclaimed = self._queue.reclaim_stale(stale_after_s, self._settings.max_attempts)
        journal.jobs_reclaimed(*reclaimed, self._settings.max_attempts)

    def _sweep(self) -> None:
        swept = sweep_expired_reports(self._queue, self._reports)
        if swept:
            log.info("deleted %d expired reports", swept)
        removed = remove_crash_leftovers(self._queue, self._reports, self._settings.stale_after_s)
        if removed:
            log.info("removed %d partial reports of writers that died", removed)
        remove_leftovers(self._store, self._settings.staging_ttl_s)
        self._webhooks.forget_delivered()
        prune_ended_batches(self._queue.engine)

    def _every(self, interval_s: float, action: Callable[[], None]) -> None:
        while True:
            try:
                action()
            except Exception:
                log.exception("%s failed", threading.current_thread().name)
            if self._stopping.wait(interval_s):
                return
