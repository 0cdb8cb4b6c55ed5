"""Bounded jobs: a real export on a real store, stopped within seconds whatever it is doing.

The store under the export is the real one, except that every query it runs is one that would
take hours (a row a block, 50 ms a row), so the export blocks in its planning probes: the phase
that never reports progress. What stops it must cancel that query, not wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rawexport.domain.jobspec import EventSelection, JobSpec
from rawexport.domain.quotas import Limits
from rawexport.domain.states import JobStatus
from rawexport.export.engine import run_export
from rawexport.meta.accounts import Accounts
from rawexport.meta.jobs import JobQueue
from rawexport.store.base import EventStore, Params, ResultStream
from rawexport.workers.pool import STOP_GRACE_S, WorkerPool, time_limit_message
from tests.polling import wait_until
from tests.workers.test_pool import is_status, wait_for_job

_MARK = "sleepEachRow(0.05)"
_ENDLESS = f"SELECT {_MARK} FROM numbers(1000000) SETTINGS max_block_size = 1"


class EndlessQueries:
    """The real store, except that every query it streams runs for hours."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def stream(self, sql: str, params: Params | None, fmt: str) -> ResultStream:
        return self._store.stream(_ENDLESS, None, fmt)


def endless_queries_running(store: EventStore) -> int:
    ((running,),) = store.rows(
        "SELECT count() FROM system.processes WHERE position(query, {mark:String}) > 0"
        " AND position(query, 'system.processes') = 0",
        {"mark": _MARK},
    )
    return int(running)


@pytest.fixture
def submit_export(accounts: Accounts, queue: JobQueue) -> Callable[[], str]:
    space_id = accounts.create_space("space")
    _, token = accounts.create_user(space_id, "bounds@example.com")
    app_id, _ = accounts.create_app(space_id, "app")
    user = accounts.user_by_token(token)
    assert user is not None
    event = EventSelection("levelComplete", True, "levelComplete")
    spec = JobSpec(app_id, 1_700_000_000_000, 1_700_086_400_000, events=(event,))
    return lambda: queue.submit(user, spec, Limits(10_000, 10_000, 10_000, 0))


@pytest.fixture
def start_pool(
    pools: Callable[..., WorkerPool], event_store: EventStore
) -> Iterator[Callable[..., WorkerPool]]:
    """Pools of one worker running real exports on `EndlessQueries`; stopped at the end."""

    started: list[WorkerPool] = []

    def start(**overrides: Any) -> WorkerPool:
        pool = pools(run_export, store=EndlessQueries(event_store), workers=1, **overrides)
        started.append(pool)
        return pool

    yield start
    for pool in started:  # before `pools` does: a stopped pool's queries must be gone
        pool.stop()
    wait_until(lambda: endless_queries_running(event_store) == 0)


def test_the_time_limit_fails_a_job_blocked_in_its_planning_probes(
    queue: JobQueue,
    event_store: EventStore,
    submit_export: Callable[[], str],
    start_pool: Callable[..., WorkerPool],
) -> None:
    start_pool(job_timeout_s=1).notify()
    job_id = submit_export()
    wait_for_job(queue, job_id, is_status(JobStatus.RUNNING))
    started = time.monotonic()

    job = wait_for_job(queue, job_id, is_status(JobStatus.FAILED))

    assert time.monotonic() - started < 1 + 5
    assert job.error == time_limit_message(1)
    assert job.error == "the export ran longer than the limit of 1 s"
    wait_until(lambda: endless_queries_running(event_store) == 0, timeout=5)


def test_a_stop_during_a_long_query_returns_at_once_and_the_job_is_pending_again(
    queue: JobQueue,
    event_store: EventStore,
    submit_export: Callable[[], str],
    start_pool: Callable[..., WorkerPool],
) -> None:
    pool = start_pool()
    job_id = submit_export()
    pool.notify()
    wait_for_job(queue, job_id, is_status(JobStatus.RUNNING))
    wait_until(lambda: endless_queries_running(event_store) > 0)
    workers = [t for t in threading.enumerate() if t.name.startswith("rawexport-worker")]

    started = time.monotonic()
    pool.stop()

    assert time.monotonic() - started < STOP_GRACE_S
    assert not any(t.is_alive() for t in workers)  # the export ended: not merely given up on
    job = queue.get(job_id)
    assert job is not None and job.status == JobStatus.PENDING
    wait_until(lambda: endless_queries_running(event_store) == 0, timeout=5)


def test_heartbeats_go_on_while_one_query_runs(
    queue: JobQueue,
    event_store: EventStore,
    submit_export: Callable[[], str],
    start_pool: Callable[..., WorkerPool],
) -> None:
    start_pool(heartbeat_s=1).notify()
    job_id = submit_export()
    first = wait_for_job(queue, job_id, lambda job: job.heartbeat_at is not None).heartbeat_at
    assert first is not None

    wait_for_job(queue, job_id, lambda job: (job.heartbeat_at or 0) >= first + 2)

    assert endless_queries_running(event_store) == 1  # still the same single query
    job = queue.get(job_id)
    assert job is not None and job.status == JobStatus.RUNNING and job.percent == 0
