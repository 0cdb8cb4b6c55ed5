"""The export job queue: quota-checked submission, atomic claims, heartbeats and lifetimes.

Every method is one short transaction, so several processes can share one PostgreSQL database.
A running job belongs to the worker id stored with it: heartbeat, complete and fail change the job
only while it is still that worker's, so a worker whose job was re-queued can do no harm.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, RowMapping, insert, select, update

from rawexport.domain.quotas import Limits
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import User
from rawexport.meta.quota_check import check_quotas
from rawexport.meta.schema import jobs, spaces, users

__all__ = ["Job", "JobQueue"]


@dataclass(frozen=True)
class Job:
    id: str
    user_id: str
    space_id: str
    app_id: str
    spec: str
    format: str
    status: JobStatus
    percent: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    worker_id: str | None
    attempts: int
    error: str | None
    report_key: str | None
    report_size: int | None
    rows: int | None
    empty: bool | None
    expires_at: float | None
    downloads: int

    @classmethod
    def from_row(cls, row: RowMapping) -> Job:
        return cls(**{**row, "status": JobStatus(row["status"])})


class JobQueue:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def submit(
        self, user: User, app_id: str, spec_json: str, fmt: str, limits: Limits, now: float
    ) -> str:
        """Store a new pending job, or raise the ApiError (20, 17, 18, 19) of the first quota
        it would exceed.

        The check and the insert are one transaction that holds the user's and the space's row
        locked (SQLite: the database write lock taken by BEGIN IMMEDIATE), so two simultaneous
        submissions of one user or space are counted one after the other.
        """
        job_id = str(uuid.uuid4())
        with self._engine.begin() as conn:
            conn.execute(select(users.c.id).where(users.c.id == user.id).with_for_update())
            conn.execute(select(spaces.c.id).where(spaces.c.id == user.space_id).with_for_update())
            check_quotas(conn, user, limits, now)
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    user_id=user.id,
                    space_id=user.space_id,
                    app_id=app_id,
                    spec=spec_json,
                    format=fmt,
                    status=JobStatus.PENDING,
                    created_at=now,
                )
            )
        return job_id

    def get(self, job_id: str) -> Job | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else Job.from_row(row)

    def recent(self, limit: int) -> list[Job]:
        """The `limit` most recently submitted jobs, newest first."""
        query = select(jobs).order_by(jobs.c.created_at.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [Job.from_row(row) for row in conn.execute(query).mappings()]

    def claim(self, worker_id: str, now: float) -> Job | None:
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
                started_at=now,
                heartbeat_at=now,
                percent=0,
            )
            .returning(*jobs.c)
        )
        with self._engine.begin() as conn:
            row = conn.execute(take).mappings().first()
        return None if row is None else Job.from_row(row)

    def heartbeat(self, job_id: str, worker_id: str, percent: int, now: float) -> bool:
        """Record that the worker is alive and how far it got; False once the job is not its."""
        return self._update_own(job_id, worker_id, {"heartbeat_at": now, "percent": percent})

    def complete(
        self,
        job_id: str,
        worker_id: str,
        report_key: str | None,
        size: int,
        rows: int,
        empty: bool,
        ttl_s: int,
        now: float,
    ) -> bool:
        """Publish the result; the report lives `ttl_s` seconds. False if the job is not ours."""
        published = {
            "status": JobStatus.COMPLETE,
            "percent": 100,
            "finished_at": now,
            "report_key": report_key,
            "report_size": size,
            "rows": rows,
            "empty": empty,
            "expires_at": now + ttl_s,
        }
        return self._update_own(job_id, worker_id, published)

    def fail(self, job_id: str, worker_id: str, message: str, now: float) -> bool:
        failed = {"status": JobStatus.FAILED, "finished_at": now, "error": message}
        return self._update_own(job_id, worker_id, failed)

    def release(self, job_id: str, worker_id: str) -> bool:
        """Give a job back untried (the worker is stopping); it is claimed again from the start."""
        untried = {"status": JobStatus.PENDING, "worker_id": None, "heartbeat_at": None}
        return self._update_own(job_id, worker_id, untried)

    def requeue_stale(self, older_than: float) -> int:
        """Put running jobs whose last heartbeat is before `older_than` back in the queue."""
        stale = (
            update(jobs)
            .where(jobs.c.status == JobStatus.RUNNING, jobs.c.heartbeat_at < older_than)
            .values(
                status=JobStatus.PENDING,
                worker_id=None,
                heartbeat_at=None,
                percent=0,
                attempts=jobs.c.attempts + 1,
            )
        )
        with self._engine.begin() as conn:
            return conn.execute(stale).rowcount

    def register_download(self, job_id: str, limit: int) -> bool:
        """Use one of the report's `limit` downloads, or answer False when none is left.

        One conditional UPDATE, so concurrent requests cannot exceed the cap.
        """
        under_cap = (jobs.c.id == job_id, jobs.c.downloads < limit)
        with self._engine.begin() as conn:
            taken = update(jobs).where(*under_cap).values(downloads=jobs.c.downloads + 1)
            return conn.execute(taken).rowcount == 1

    def expired(self, now: float) -> list[Job]:
        """Complete jobs whose report lifetime is over and whose report is not yet forgotten."""
        query = select(jobs).where(
            jobs.c.status == JobStatus.COMPLETE,
            jobs.c.expires_at <= now,
            jobs.c.report_key.is_not(None),
        )
        with self._engine.connect() as conn:
            return [Job.from_row(row) for row in conn.execute(query).mappings()]

    def forget_report(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(report_key=None))

    def _update_own(self, job_id: str, worker_id: str, values: dict[str, Any]) -> bool:
        own = update(jobs).where(
            jobs.c.id == job_id,
            jobs.c.worker_id == worker_id,
            jobs.c.status == JobStatus.RUNNING,
        )
        with self._engine.begin() as conn:
            return conn.execute(own.values(values)).rowcount == 1
