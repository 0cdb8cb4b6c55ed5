"""The outbox: a notification is written by the very transaction that ends its job, and claims
by many deliverers at once hand each notification to one of them."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, update

from rawexport.meta.jobs import JobQueue
from rawexport.meta.schema import jobs
from rawexport.webhooks.outbox import Delivery, Outbox
from tests.webhooks.conftest import Member, outbox_row

URL = "https://hooks.example.com/rawexport"


def claimed(queue: JobQueue, member: Member, worker: str = "w") -> str:
    job_id = member.submit(URL)
    job = queue.claim(worker)
    assert job is not None and job.id == job_id
    return job_id


def test_every_way_a_job_ends_leaves_its_notification(
    engine: Engine, queue: JobQueue, member: Member
) -> None:
    completed = claimed(queue, member)
    queue.complete(completed, "w", report_key="r.zip", size=10, rows=1, empty=False, ttl_s=60)
    failed = claimed(queue, member)
    queue.fail(failed, "w", "boom")
    cancelled = member.submit(URL)
    queue.cancel(cancelled, "cancelled by the operator")
    poisoned = claimed(queue, member)
    with engine.begin() as conn:  # its worker stopped heartbeating, for the last allowed time
        stale = {"heartbeat_at": jobs.c.heartbeat_at - 600, "attempts": 2}
        conn.execute(update(jobs).where(jobs.c.id == poisoned).values(stale))
    queue.reclaim_stale(30, max_attempts=3)
    quiet = claimed(queue, member)
    queue.complete(quiet, "w", report_key=None, size=0, rows=0, empty=True, ttl_s=60)
    unended = member.submit(URL)

    for job_id in (completed, failed, cancelled, poisoned):
        row = outbox_row(engine, job_id)
        job = queue.get(job_id)
        assert job is not None and row is not None
        assert (row.space_id, row.url, row.attempts) == (member.space_id, URL, 0)
        assert row.created_at == row.next_attempt_at == job.finished_at
    assert '"status_code":201' in outbox_row(engine, completed).body
    assert "boom" in outbox_row(engine, failed).body
    assert "cancelled by the operator" in outbox_row(engine, cancelled).body
    assert "stopped its worker 3 times" in outbox_row(engine, poisoned).body
    assert outbox_row(engine, unended) is None
    assert '"status_code":200' in outbox_row(engine, quiet).body  # an empty result


def test_a_result_refused_to_a_worker_that_lost_the_job_writes_nothing(
    engine: Engine, queue: JobQueue, member: Member
) -> None:
    job_id = claimed(queue, member)
    assert not queue.fail(job_id, "another-worker", "boom")
    assert outbox_row(engine, job_id) is None


def test_concurrent_claims_hand_out_each_notification_once(
    engine: Engine, queue: JobQueue, member: Member
) -> None:
    ended = []
    for _ in range(12):
        job_id = claimed(queue, member)
        queue.fail(job_id, "w", "boom")
        ended.append(job_id)
    outbox = Outbox(engine)
    taken: list[Delivery] = []
    lock = threading.Lock()

    def deliverer() -> None:
        while (delivery := outbox.claim(lease_s=60)) is not None:
            with lock:
                taken.append(delivery)

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(d.job_id for d in taken) == sorted(ended)
    assert {d.attempts for d in taken} == {1}
    assert outbox.claim(lease_s=60) is None  # every one is leased


def test_a_lapsed_claim_is_claimed_again_and_a_retry_waits(
    engine: Engine, queue: JobQueue, member: Member
) -> None:
    job_id = claimed(queue, member)
    queue.fail(job_id, "w", "boom")
    outbox = Outbox(engine)

    first = outbox.claim(lease_s=0)  # its deliverer died at once: the lease is over
    second = outbox.claim(lease_s=60)
    assert first is not None and second is not None
    assert (second.job_id, second.attempts) == (job_id, 2)
    assert outbox.retry(job_id, "answered 500", delay_s=60, give_up_s=3600)
    assert outbox.claim(lease_s=60) is None
    due_in = outbox.seconds_to_next()
    assert due_in is not None and 55 < due_in <= 60
    assert outbox_row(engine, job_id).last_error == "answered 500"

    assert not outbox.retry(job_id, "answered 500", delay_s=60, give_up_s=0)  # too old now
    assert outbox_row(engine, job_id) is None and outbox.seconds_to_next() is None
