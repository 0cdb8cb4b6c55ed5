"""The webhook outbox: notifications written with the end of their job, claimed by deliverers.

`enqueue` runs inside the transaction that completes or fails a job, so a job never ends without
its notification, whichever process ends it and whatever happens to that process next. Any
process that runs workers delivers any row: `claim` takes one due row in one statement (on
PostgreSQL `FOR UPDATE SKIP LOCKED`, so deliverers pass over each other's rows) and moves its
next attempt past a lease, so a deliverer that dies mid-POST leaves the row to be claimed again.
Every time here is the database's: deliverers on many machines share one clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import orjson
from sqlalchemy import Connection, Engine, case, delete, func, insert, select, update

from rawexport.domain.jobspec import JobSpec
from rawexport.domain.progress import JobState, download_url, progress_envelope
from rawexport.meta.accounts import space_webhook_secret
from rawexport.meta.clock import db_now
from rawexport.meta.schema import webhook_outbox

__all__ = ["Delivery", "EndedJob", "Outbox", "enqueue", "notification_body"]

_row = webhook_outbox.c


class EndedJob(JobState, Protocol):
    """A job that just completed or failed (a `meta.jobs.Job` is one)."""

    @property
    def space_id(self) -> str: ...
    @property
    def spec(self) -> JobSpec: ...
    @property
    def finished_at(self) -> float | None: ...


def notification_body(job: EndedJob) -> str:
    """The job's getprogress answer as JSON. Its report `url` carries no `user_token`: the server
    keeps only tokens' hashes, and a notification is no place for a credential."""
    url = download_url(job.spec.base_url or "", job.id, token=None)
    return orjson.dumps(progress_envelope(job, url)).decode()


def enqueue(conn: Connection, ended: Iterable[EndedJob]) -> None:
    """Queue the notification of each ended job that asked for one, in the caller's transaction."""
    for job in ended:
        if job.spec.notify_url is None:
            continue
        conn.execute(
            insert(webhook_outbox).values(
                job_id=job.id,
                space_id=job.space_id,
                url=job.spec.notify_url,
                body=notification_body(job),
                # The job's end, by the database's clock: the give-up age counts from it.
                created_at=job.finished_at,
                next_attempt_at=job.finished_at,
                attempts=0,
            )
        )


@dataclass(frozen=True)
class Delivery:
    """A claimed notification, with the secret of its job's space to sign it."""

    job_id: str
    space_id: str
    url: str
    body: bytes
    attempts: int
    """Claims so far, this one included."""
    secret: str


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, lease_s: float) -> Delivery | None:
        """The oldest due notification, not due again for `lease_s`; None when none is due."""
        due = (
            select(_row.job_id)
            .where(_row.delivered_at.is_(None), _row.next_attempt_at <= db_now())
            .order_by(_row.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        take = (
            update(webhook_outbox)
            .where(_row.job_id == due, _row.delivered_at.is_(None))
            .values(next_attempt_at=db_now() + lease_s, attempts=_row.attempts + 1)
            .returning(_row.job_id, _row.space_id, _row.url, _row.body, _row.attempts)
        )
        with self._engine.begin() as conn:
            row = conn.execute(take).first()
            if row is None:
                return None
            # Read in the claim's transaction: the row's own space, never the caller's say.
            secret = space_webhook_secret(conn, row.space_id)
        assert secret is not None  # a space is never deleted
        body = row.body.encode()
        return Delivery(row.job_id, row.space_id, row.url, body, row.attempts, secret)

    def delivered(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            done = update(webhook_outbox).where(_row.job_id == job_id)
            conn.execute(done.values(delivered_at=db_now()))

    def retry(self, job_id: str, error: str, delay_s: float, give_up_s: float) -> bool:
        """Try again in `delay_s` (the last time at `give_up_s` after the job ended); False when
        that age is past: the notification is dropped instead."""
        deadline = _row.created_at + give_up_s
        later = db_now() + delay_s
        pending = (_row.job_id == job_id, _row.delivered_at.is_(None))
        with self._engine.begin() as conn:
            kept = conn.execute(
                update(webhook_outbox)
                .where(*pending, deadline > db_now())
                .values(
                    next_attempt_at=case((later < deadline, later), else_=deadline),
                    last_error=error,
                )
            ).rowcount
            if not kept:
                conn.execute(delete(webhook_outbox).where(*pending))
        return kept == 1

    def drop(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(webhook_outbox).where(_row.job_id == job_id))

    def seconds_to_next(self) -> float | None:
        """How long until the next notification is due (≤ 0: now); None when none waits."""
        waiting = select(func.min(_row.next_attempt_at) - db_now()).where(
            _row.delivered_at.is_(None)
        )
        with self._engine.connect() as conn:
            seconds: float | None = conn.scalar(waiting)
        return seconds

    def forget_delivered(self, older_than_s: float) -> int:
        """Delete notifications delivered more than `older_than_s` ago; how many there were."""
        old = _row.delivered_at < db_now() - older_than_s
        with self._engine.begin() as conn:
            return conn.execute(delete(webhook_outbox).where(old)).rowcount
