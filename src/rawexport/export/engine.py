"""Running one export job: a JobSpec in, a ZIP of one file per event plus users and manifest out.

Every file is streamed: chDB writes each query result into a pipe while this thread deflates it
into the ZIP entry, so memory stays flat whatever the number of rows. The ZIP is written under
a temporary name beside `destination` and renamed into place only when complete.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Generator
from contextlib import closing
from pathlib import Path

from rawexport.domain.catalog import USERS
from rawexport.domain.jobspec import JobSpec
from rawexport.export.fifo import query_chunks
from rawexport.export.names import FORMAT_EXTENSIONS, MANIFEST_NAME
from rawexport.export.params import QueryParams
from rawexport.export.plan import FilePlan, plan_files
from rawexport.export.progress import ProgressMeter
from rawexport.export.report import ExportResult, FileStat, manifest_json
from rawexport.export.users import users_count_query, users_query
from rawexport.export.zipstream import ZipMember, write_zip
from rawexport.store.base import EventStore

__all__ = ["ExportResult", "FileStat", "plan_report", "run_export"]

_CLICKHOUSE_FORMATS = {"csv": "CSVWithNames", "jsonl": "JSONEachRow", "parquet": "Parquet"}


def run_export(
    store: EventStore,
    spec: JobSpec,
    destination: Path,
    on_progress: Callable[[int], None],
) -> ExportResult:
    """Export `spec` to the ZIP file `destination`; report progress 0..99 on the way.

    When no requested event has a row, nothing is written and the result is `empty`.
    """
    params = QueryParams()
    plans = plan_report(store, spec, params)
    if not plans:
        return ExportResult(rows=0, empty=True)
    total = sum(p.stat.rows for p in plans[:-1])
    stats = [p.stat for p in plans]
    meter = ProgressMeter(total, on_progress)
    fmt = _CLICKHOUSE_FORMATS[spec.format]
    line_per_row = spec.format != "parquet"

    def members() -> Generator[ZipMember, None, None]:
        for plan in plans:
            with closing(query_chunks(store, plan.query, params.values, fmt)) as chunks:
                tracked = meter.track(chunks, plan.stat.rows, line_per_row=line_per_row)
                yield ZipMember(plan.stat.name, tracked)
        yield ZipMember(MANIFEST_NAME, [manifest_json(stats)])

    entries = members()
    temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.tmp")
    try:
        size = write_zip(temporary, entries)
        os.replace(temporary, destination)
    except BaseException:
        entries.close()  # stops the query of the file being written, if any, right away
        temporary.unlink(missing_ok=True)
        raise
    return ExportResult(rows=total, files=stats, size=size)


def plan_report(store: EventStore, spec: JobSpec, params: QueryParams) -> list[FilePlan]:
    """Every file of the report with its query, the users file last; [] when no event has a row."""
    extension = FORMAT_EXTENSIONS[spec.format]
    users_file = "users" + extension
    taken = {users_file, MANIFEST_NAME}
    plans = plan_files(store, spec, params, extension, taken)
    if not any(p.stat.rows for p in plans):
        return []
    return [*plans, _users_plan(store, spec, plans, params, users_file)]


def _users_plan(
    store: EventStore, spec: JobSpec, plans: list[FilePlan], params: QueryParams, name: str
) -> FilePlan:
    """users.csv: the card of every user with a row in one of the files."""
    sources = [p.source for p in plans if p.stat.rows]
    app = params.add(spec.app_id, "String")
    ((rows,),) = store.rows(users_count_query(sources), params.values)
    stat = FileStat(name, USERS.id, None, int(rows), USERS.column_names, spec.users_filter)
    return FilePlan(stat, "", users_query(sources, app))
