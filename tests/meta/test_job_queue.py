"""Claims, heartbeats, results, re-queueing, the download cap and expiry of `JobQueue`."""

from __future__ import annotations

import threading
from collections import Counter

from rawexport.domain.quotas import Limits
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import User
from rawexport.meta.jobs import JobQueue

UNLIMITED = Limits(10_000, 10_000, 10_000, 0)
T0 = 1_800_000_000.0


def submit(queue: JobQueue, member: tuple[User, str], now: float = T0) -> str:
    user, app_id = member
    return queue.submit(user, app_id, '{"spec": 1}', "csv", UNLIMITED, now)


def test_submitted_job_is_pending_and_stored(queue: JobQueue, member: tuple[User, str]) -> None:
    job_id = submit(queue, member)

    job = queue.get(job_id)

    assert job is not None
    assert (job.status, job.user_id, job.app_id, job.spec, job.format) == (
        JobStatus.PENDING,
        member[0].id,
        member[1],
        '{"spec": 1}',
        "csv",
    )
    assert (job.percent, job.attempts, job.downloads, job.created_at) == (0, 0, 0, T0)
    assert queue.get("no-such-job") is None


def test_claim_takes_the_oldest_pending_job(queue: JobQueue, member: tuple[User, str]) -> None:
    later = submit(queue, member, T0 + 1)
    earlier = submit(queue, member, T0)

    first, second = queue.claim("w1", T0 + 2), queue.claim("w2", T0 + 3)

    assert first is not None and second is not None
    assert (first.id, first.status, first.worker_id, first.started_at) == (
        earlier,
        JobStatus.RUNNING,
        "w1",
        T0 + 2,
    )
    assert (second.id, second.worker_id, second.heartbeat_at) == (later, "w2", T0 + 3)
    assert queue.claim("w3", T0 + 4) is None


def test_concurrent_claimers_take_each_job_once(queue: JobQueue, member: tuple[User, str]) -> None:
    submitted = {submit(queue, member, T0 + n) for n in range(40)}
    start = threading.Barrier(8)
    claimed: list[str] = []

    def drain(worker_id: str) -> None:
        start.wait()
        while (job := queue.claim(worker_id, T0 + 100)) is not None:
            assert job.worker_id == worker_id
            claimed.append(job.id)

    threads = [threading.Thread(target=drain, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(claimed) == Counter(submitted)


def test_only_the_owner_reports_on_a_job(queue: JobQueue, member: tuple[User, str]) -> None:
    job_id = submit(queue, member)
    assert queue.claim("owner", T0) is not None

    assert queue.heartbeat(job_id, "owner", 40, T0 + 5)
    assert not queue.heartbeat(job_id, "intruder", 90, T0 + 6)
    assert not queue.complete(job_id, "intruder", None, 0, 0, True, 60, T0 + 6)
    assert not queue.fail(job_id, "intruder", "boom", T0 + 6)
    job = queue.get(job_id)
    assert job is not None
    assert (job.status, job.percent, job.heartbeat_at) == (JobStatus.RUNNING, 40, T0 + 5)


def test_complete_publishes_the_report_with_its_lifetime(
    queue: JobQueue, member: tuple[User, str]
) -> None:
    job_id = submit(queue, member)
    queue.claim("w", T0)

    assert queue.complete(job_id, "w", "/reports/x.zip", 1234, 56, False, 3600, T0 + 10)

    job = queue.get(job_id)
    assert job is not None
    assert (job.status, job.percent, job.finished_at, job.expires_at) == (
        JobStatus.COMPLETE,
        100,
        T0 + 10,
        T0 + 3610,
    )
    assert (job.report_key, job.report_size, job.rows, job.empty) == (
        "/reports/x.zip",
        1234,
        56,
        False,
    )
    assert not queue.heartbeat(job_id, "w", 100, T0 + 11)


def test_fail_keeps_the_message(queue: JobQueue, member: tuple[User, str]) -> None:
    job_id = submit(queue, member)
    queue.claim("w", T0)

    assert queue.fail(job_id, "w", "event store unreachable", T0 + 1)

    job = queue.get(job_id)
    assert job is not None
    assert (job.status, job.error, job.finished_at) == (
        JobStatus.FAILED,
        "event store unreachable",
        T0 + 1,
    )


def test_stale_running_jobs_go_back_to_the_queue(queue: JobQueue, member: tuple[User, str]) -> None:
    stale, fresh = submit(queue, member, T0), submit(queue, member, T0 + 1)
    queue.claim("dead", T0)
    queue.claim("alive", T0)
    queue.heartbeat(fresh, "alive", 10, T0 + 30)

    assert queue.requeue_stale(older_than=T0 + 20) == 1

    job = queue.get(stale)
    assert job is not None
    assert (job.status, job.worker_id, job.attempts, job.percent) == (JobStatus.PENDING, None, 1, 0)
    assert not queue.heartbeat(stale, "dead", 50, T0 + 31)
    assert not queue.complete(stale, "dead", None, 0, 0, True, 60, T0 + 31)
    again = queue.claim("new", T0 + 32)
    assert again is not None and again.id == stale
    assert queue.requeue_stale(older_than=T0 + 20) == 0


def test_release_returns_a_job_untried(queue: JobQueue, member: tuple[User, str]) -> None:
    job_id = submit(queue, member)
    queue.claim("w", T0)

    assert not queue.release(job_id, "other")
    assert queue.release(job_id, "w")

    job = queue.get(job_id)
    assert job is not None and (job.status, job.worker_id, job.attempts) == (
        JobStatus.PENDING,
        None,
        0,
    )


def test_download_cap_holds_under_concurrent_downloads(
    queue: JobQueue, member: tuple[User, str]
) -> None:
    job_id = submit(queue, member)
    queue.claim("w", T0)
    queue.complete(job_id, "w", "/r.zip", 1, 1, False, 60, T0)
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
    job = queue.get(job_id)
    assert job is not None and job.downloads == 10
    assert not queue.register_download("no-such-job", limit=10)


def test_expired_reports_are_listed_until_forgotten(
    queue: JobQueue, member: tuple[User, str]
) -> None:
    short, long_lived, empty = (submit(queue, member, T0 + n) for n in range(3))
    for job_id, path, ttl in ((short, "/a.zip", 60), (long_lived, "/b.zip", 600), (empty, None, 1)):
        queue.claim("w", T0)
        queue.complete(job_id, "w", path, 0, 0, path is None, ttl, T0)

    assert [job.id for job in queue.expired(T0 + 59)] == []
    assert [job.id for job in queue.expired(T0 + 60)] == [short]
    queue.forget_report(short)
    assert queue.expired(T0 + 60) == []
    forgotten = queue.get(short)
    assert forgotten is not None and forgotten.report_key is None
