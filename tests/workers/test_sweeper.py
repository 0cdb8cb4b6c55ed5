"""Expired reports are deleted, by the sweep function and by the pool's sweeper thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from rawexport.domain.states import JobStatus
from rawexport.meta.jobs import JobQueue
from rawexport.workers.pool import WorkerPool
from rawexport.workers.sweeper import sweep_expired_reports
from tests.meta.conftest import age
from tests.workers.test_pool import wait_for_job, write_report


def finish_with_report(queue: JobQueue, job_id: str, reports: Path, ttl_s: int) -> Path:
    report = reports / f"{job_id}.zip"
    report.write_bytes(b"PK\x05\x06" + bytes(18))
    job = queue.claim("w")
    assert job is not None and job.id == job_id
    size = report.stat().st_size
    assert queue.complete(
        job_id, "w", report_key=report.name, size=size, rows=1, empty=False, ttl_s=ttl_s
    )
    return report


def test_sweep_deletes_only_expired_reports(
    queue: JobQueue, engine: Engine, submit: Callable[[], str], tmp_path: Path
) -> None:
    short, long_lived = submit(), submit()
    short_report = finish_with_report(queue, short, tmp_path, 10)
    long_report = finish_with_report(queue, long_lived, tmp_path, 20)

    for job_id in (short, long_lived):
        age(engine, job_id, 9)
    assert sweep_expired_reports(queue, tmp_path) == 0
    for job_id in (short, long_lived):
        age(engine, job_id, 1)
    assert sweep_expired_reports(queue, tmp_path) == 1
    assert sweep_expired_reports(queue, tmp_path) == 0

    assert not short_report.exists() and long_report.exists()
    swept = queue.get(short)
    assert swept is not None and swept.report_key is None and swept.expired


def test_a_file_already_gone_is_forgotten_too(
    queue: JobQueue, submit: Callable[[], str], tmp_path: Path
) -> None:
    job_id = submit()
    finish_with_report(queue, job_id, tmp_path, 0).unlink()

    assert sweep_expired_reports(queue, tmp_path) == 1
    assert queue.expired() == []


def test_pool_sweeps_periodically(
    queue: JobQueue, submit: Callable[[], str], pools: Callable[..., WorkerPool], tmp_path: Path
) -> None:
    pools(write_report, report_ttl_s=1, sweep_interval_s=1)
    job_id = submit()
    done = wait_for_job(queue, job_id, lambda job: job.status == JobStatus.COMPLETE)
    assert done.report_key is not None
    report = tmp_path / "reports" / done.report_key
    assert report.exists()

    wait_for_job(queue, job_id, lambda job: job.report_key is None)

    assert not report.exists()
