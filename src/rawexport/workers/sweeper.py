"""Removing reports whose lifetime is over, by the database's clock."""

from __future__ import annotations

from pathlib import Path

from rawexport.meta.jobs import JobQueue

__all__ = ["sweep_expired_reports"]


def sweep_expired_reports(queue: JobQueue, reports_dir: Path) -> int:
    """Delete the files of expired reports and forget them; returns how many were swept.

    The job row stays: getprogress and download tell an expired job apart from an unknown one.
    """
    expired = queue.expired()
    for job in expired:
        if job.report_key is not None:
            (reports_dir / job.report_key).unlink(missing_ok=True)
        queue.forget_report(job.id)
    return len(expired)
