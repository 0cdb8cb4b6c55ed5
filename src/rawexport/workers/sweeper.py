"""Removing reports whose lifetime is over (by the database's clock), and what crashed writers
left behind."""

from __future__ import annotations

from rawexport.domain.states import JobStatus
from rawexport.meta.jobs import JobQueue
from rawexport.observability import journal
from rawexport.reports import ReportStore, job_id_of_report

__all__ = ["remove_crash_leftovers", "sweep_expired_reports"]


def sweep_expired_reports(queue: JobQueue, reports: ReportStore) -> int:
    """Delete expired reports from the store and forget them; returns how many were swept.

    The job row stays: getprogress and download tell an expired job apart from an unknown one.
    """
    expired = queue.expired()
    for job in expired:
        if job.report_key is not None:
            reports.delete(job.report_key)
        queue.forget_report(job.id)
        journal.job_expired(job.id, job.report_key)
    return len(expired)


def remove_crash_leftovers(queue: JobQueue, reports: ReportStore, older_than_s: float) -> int:
    """Remove partial reports (temporary files, pending uploads) of writers that died.

    A process killed mid-export cannot clean up after itself. What it left is removed once it is
    `older_than_s` old and its job is not running, so a live writer, even a slow one, keeps its
    partial report; a job run again later writes a new one.
    """

    def in_use(key: str) -> bool:
        job = queue.get(job_id_of_report(key))
        return job is not None and job.status is JobStatus.RUNNING

    return reports.remove_leftovers(older_than_s, in_use)
