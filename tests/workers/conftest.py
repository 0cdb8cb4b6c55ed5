"""Fixtures of the worker tests: a job queue on SQLite and on PostgreSQL, and pools to run it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from rawexport.domain.jobspec import JobSpec
from rawexport.domain.quotas import Limits
from rawexport.meta.accounts import Accounts
from rawexport.meta.jobs import JobQueue
from rawexport.reports import LocalReportStore
from rawexport.settings import Settings
from rawexport.store.base import EventStore, Params
from rawexport.workers.pool import RunExport, WorkerPool

__all__ = ["opaque_store", "pools", "submit"]

_UNLIMITED = Limits(10_000, 10_000, 10_000, 0)


@pytest.fixture
def submit(engine: Engine, queue: JobQueue) -> Callable[[], str]:
    """Submits a job of one user and app (quotas out of the way); returns its id."""
    accounts = Accounts(engine)
    space_id = accounts.create_space("space")
    _, token = accounts.create_user(space_id, "worker-test@example.com")
    app_id, _ = accounts.create_app(space_id, "app")
    user = accounts.user_by_token(token)
    assert user is not None
    spec = JobSpec(app_id, 1_700_000_000, 1_700_086_400, events=())

    def submit_job() -> str:
        return queue.submit(user, spec, _UNLIMITED)

    return submit_job


class _Opaque:
    """A store without tables: the pool's sweeper finds nothing in it, exports are not run."""

    url = "opaque://"
    database = "opaque"

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return []


@pytest.fixture
def opaque_store() -> EventStore:
    """What the pool hands on to run_export (in a wrapper that can interrupt it), never using it."""
    return cast(EventStore, _Opaque())


@pytest.fixture
def pools(
    queue: JobQueue, opaque_store: EventStore, tmp_path: Path
) -> Iterator[Callable[..., WorkerPool]]:
    """Starts pools on the queue with quick heartbeats (settings and store overridable); stops
    them all."""
    started: list[WorkerPool] = []

    def start(
        run_export: RunExport, *, store: EventStore | None = None, **overrides: Any
    ) -> WorkerPool:
        values: dict[str, Any] = {"data_dir": tmp_path, "workers": 2, "heartbeat_s": 1}
        settings = Settings(**{**values, **overrides})
        reports = LocalReportStore(tmp_path / "reports")
        pool = WorkerPool(queue, store or opaque_store, reports, settings, run_export)
        pool.start()
        started.append(pool)
        return pool

    yield start
    for pool in started:
        pool.stop()
