"""Claims, heartbeats, results, re-queueing, the download cap and expiry of `JobQueue`, all on
the database's clock."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import Engine, select

from rawexport.domain.quotas import Limits
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import User
from rawexport.meta.clock import db_now
from rawexport.meta.jobs import Job, JobQueue, Reclaimed, stopped_worker_message
from tests.meta.conftest import AgeJob, spec_of

UNLIMITED = Limits(10_000, 10_000, 10_000, 0)


def submit(queue: JobQueue, member: tuple[User, str]) -> str:
    user, app_id = member
    return queue.submit(user, spec_of(app_id), UNLIMITED)


def stored(queue: JobQueue, job_id: str) -> Job:
    job = queue.get(job_id)
    assert job is not None
    return job


def database_now(engine: Engine) -> float:
    with engine.connect() as conn:
        return float(conn.execute(select(db_now())).scalar_one())


def test_the_database_clock_is_unix_seconds(engine: Engine) -> None:
    before = time.time()
    now = database_now(engine)
    after = time.time()

    # The test's database runs on this machine, so the two clocks agree here.
    assert before - 0.01 <= now <= after + 0.01


def test_submitted_job_is_pending_and_stored(
    queue: JobQueue, member: tuple[User, str], engine: Engine
) -> None:
    user, app_id = member
    before = database_now(engine)
    job_id = submit(queue, member)

    job = stored(queue, job_id)

    assert (job.status, job.user_id, job.space_id, job.spec) == (
        JobStatus.PENDING,
        user.id,
        user.space_id,
        dataclasses.replace(spec_of(app_id), snapshot=0),  # no batch loaded yet
    )
    assert (job.app_id, job.format) == (app_id, "jsonl")
    assert (job.percent, job.attempts, job.downloads, job.ttl_s, job.expired) == (
        0,
        0,
        0,
        None,
        False,
    )
    assert before <= job.created_at <= database_now(engine)
    assert queue.get("no-such-job") is None


def test_claim_takes_the_oldest_pending_job(
    queue: JobQueue, member: tuple[User, str], age_job: AgeJob
) -> None:
    later = submit(queue, member)
    earlier = submit(queue, member)
    age_job(earlier, 10)

    first, second = queue.claim("w1"), queue.claim("w2")

    assert first is not None and second is not None
    assert (first.id, first.status, first.worker_id) == (earlier, JobStatus.RUNNING, "w1")
    assert (second.id, second.worker_id) == (later, "w2")
    assert first.started_at is not None and first.started_at >= first.created_at + 10
    assert first.heartbeat_at == first.started_at
    assert queue.claim("w3") is None


def test_concurrent_claimers_take_each_job_once(queue: JobQueue, member: tuple[User, str]) -> None:
    submitted = {submit(queue, member) for _ in range(40)}
    start = threading.Barrier(8)
    claimed: list[str] = []

    def drain(worker_id: str) -> None:
        start.wait()
        while (job := queue.claim(worker_id)) is not None:
            assert job.worker_id == worker_id
            claimed.append(job.id)

    threads = [threading.Thread(target=drain, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(claimed) == Counter(submitted)


def test_only_the_owner_reports_on_a_job(
    queue: JobQueue, member: tuple[User, str], age_job: AgeJob
) -> None:
    job_id = submit(queue, member)
    assert queue.claim("owner") is not None
    age_job(job_id, 5)

    assert queue.heartbeat(job_id, "owner", 40)
    assert not queue.heartbeat(job_id, "intruder", 90)
    assert not queue.complete(
        job_id, "intruder", report_key=None, size=0, rows=0, empty=True, ttl_s=60
    )
    assert not queue.fail(job_id, "intruder", "boom")
    job = stored(queue, job_id)
    assert (job.status, job.percent) == (JobStatus.RUNNING, 40)
    assert job.heartbeat_at is not None and job.heartbeat_at >= job.created_at + 5


def test_complete_publishes_the_report_with_its_lifetime(
    queue: JobQueue, member: tuple[User, str]
) -> None:
    job_id = submit(queue, member)
    queue.claim("w")

    assert queue.complete(
        job_id, "w", report_key=f"{job_id}.zip", size=1234, rows=56, empty=False, ttl_s=3600
    )

    job = stored(queue, job_id)
    assert (job.status, job.percent, job.ttl_s, job.expired) == (
        JobStatus.COMPLETE,
        100,
        3600,
        False,
    )
    assert job.finished_at is not None and job.expires_at == job.finished_at + 3600
    assert (job.report_key, job.report_size, job.rows, job.empty) == (
        f"{job_id}.zip",
        1234,
        56,
        False,
    )
    assert not queue.heartbeat(job_id, "w", 100)


def test_fail_keeps_the_message(queue: JobQueue, member: tuple[User, str]) -> None:
    job_id = submit(queue, member)
    queue.claim("w")

    assert queue.fail(job_id, "w", "event store unreachable")

    job = stored(queue, job_id)
    assert (job.status, job.error) == (JobStatus.FAILED, "event store unreachable")
    assert job.finished_at is not None


def test_stale_running_jobs_go_back_to_the_queue(
    queue: JobQueue, member: tuple[User, str], age_job: AgeJob
) -> None:
    stale, fresh = submit(queue, member), submit(queue, member)
    queue.claim("dead")
    queue.claim("alive")
    age_job(stale, 31)
    age_job(fresh, 29)

    assert queue.reclaim_stale(stale_after_s=30, max_attempts=3) == Reclaimed(1, 0)

    job = stored(queue, stale)
    assert (job.status, job.worker_id, job.attempts, job.percent) == (JobStatus.PENDING, None, 1, 0)
    assert stored(queue, fresh).status == JobStatus.RUNNING
    assert not queue.heartbeat(stale, "dead", 50)
    assert not queue.complete(stale, "dead", report_key=None, size=0, rows=0, empty=True, ttl_s=1)
    again = queue.claim("new")
    assert again is not None and again.id == stale
    assert queue.reclaim_stale(stale_after_s=30, max_attempts=3) == Reclaimed(0, 0)


def test_a_job_that_stopped_its_worker_three_times_fails(
    queue: JobQueue, member: tuple[User, str], age_job: AgeJob
) -> None:
    job_id = submit(queue, member)
    reclaimed = []
    for worker in ("first", "second", "third"):
        claimed = queue.claim(worker)
        assert claimed is not None and claimed.id == job_id
        age_job(job_id, 60)  # the worker died: its heartbeats stopped
        reclaimed.append(queue.reclaim_stale(stale_after_s=30, max_attempts=3))

    job = stored(queue, job_id)
    assert reclaimed == [Reclaimed(1, 0), Reclaimed(1, 0), Reclaimed(0, 1)]
    assert (job.status, job.attempts, job.error) == (
        JobStatus.FAILED,
        3,
        stopped_worker_message(3),
    )
    assert "stopped its worker 3 times" in (job.error or "")
    assert job.finished_at is not None and queue.claim("fourth") is None
    assert not queue.heartbeat(job_id, "third", 10)


def test_release_returns_a_job_untried(queue: JobQueue, member: tuple[User, str]) -> None:
    job_id = submit(queue, member)
    queue.claim("w")

    assert not queue.release(job_id, "other")
    assert queue.release(job_id, "w")

    job = stored(queue, job_id)
    assert (job.status, job.worker_id, job.attempts) == (JobStatus.PENDING, None, 0)


def test_download_cap_holds_under_concurrent_downloads(
    queue: JobQueue, member: tuple[User, str]
) -> None:
    job_id = submit(queue, member)
    queue.claim("w")
    queue.complete(job_id, "w", report_key="r.zip", size=1, rows=1, empty=False, ttl_s=60)
    start = threading.Barrier(25)
    granted: list[bool] = []

    def download() -> None:
        start.wait()
        granted.append(queue.register_download(job_id, limit=10))

    threads = [threading.Thread(target=download) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert granted.count(True) == 10
    assert not queue.register_download(job_id, limit=10)
    assert stored(queue, job_id).downloads == 10
    assert not queue.register_download("no-such-job", limit=10)


def test_expired_reports_are_listed_until_forgotten(
    queue: JobQueue, member: tuple[User, str], age_job: AgeJob
) -> None:
    short, long_lived, empty = (submit(queue, member) for _ in range(3))
    for job_id, key, ttl in ((short, "a.zip", 60), (long_lived, "b.zip", 600), (empty, None, 1)):
        queue.claim("w")
        queue.complete(job_id, "w", report_key=key, size=0, rows=0, empty=key is None, ttl_s=ttl)

    for job_id in (short, long_lived, empty):
        age_job(job_id, 59)
    assert queue.expired() == []
    for job_id in (short, long_lived, empty):
        age_job(job_id, 1)
    assert [job.id for job in queue.expired()] == [short]
    assert stored(queue, short).expired and stored(queue, empty).expired
    assert not stored(queue, long_lived).expired
    queue.forget_report(short)
    assert queue.expired() == []
    assert stored(queue, short).report_key is None


def test_the_queue_reads_no_clock_of_the_process(
    queue: JobQueue,
    member: tuple[User, str],
    engine: Engine,
    age_job: AgeJob,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """This process's clock is three days slow; the queue goes by the database's all the same."""
    real_now = time.time()
    skewed = real_now - 3 * 86400
    monkeypatch.setattr(time, "time", lambda: skewed)
    dead, alive = submit(queue, member), submit(queue, member)
    queue.claim("dead-worker")
    queue.claim("live-worker")
    age_job(dead, 31)

    assert queue.heartbeat(alive, "live-worker", 10)
    assert queue.reclaim_stale(stale_after_s=30, max_attempts=3) == Reclaimed(1, 0)
    assert queue.complete(
        alive, "live-worker", report_key="k", size=1, rows=1, empty=False, ttl_s=60
    )
    done = stored(queue, alive)
    assert done.created_at == pytest.approx(real_now, abs=60)
    assert done.finished_at == pytest.approx(database_now(engine), abs=60)
    assert not done.expired and queue.expired() == []
