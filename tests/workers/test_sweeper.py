"""The sweeper: expired reports deleted from the report store (local and S3), by the sweep
function and by the pool's sweeper thread, partial reports of dead writers removed, and ended
load batches pruned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from rawexport.domain.states import JobStatus
from rawexport.meta.batches import BatchLedger
from rawexport.meta.jobs import JobQueue
from rawexport.reports import ReportStore, open_reports, report_key
from rawexport.workers.pool import WorkerPool
from rawexport.workers.sweeper import remove_crash_leftovers, sweep_expired_reports
from tests.meta.conftest import age
from tests.meta.test_batches import stored_batches
from tests.polling import wait_until
from tests.reports.peek import die_mid_write, leftovers, stored_keys
from tests.workers.test_pool import wait_for_job, write_report

EMPTY_ZIP = b"PK\x05\x06" + bytes(18)


@pytest.fixture
def reports(report_store_url: str) -> ReportStore:
    return open_reports(report_store_url)


def finish_with_report(queue: JobQueue, reports: ReportStore, job_id: str, ttl_s: int) -> None:
    with reports.writer(report_key(job_id)) as out:
        out.write(EMPTY_ZIP)
        out.commit()
    job = queue.claim("w")
    assert job is not None and job.id == job_id
    assert queue.complete(
        job_id,
        "w",
        report_key=report_key(job_id),
        size=len(EMPTY_ZIP),
        rows=1,
        empty=False,
        ttl_s=ttl_s,
    )


def test_sweep_deletes_only_expired_reports(
    queue: JobQueue, engine: Engine, reports: ReportStore, submit: Callable[[], str]
) -> None:
    short, long_lived = submit(), submit()
    finish_with_report(queue, reports, short, 10)
    finish_with_report(queue, reports, long_lived, 20)

    for job_id in (short, long_lived):
        age(engine, job_id, 9)
    assert sweep_expired_reports(queue, reports) == 0
    for job_id in (short, long_lived):
        age(engine, job_id, 1)
    assert sweep_expired_reports(queue, reports) == 1
    assert sweep_expired_reports(queue, reports) == 0

    assert stored_keys(reports) == [report_key(long_lived)]
    swept = queue.get(short)
    assert swept is not None and swept.report_key is None and swept.expired


def test_a_report_already_gone_is_forgotten_too(
    queue: JobQueue, engine: Engine, reports: ReportStore, submit: Callable[[], str]
) -> None:
    job_id = submit()
    finish_with_report(queue, reports, job_id, 1)
    reports.delete(report_key(job_id))
    age(engine, job_id, 1)

    assert sweep_expired_reports(queue, reports) == 1
    assert queue.expired() == []


def test_leftovers_are_removed_unless_their_job_is_running(
    queue: JobQueue, engine: Engine, reports: ReportStore, submit: Callable[[], str]
) -> None:
    first, second = submit(), submit()
    for job_id in (first, second):
        assert queue.claim(f"worker-of-{job_id}") is not None
        # The worker dies mid-write: its writer neither commits nor aborts.
        die_mid_write(reports, report_key(job_id), b"PK partial")
        age(engine, job_id, 3600)
    assert queue.reclaim_stale(stale_after_s=30, max_attempts=3).requeued == 2
    rerun = queue.claim("another-worker")  # its key is in use again
    assert rerun is not None

    assert remove_crash_leftovers(queue, reports, older_than_s=0) == 1

    assert leftovers(reports) == [report_key(rerun.id)]


def test_pool_sweeps_periodically(
    queue: JobQueue, submit: Callable[[], str], pools: Callable[..., WorkerPool], tmp_path: Path
) -> None:
    pools(write_report, report_ttl_s=1, sweep_interval_s=1)
    reports = open_reports(str(tmp_path / "reports"))  # where the `pools` fixture keeps them
    job_id = submit()
    done = wait_for_job(queue, job_id, lambda job: job.status == JobStatus.COMPLETE)
    assert done.report_key == report_key(job_id)
    assert reports.open(done.report_key) is not None

    wait_for_job(queue, job_id, lambda job: job.report_key is None)

    assert reports.open(done.report_key) is None


def test_pool_prunes_ended_load_batches(engine: Engine, pools: Callable[..., WorkerPool]) -> None:
    ledger = BatchLedger(engine, lease_s=60)
    committed, held, abandoned, largest = (ledger.open("app") for _ in range(4))
    ledger.commit(committed)
    ledger.abandon(abandoned)
    ledger.commit(largest)
    snapshot = ledger.snapshot()

    pools(write_report, sweep_interval_s=1)  # no job is submitted: it exports nothing

    wait_until(lambda: stored_batches(engine) == [held, largest])
    assert ledger.snapshot() == snapshot == held - 1
