"""The export job queue: quota-checked submission, atomic claims, heartbeats and lifetimes.

Every method is one short transaction, so processes on many machines can share one PostgreSQL
database, and every time the queue writes or compares comes from the database's clock (`db_now`):
no method takes the time from its caller. A running job belongs to the worker id stored with it:
heartbeat, complete and fail change the job only while it is still that worker's, so a worker
whose job was re-queued can do no harm. A job that ends (complete or failed) leaves its webhook
notification in the outbox in the same transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, RowMapping, Update, insert, select, update

from rawexport.domain.jobspec import Format, JobSpec
from rawexport.domain.quotas import Limits
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import User
from rawexport.meta.batches import low_watermark
from rawexport.meta.clock import db_now
from rawexport.meta.quota_check import check_quotas
from rawexport.meta.schema import jobs, spaces, users
from rawexport.meta.wakeup import SubmissionListener, announce_submission
from rawexport.webhooks.outbox import Outbox, enqueue

__all__ = ["JOB_COLUMNS", "Job", "JobQueue", "Reclaimed", "stopped_worker_message"]

_EXPIRED = (jobs.c.expires_at <= db_now()).label("expired")
JOB_COLUMNS = (*jobs.c, _EXPIRED)
"""What a `Job` is read from: the row, and whether its report's lifetime is over by now."""
_SPEC_COLUMNS = frozenset({"app_id", "format", "snapshot", "after_snapshot"})


@dataclass(frozen=True)
class Job:
    id: str
    user_id: str
    space_id: str
    spec: JobSpec
    status: JobStatus
    percent: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    worker_id: str | None
    attempts: int
    """How many times a worker died (stopped heartbeating) while running the job."""
    error: str | None
    report_key: str | None
    report_size: int | None
    rows: int | None
    empty: bool | None
    ttl_s: int | None
    expires_at: float | None
    downloads: int
    expired: bool
    """The report's lifetime was over when the job was read, by the database's clock."""

    @property
    def app_id(self) -> str:
        return self.spec.app_id

    @property
    def format(self) -> Format:
        return self.spec.format

    @property
    def snapshot(self) -> int | None:
        return self.spec.snapshot

    @property
    def continue_from(self) -> str | None:
        return self.spec.continue_from

    @classmethod
    def from_row(cls, row: RowMapping) -> Job:
        # app_id, format and the snapshots are columns for the database's sake (a foreign key,
        # a glance in psql); the job's own copy of them is the spec.
        values = {key: value for key, value in row.items() if key not in _SPEC_COLUMNS}
        return cls(
            **{
                **values,
                "spec": JobSpec.from_json(row["spec"]),
                "status": JobStatus(row["status"]),
                "expired": bool(row["expired"]),
            }
        )


class Reclaimed(NamedTuple):
    """Running jobs taken back from workers that stopped heartbeating."""

    requeued: int
    failed: int
    """Jobs that had stopped their worker `max_attempts` times, now failed instead."""


def stopped_worker_message(times: int) -> str:
    return (
        f"the job stopped its worker {times} times (the worker died or stopped answering while "
        "exporting it), so it is not run again"
    )


class JobQueue:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def submit(self, user: User, spec: JobSpec, limits: Limits) -> str:
        """Store a new pending job, or raise the ApiError (20, 17, 18, 19) of the first quota
        it would exceed.

        The check and the insert are one transaction that holds the user's and the space's row
        locked (SQLite: the database write lock taken by BEGIN IMMEDIATE), so two simultaneous
        submissions of one user or space are counted one after the other. The time is read once
        the locks are held, and the quotas and `created_at` use that one value. The job's
        snapshot of the load batches is taken in the same transaction, so every attempt to run
        the job exports the same rows.
        """
        job_id = str(uuid.uuid4())
        with self._engine.begin() as conn:
            conn.execute(select(users.c.id).where(users.c.id == user.id).with_for_update())
            conn.execute(select(spaces.c.id).where(spaces.c.id == user.space_id).with_for_update())
            now = conn.execute(select(db_now())).scalar_one()
            check_quotas(conn, user, limits, now)
            spec = dataclasses.replace(spec, snapshot=low_watermark(conn))
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    user_id=user.id,
                    space_id=user.space_id,
                    app_id=spec.app_id,
                    spec=spec.to_json(),
                    format=spec.format,
                    snapshot=spec.snapshot,
                    after_snapshot=spec.after_snapshot,
                    status=JobStatus.PENDING,
                    created_at=now,
                )
            )
            announce_submission(conn)
        return job_id

    def listener(self, on_submission: Callable[[], None]) -> SubmissionListener | None:
        """A listener for submissions made by any process, or None where the database has none."""
        if self._engine.dialect.name != "postgresql":
            return None
        return SubmissionListener(self._engine, on_submission)

    def get(self, job_id: str) -> Job | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(*JOB_COLUMNS).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else Job.from_row(row)

    def recent(
        self,
        limit: int,
        *,
        user_id: str | None = None,
        app_id: str | None = None,
        status: JobStatus | None = None,
    ) -> list[Job]:
        """The `limit` most recently submitted jobs, newest first; only those of the user, app
        and status given."""
        wanted = {jobs.c.user_id: user_id, jobs.c.app_id: app_id, jobs.c.status: status}
        query = (
            select(*JOB_COLUMNS)
            .where(*(column == value for column, value in wanted.items() if value is not None))
            .order_by(jobs.c.created_at.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [Job.from_row(row) for row in conn.execute(query).mappings()]

    def claim(self, worker_id: str) -> Job | None:
        """Take the oldest pending job for `worker_id`, or None when there is none.

        One statement: the sub-select picks the job and the update takes it, and on PostgreSQL
        SKIP LOCKED lets concurrent claimers pass over a row another one is taking.
        """
        oldest = (
            select(jobs.c.id)
            .where(jobs.c.status == JobStatus.PENDING)
            .order_by(jobs.c.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        take = (
            update(jobs)
            .where(jobs.c.id == oldest, jobs.c.status == JobStatus.PENDING)
            .values(
                status=JobStatus.RUNNING,
                worker_id=worker_id,
                started_at=db_now(),
                heartbeat_at=db_now(),
                percent=0,
            )
            .returning(*JOB_COLUMNS)
        )
        with self._engine.begin() as conn:
            row = conn.execute(take).mappings().first()
        return None if row is None else Job.from_row(row)

    def heartbeat(self, job_id: str, worker_id: str, percent: int) -> bool:
        """Record that the worker is alive and how far it got; False once the job is not its."""
        return self._update_own(job_id, worker_id, {"heartbeat_at": db_now(), "percent": percent})

    def complete(
        self,
        job_id: str,
        worker_id: str,
        *,
        report_key: str | None,
        size: int,
        rows: int,
        empty: bool,
        ttl_s: int,
    ) -> bool:
        """Publish the result; the report lives `ttl_s` seconds. False if the job is not ours."""
        published = {
            "status": JobStatus.COMPLETE,
            "percent": 100,
            "finished_at": db_now(),
            "report_key": report_key,
            "report_size": size,
            "rows": rows,
            "empty": empty,
            "ttl_s": ttl_s,
            "expires_at": db_now() + ttl_s,
        }
        return self._end_own(job_id, worker_id, published)

    def fail(self, job_id: str, worker_id: str, message: str) -> bool:
        failed = {"status": JobStatus.FAILED, "finished_at": db_now(), "error": message}
        return self._end_own(job_id, worker_id, failed)

    def cancel(self, job_id: str, message: str) -> bool:
        """Fail a pending or running job at once; False when it has already ended (or is none).

        A running job's worker learns it at its next heartbeat or progress report, which the
        queue refuses since the job is no longer its own, and its export is stopped.
        """
        unfinished = jobs.c.status.in_((JobStatus.PENDING, JobStatus.RUNNING))
        cancelled = {"status": JobStatus.FAILED, "finished_at": db_now(), "error": message}
        with self._engine.begin() as conn:
            taken = update(jobs).where(jobs.c.id == job_id, unfinished).values(cancelled)
            return _end(conn, taken) == 1

    def release(self, job_id: str, worker_id: str) -> bool:
        """Give a job back untried (the worker is stopping); it is claimed again from the start."""
        untried = {"status": JobStatus.PENDING, "worker_id": None, "heartbeat_at": None}
        return self._update_own(job_id, worker_id, untried)

    def reclaim_stale(self, stale_after_s: float, max_attempts: int) -> Reclaimed:
        """Take back running jobs without a heartbeat for `stale_after_s`: their worker is gone.

        Each such job has now stopped a worker once more; one that has done so `max_attempts`
        times fails rather than stopping the next worker too, the others go back in the queue.
        """
        stale = (jobs.c.status == JobStatus.RUNNING, jobs.c.heartbeat_at < db_now() - stale_after_s)
        attempts = jobs.c.attempts + 1
        poisoned = update(jobs).where(*stale, attempts >= max_attempts)
        requeue = update(jobs).where(*stale)
        with self._engine.begin() as conn:
            failed = _end(
                conn,
                poisoned.values(
                    status=JobStatus.FAILED,
                    attempts=attempts,
                    finished_at=db_now(),
                    error=stopped_worker_message(max_attempts),
                ),
            )
            requeued = conn.execute(
                requeue.values(
                    status=JobStatus.PENDING,
                    worker_id=None,
                    heartbeat_at=None,
                    percent=0,
                    attempts=attempts,
                )
            ).rowcount
        return Reclaimed(requeued, failed)

    def register_download(self, job_id: str, limit: int) -> bool:
        """Use one of the report's `limit` downloads, or answer False when none is left.

        One conditional UPDATE, so concurrent requests cannot exceed the cap.
        """
        under_cap = (jobs.c.id == job_id, jobs.c.downloads < limit)
        with self._engine.begin() as conn:
            taken = update(jobs).where(*under_cap).values(downloads=jobs.c.downloads + 1)
            return conn.execute(taken).rowcount == 1

    def expired(self) -> list[Job]:
        """Complete jobs whose report lifetime is over and whose report is not yet forgotten."""
        query = select(*JOB_COLUMNS).where(
            jobs.c.status == JobStatus.COMPLETE,
            _EXPIRED.element,
            jobs.c.report_key.is_not(None),
        )
        with self._engine.connect() as conn:
            return [Job.from_row(row) for row in conn.execute(query).mappings()]

    def forget_report(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(report_key=None))

    @property
    def engine(self) -> Engine:
        """The metadata database, for the sweeper's work on the other tables in it."""
        return self._engine

    @property
    def outbox(self) -> Outbox:
        """The webhook notifications of ended jobs, in the same database."""
        return Outbox(self._engine)

    def _update_own(self, job_id: str, worker_id: str, values: dict[str, Any]) -> bool:
        with self._engine.begin() as conn:
            return conn.execute(_own(job_id, worker_id).values(values)).rowcount == 1

    def _end_own(self, job_id: str, worker_id: str, values: dict[str, Any]) -> bool:
        with self._engine.begin() as conn:
            return _end(conn, _own(job_id, worker_id).values(values)) == 1


def _own(job_id: str, worker_id: str) -> Update:
    return update(jobs).where(
        jobs.c.id == job_id,
        jobs.c.worker_id == worker_id,
        jobs.c.status == JobStatus.RUNNING,
    )


def _end(conn: Connection, ending: Update) -> int:
    """Run an UPDATE that ends jobs, and queue their webhooks in its transaction; how many."""
    ended = [Job.from_row(row) for row in conn.execute(ending.returning(*JOB_COLUMNS)).mappings()]
    enqueue(conn, ended)
    return len(ended)
