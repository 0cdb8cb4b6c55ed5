"""`rawexport pull`: one command from a time window to extracted report files."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from rawexport.cli.pull_state import PullState, StateFileError, read_state, write_state
from rawexport.client import (
    AccessError,
    AuthError,
    BadRequest,
    Client,
    NotFound,
    QuotaExceeded,
    RateLimited,
    RawExportError,
    Report,
)
from rawexport.client.download import archive_name
from rawexport.client.protocol import Progress as JobProgress
from rawexport.client.timeparse import parse_when

__all__ = ["EXIT_CODES", "pull"]

# Most specific first: the first class the error is an instance of gives the exit code.
EXIT_CODES: tuple[tuple[type[RawExportError], int], ...] = (
    (AuthError, 3),
    (AccessError, 3),
    (BadRequest, 4),
    (NotFound, 4),
    (QuotaExceeded, 5),
    (RateLimited, 5),
    (RawExportError, 6),
)

_EPILOG = """\b
WHEN is one of:
  1764547200                 UNIX seconds
  2026-11-01                 an ISO date: 00:00 UTC of that day
  2026-11-01T10:00:00+03:00  an ISO date-time with its offset (or Z)
  now, 7d, 36h               now, 7 days before now, 36 hours before now
The window is [--from, --to): one UTC day is --from 2026-11-01 --to 2026-11-02,
the last week --from 7d --to now.

\b
An hourly pipeline that never misses a late event nor gets one twice:
  rawexport pull --url URL --app APP --from 30d --to now \\
      --incremental pipeline.json -o "out/$(date -u +%Y%m%dT%H)"
The first run exports the window; each later run only the rows stored since
the job recorded in pipeline.json, whatever their event time (within the
window). Give each run its own -o directory: files of one name are replaced.

\b
Exit codes:
  0  report files extracted (or the result is empty: nothing written)
  2  wrong command-line usage
  3  token or access refused (codes 11-16): fix the token or the user's rights
  4  request refused or job/report not found (codes 2-10, 21, 22)
  5  quota: daily quota used (18, 19; the retry time is printed) or the
     concurrency/frequency limit (17, 20) did not clear while waiting
  6  server or network failure after retries, or a corrupt download
"""


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


@click.command(epilog=_EPILOG)
@click.option(
    "--url",
    required=True,
    help="Server root, e.g. https://devtodev.com (its .../api/v1/rawexport works too).",
)
@click.option(
    "--token", required=True, envvar="RAWEXPORT_TOKEN", show_envvar=True, help="User API token."
)
@click.option("--app", "app_id", help="Application id.")
@click.option("--from", "start", metavar="WHEN", callback=_when, help="Window start (included).")
@click.option("--to", "end", metavar="WHEN", callback=_when, help="Window end (excluded).")
@click.option(
    "--event", "events", multiple=True, help="Event id or custom event name; repeat. Default: all."
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default=None,
    help="File format in the archive (server default: csv).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the report files.",
)
@click.option(
    "--job",
    "job_id",
    help="Finish an earlier pull of this job instead of setting a new one (--app, --from, "
    "--to are then not needed): its download resumes where it stopped.",
)
@click.option(
    "--incremental",
    "state_file",
    metavar="STATE_FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Export only rows stored since the job recorded in STATE_FILE (continue_from), and "
    "record this run's job there once its files are extracted. First run (no file): the "
    "whole window.",
)
def pull(
    url: str,
    token: str,
    app_id: str | None,
    start: int | None,
    end: int | None,
    events: tuple[str, ...],
    report_format: str | None,
    output: Path,
    job_id: str | None,
    state_file: Path | None,
) -> None:
    """Export events of APP in [--from, --to) and extract the report into -o DIR."""
    # The job to finish, or the window of a new one.
    request = job_id if job_id is not None else _window(app_id, start, end)
    continue_from = _continued_job(state_file, request) if state_file is not None else None
    console = Console(stderr=True)

    def notice(error: Exception, delay: float) -> None:
        console.print(f"waiting {delay:.0f} s: {error}", highlight=False)

    try:
        with Client(url, token, on_retry=notice) as client:
            job = (
                request
                if isinstance(request, str)
                else client.set_job(
                    *request, events, report_format=report_format, continue_from=continue_from
                )
            )
            again = "run again" if state_file is not None else f"go on with --job {job}"
            console.print(f"job {job} (if stopped, {again})", highlight=False)
            done = _wait(console, client, job)
            if done.link is None:
                console.print(done.message or "The result is empty.", highlight=False)
            else:
                output.mkdir(parents=True, exist_ok=True)
                archive = _download(console, client, done.link.url, output / archive_name(job))
    except RawExportError as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        sys.exit(next(code for kind, code in EXIT_CODES if isinstance(error, kind)))
    if done.link is not None:  # the download was verified as a whole ZIP archive
        report = Report.from_archive(archive, done.message)
        report.extract(output)
        archive.unlink()
        Console().print(_files_table(report))
    if state_file is not None and not isinstance(request, str):
        # Last: an interrupted run leaves the previous state, and the next one asks again.
        write_state(state_file, PullState(request[0], job, done.snapshot))


def _continued_job(state_file: Path, request: str | tuple[str, int, int]) -> str | None:
    """The job the state file says to continue from; None on the first run."""
    if isinstance(request, str):
        raise click.UsageError("--incremental sets a new job: it cannot finish one (--job)")
    try:
        state = read_state(state_file)
    except StateFileError as exc:
        raise click.ClickException(str(exc)) from None
    if state is None:
        return None
    if state.app_id != request[0]:
        raise click.UsageError(f"{state_file} records app {state.app_id}, not {request[0]}")
    return state.job_id


def _window(app_id: str | None, start: int | None, end: int | None) -> tuple[str, int, int]:
    if app_id is None or start is None or end is None:
        raise click.UsageError("--app, --from and --to are needed unless --job names a job")
    return app_id, start, end


def _wait(console: Console, client: Client, job_id: str) -> JobProgress:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bars:
        task = bars.add_task("pending", total=100)
        return client.wait(
            job_id, lambda p: bars.update(task, completed=p.percent, description=p.status)
        )


def _download(console: Console, client: Client, url: str, path: Path) -> Path:
    columns = (TextColumn("download"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console) as bars:
        task = bars.add_task("download", total=None)
        return client.download(
            url, path, lambda done, total: bars.update(task, completed=done, total=total)
        )


def _files_table(report: Report) -> Table:
    table = Table("file", "rows", "size")
    for f in report.files:
        table.add_row(f.name, "?" if f.rows is None else f"{f.rows:,}", decimal(f.size))
    table.add_section()
    table.add_row(
        f"{len(report.files)} files",
        f"{sum(f.rows or 0 for f in report.files):,}",
        decimal(sum(f.size for f in report.files)),
    )
    return table
