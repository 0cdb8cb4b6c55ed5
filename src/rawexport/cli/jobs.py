"""`job list` and `job show`: what the export workers did, for operators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rawexport.cli.common import emit, operator_command, runtime_for
from rawexport.meta.jobs import Job

__all__ = ["job"]

_LISTED = ("id", "user_id", "app_id", "status", "percent", "rows", "report_size", "error")


@click.group()
def job() -> None:
    """Export jobs: their state, timings, sizes and errors."""


@job.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@operator_command
def job_list(limit: int, data_dir: Path, as_json: bool) -> None:
    """The most recent jobs, newest first."""
    with runtime_for(data_dir) as rt:
        found = rt.jobs.recent(limit)
    if as_json:
        emit(True, {"jobs": [_summary(j) for j in found]})
        return
    for j in found:
        summary = _summary(j)
        click.echo("  ".join(f"{key}={summary[key]}" for key in (*_LISTED, "seconds")))


@job.command("show")
@click.argument("job_id")
@operator_command
def job_show(job_id: str, data_dir: Path, as_json: bool) -> None:
    """One job: its request, state, timings (UNIX seconds) and result."""
    with runtime_for(data_dir) as rt:
        found = rt.jobs.get(job_id)
    if found is None:
        raise click.ClickException(f"no job {job_id}")
    emit(as_json, {**_summary(found), "spec": json.loads(found.spec)})


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
        "downloads": j.downloads,
    }
