"""Removing reports whose lifetime is over."""

from __future__ import annotations

from pathlib import Path

from rawexport.meta.jobs import JobQueue

__all__ = ["sweep_expired_reports"]


def sweep_expired_reports(queue: JobQueue, now: float) -> int:
    """Delete the files of expired reports and forget them; returns how many were swept.

    The job row stays: getprogress and download tell an expired job apart from an unknown one.
    """
    expired = queue.expired(now)
    for job in expired:
        if job.report_path is not None:
            Path(job.report_path).unlink(missing_ok=True)
        queue.forget_report(job.id)
    return len(expired)
