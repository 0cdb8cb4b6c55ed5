"""`job list` and `job show`: what the export workers did, for operators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.cli.tables import duration, emit_rows, field, moment, size
from rawexport.domain.states import JobStatus
from rawexport.meta.jobs import Job
from rawexport.observability import journal

__all__ = ["job"]

_LISTED = ("id", "user_id", "app_id", "status", "percent", "rows", "report_size", "error")


@click.group()
def job() -> None:
    """Export jobs: their state, timings, sizes and errors; cancelling one."""


@job.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--user", "user_id", help="Only the jobs of this user id.")
@click.option("--app", "app_id", help="Only the jobs of this app id.")
@click.option(
    "--status", type=click.Choice([s.value for s in JobStatus]), help="Only jobs in this state."
)
@operator_command
def job_list(
    limit: int,
    user_id: str | None,
    app_id: str | None,
    status: str | None,
    data_dir: Path,
    as_json: bool,
) -> None:
    """The most recent jobs, newest first: state, times (UTC), rows, size, error.

    A complete job whose report's lifetime is over is marked expired.
    """
    wanted = None if status is None else JobStatus(status)
    with runtime_for(data_dir) as rt:
        found = rt.jobs.recent(limit, user_id=user_id, app_id=app_id, status=wanted)
    emit_rows(as_json, "jobs", [_summary(j) for j in found], _COLUMNS)


def _state(summary: Mapping[str, Any]) -> str:
    return f"{summary['status']} (expired)" if summary["expired"] else str(summary["status"])


def _took(summary: Mapping[str, Any]) -> str:
    return duration(summary["seconds"])


_COLUMNS = {
    "job": field("id"),
    "state": _state,
    "created (UTC)": field("created_at", moment),
    "took": _took,
    "rows": field("rows"),
    "size": field("report_size", size),
    "downloads": field("downloads"),
    "error": field("error"),
}


@job.command("show")
@click.argument("job_id")
@operator_command
def job_show(job_id: str, data_dir: Path, as_json: bool) -> None:
    """One job: its request, state, timings (UNIX seconds) and result."""
    with runtime_for(data_dir) as rt:
        found = rt.jobs.get(job_id)
    if found is None:
        raise click.ClickException(f"no job {job_id}")
    emit(as_json, {**_summary(found), "spec": asdict(found.spec)})


CANCELLED = "cancelled by the operator"
"""The failure message of a job that `job cancel` ended; getprogress answers it with code 1."""


@job.command("cancel")
@click.argument("job_id")
@operator_command
def job_cancel(job_id: str, data_dir: Path, as_json: bool) -> None:
    """Stop a pending or running job: it fails with code 1, "cancelled by the operator"."""
    with runtime_for(data_dir) as rt:
        if not rt.jobs.cancel(job_id, CANCELLED):
            found = rt.jobs.get(job_id)
            if found is None:
                raise click.ClickException(f"no job {job_id}")
            raise click.ClickException(f"job {job_id} has already ended ({found.status.value})")
    journal.job_cancelled(job_id, CANCELLED)
    emit(as_json, {"job_id": job_id, "status": "failed", "error": CANCELLED})


def _summary(j: Job) -> dict[str, Any]:
    """Everything but the request; `seconds` runs from setjob to the end of the job."""
    seconds = None if j.finished_at is None else round(j.finished_at - j.created_at, 3)
    return {
        **{key: getattr(j, key) for key in _LISTED},
        "status": j.status.value,
        "created_at": j.created_at,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
        "seconds": seconds,
        "attempts": j.attempts,
        "worker_id": j.worker_id,
        "expires_at": j.expires_at,
        "expired": j.expired,
        "downloads": j.downloads,
    }
