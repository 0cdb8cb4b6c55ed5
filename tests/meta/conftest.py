"""Fixtures of the metadata tests: every test runs on SQLite and on PostgreSQL.

The queue takes every time from the database's clock, so a test cannot hand it a moment; it
makes time pass for a job instead, by moving the job's stored times back (`age_job`).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, update

from rawexport.domain.jobspec import JobSpec
from rawexport.meta.accounts import Accounts, User
from rawexport.meta.schema import jobs
from tests.conftest import granted_account

__all__ = ["AgeJob", "age", "age_job", "member", "spec_of"]

AgeJob = Callable[[str, float], None]

_TIMES = ("created_at", "started_at", "finished_at", "heartbeat_at", "expires_at")


def spec_of(app_id: str) -> JobSpec:
    return JobSpec(app_id, 1_700_000_000, 1_700_086_400, events=(), format="jsonl")


@pytest.fixture
def member(accounts: Accounts) -> tuple[User, str]:
    """A fresh user of a fresh space, granted one app: (user, app_id)."""
    account = granted_account(accounts)
    user = accounts.user_by_token(account.token)
    assert user is not None
    return user, account.app_id


def age(engine: Engine, job_id: str, seconds: float) -> None:
    """As if `seconds` had passed since each of the job's times."""
    earlier = {name: jobs.c[name] - seconds for name in _TIMES}
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(earlier))


@pytest.fixture
def age_job(engine: Engine) -> AgeJob:
    """`age_job(job_id, seconds)`: `age` on the test's database."""
    return lambda job_id, seconds: age(engine, job_id, seconds)
