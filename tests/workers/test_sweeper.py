"""Expired reports are deleted, by the sweep function and by the pool's sweeper thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rawexport.domain.states import JobStatus
from rawexport.meta.jobs import JobQueue
from rawexport.workers.pool import WorkerPool
from rawexport.workers.sweeper import sweep_expired_reports
from tests.workers.test_pool import wait_for_job, write_report


def finish_with_report(queue: JobQueue, job_id: str, report: Path, ttl_s: int, now: float) -> None:
    report.write_bytes(b"PK\x05\x06" + bytes(18))
    job = queue.claim("w", now)
    assert job is not None and job.id == job_id
    assert queue.complete(job_id, "w", str(report), report.stat().st_size, 1, False, ttl_s, now)


def test_sweep_deletes_only_expired_reports(
    queue: JobQueue, submit: Callable[[], str], tmp_path: Path
) -> None:
    now = time.time()
    short, long_lived = submit(), submit()
    finish_with_report(queue, short, tmp_path / "short.zip", 10, now)
    finish_with_report(queue, long_lived, tmp_path / "long.zip", 20, now)

    assert sweep_expired_reports(queue, now + 9) == 0
    assert sweep_expired_reports(queue, now + 10) == 1
    assert sweep_expired_reports(queue, now + 10) == 0

    assert not (tmp_path / "short.zip").exists() and (tmp_path / "long.zip").exists()
    swept = queue.get(short)
    assert swept is not None and swept.report_path is None and swept.expires_at == now + 10


def test_a_file_already_gone_is_forgotten_too(
    queue: JobQueue, submit: Callable[[], str], tmp_path: Path
) -> None:
    now = time.time()
    job_id = submit()
    finish_with_report(queue, job_id, tmp_path / "gone.zip", 1, now)
    (tmp_path / "gone.zip").unlink()

    assert sweep_expired_reports(queue, now + 1) == 1
    assert queue.expired(now + 1) == []


def test_pool_sweeps_periodically(
    queue: JobQueue, submit: Callable[[], str], pools: Callable[..., WorkerPool], tmp_path: Path
) -> None:
    pools(write_report, report_ttl_s=1, sweep_interval_s=1)
    job_id = submit()
    done = wait_for_job(queue, job_id, lambda job: job.status == JobStatus.COMPLETE)
    assert done.report_path is not None and Path(done.report_path).exists()

    wait_for_job(queue, job_id, lambda job: job.report_path is None)

    assert not Path(done.report_path).exists()
