"""The getprogress read: the token's user and their own job, fresh on every read.

On SQLite the read keeps a connection of its own between calls: a read must still see what other
connections committed since the last one, and must not hold the database between reads.
"""

from __future__ import annotations

import gc
import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from rawexport.domain.quotas import Limits
from rawexport.meta.accounts import Accounts, User
from rawexport.meta.db import connect
from rawexport.meta.jobs import JobQueue
from rawexport.meta.progress_lookup import user_and_own_job
from tests.conftest import granted_account
from tests.meta.conftest import spec_of

_LIMITS = Limits(
    jobs_per_day_space=100, jobs_per_day_user=100, max_concurrent_jobs=100, min_job_interval_s=0
)


def test_the_owner_gets_the_job_and_nobody_else_does(
    engine: Engine, accounts: Accounts, queue: JobQueue, member: tuple[User, str]
) -> None:
    user, app_id = member
    job_id = queue.submit(user, spec_of(app_id), _LIMITS)
    stranger = granted_account(accounts)

    found_user, job = user_and_own_job(engine, _token_of(accounts, user.id), job_id)
    assert found_user is not None and found_user.id == user.id
    assert job is not None and job.id == job_id and job.app_id == app_id

    other, none = user_and_own_job(engine, stranger.token, job_id)
    assert other is not None and other.id == stranger.user_id and none is None
    assert user_and_own_job(engine, "not-a-token", job_id) == (None, None)


def test_each_read_sees_what_was_committed_since_the_last(
    engine: Engine, accounts: Accounts, queue: JobQueue, member: tuple[User, str]
) -> None:
    user, app_id = member
    token = _token_of(accounts, user.id)
    job_id = queue.submit(user, spec_of(app_id), _LIMITS)
    assert _percent(engine, token, job_id) == 0

    claimed = queue.claim("worker-1")
    assert claimed is not None and claimed.id == job_id
    for percent in (10, 55):
        assert queue.heartbeat(job_id, "worker-1", percent)
        assert _percent(engine, token, job_id) == percent

    accounts.set_user_flags(user.id, api=False, raw_export=None)
    found, _ = user_and_own_job(engine, token, job_id)
    assert found is not None and found.api_access is False


def test_sqlite_reads_leave_no_transaction_open(tmp_path: Path) -> None:
    """A checkpoint that empties the WAL completes only when no reader holds a snapshot."""
    engine = connect(f"sqlite:///{tmp_path / 'meta.sqlite3'}")
    accounts, queue = Accounts(engine), JobQueue(engine)
    account = granted_account(accounts)
    user = accounts.user_by_token(account.token)
    assert user is not None
    job_id = queue.submit(user, spec_of(account.app_id), _LIMITS)
    assert _percent(engine, account.token, job_id) == 0
    other = sqlite3.connect(tmp_path / "meta.sqlite3", isolation_level=None)
    try:
        other.execute("UPDATE jobs SET percent = 5 WHERE id = ?", (job_id,))
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        other.close()
    assert busy == 0
    assert _percent(engine, account.token, job_id) == 5
    engine.dispose()


def _percent(engine: Engine, token: str, job_id: str) -> int:
    _, job = user_and_own_job(engine, token, job_id)
    assert job is not None
    return job.percent


def _token_of(accounts: Accounts, user_id: str) -> str:
    return accounts.reset_token(user_id)


def test_the_kept_connection_goes_with_its_engine(tmp_path: Path) -> None:
    database = tmp_path / "meta.sqlite3"
    engine = connect(f"sqlite:///{database}")
    assert user_and_own_job(engine, "not-a-token", "") == (None, None)
    assert _open_files_of(database)  # the read keeps its connection
    engine.dispose()
    del engine
    gc.collect()
    assert _open_files_of(database) == []


def _open_files_of(database: Path) -> list[str]:
    """The files of this process open on `database` (its WAL and index files included)."""
    opened = (os.readlink(link) for link in Path("/proc/self/fd").iterdir() if link.is_symlink())
    return [name for name in opened if name.startswith(str(database))]
