"""The quota checks (setjob's last), run inside the transaction that stores a new job.

Only accepted jobs are rows of the job table, so counting rows counts exactly the jobs that count.
`now` is the database's clock, read in that transaction once the locks are held: the UTC day and
the interval since the last job are the same on every machine that submits.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, func, select

from rawexport.domain.errors import ApiError
from rawexport.domain.quotas import Limits, seconds_to_utc_midnight, utc_day_start
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import User
from rawexport.meta.schema import jobs

__all__ = ["CONCURRENCY_RETRY_S", "check_quotas"]

CONCURRENCY_RETRY_S = 5
"""Retry-After of code 17: when a running job ends cannot be known, so a short polling period."""

_UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)


def check_quotas(conn: Connection, user: User, limits: Limits, now: float) -> None:
    """Raise for the first exceeded quota, in the order docs/api.md gives."""
    mine = jobs.c.user_id == user.id
    last = conn.scalar(select(func.max(jobs.c.created_at)).where(mine))
    # A database clock stepped back (NTP) could put the last job in the future.
    elapsed = None if last is None else max(0.0, now - last)
    if elapsed is not None and elapsed < limits.min_job_interval_s:
        wait = math.ceil(limits.min_job_interval_s - elapsed)
        raise ApiError(20, {"limit": limits.min_job_interval_s}, retry_after=max(1, wait))
    unfinished = _count(conn, mine, jobs.c.status.in_(_UNFINISHED))
    if unfinished >= limits.max_concurrent_jobs:
        raise ApiError(17, {"limit": limits.max_concurrent_jobs}, retry_after=CONCURRENCY_RETRY_S)
    today = jobs.c.created_at >= utc_day_start(now)
    if _count(conn, mine, today) >= limits.jobs_per_day_user:
        limit = limits.jobs_per_day_user
        raise ApiError(18, {"limit": limit}, retry_after=seconds_to_utc_midnight(now))
    if _count(conn, jobs.c.space_id == user.space_id, today) >= limits.jobs_per_day_space:
        limit = limits.jobs_per_day_space
        raise ApiError(19, {"limit": limit}, retry_after=seconds_to_utc_midnight(now))


def _count(conn: Connection, *where: Any) -> int:
    return conn.scalar(select(func.count()).select_from(jobs).where(*where)) or 0
