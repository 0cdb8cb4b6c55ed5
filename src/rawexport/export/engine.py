"""Running one export job: a JobSpec in, a ZIP of one file per event plus users and manifest out.

Every file is streamed: the store streams each query result while a producer thread deflates
it into a bounded spool, several files at once (one per core), and the ZIP takes them in order;
so memory stays flat whatever the number of rows. Only the row counts come before the first
file: each file's spread-map keys and cut are found in planning threads while earlier files are
written. The ZIP goes into the caller's writer as it is made; publishing it (or not) is the
caller's business.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait

from rawexport.domain.catalog import USERS
from rawexport.domain.jobspec import JobSpec
from rawexport.export.names import FORMAT_EXTENSIONS, MANIFEST_NAME
from rawexport.export.params import QueryParams
from rawexport.export.parts import part_count, part_sources
from rawexport.export.plan import (
    PROBE_THREADS,
    CountedFile,
    FilePlan,
    count_files,
    file_plan,
    file_query,
    spread_keys,
)
from rawexport.export.progress import ProgressMeter
from rawexport.export.report import ExportResult, FileStat, manifest_json
from rawexport.export.users import users_query
from rawexport.export.zipstream import ZipMember, ZipSink, write_zip
from rawexport.store.base import EventStore

__all__ = ["MAX_PRODUCERS", "ExportResult", "FileStat", "plan_report", "producers", "run_export"]

MAX_PRODUCERS = 8
"""Each file in flight holds a query (20-40 MB of chDB memory) and a spool (a few MiB): beyond
8 the memory of a job would no longer stay well under 600 MB."""

_CLICKHOUSE_FORMATS = {"csv": "CSVWithNames", "jsonl": "JSONEachRow", "parquet": "Parquet"}
_HEADLESS = {"CSVWithNames": "CSV", "JSONEachRow": "JSONEachRow"}
"""The format of a file's later parts: the same rows without the header."""


def run_export(
    store: EventStore,
    spec: JobSpec,
    out: ZipSink,
    on_progress: Callable[[int], None],
    *,
    threads: int | None = None,
) -> ExportResult:
    """Export `spec` as a ZIP written into `out`; report progress 0..99 on the way.

    When no requested event has a row, nothing is written and the result is `empty`. The row
    counts of the result and of the manifest are those written (see `_rows_written`). Files,
    and large files in parts (`parts.py`), are made by `threads` (else `producers()`) at once.
    """
    params = QueryParams()
    files, users = _count_report(store, spec, params)
    if not files:
        return ExportResult(rows=0, empty=True)
    meter = ProgressMeter(sum(f.rows for f in files), on_progress)
    fmt = _CLICKHOUSE_FORMATS[spec.format]
    line_per_row = spec.format != "parquet"
    threads = threads or producers(len(files) + 1)
    # Each file with the rows each of its parts wrote, as the store counted them (None: it
    # could not), in the archive's order: the event files as they come, users.csv last.
    events_made: list[tuple[FilePlan, list[int | None]]] = []
    users_made: list[tuple[FilePlan, list[int | None]]] = []

    def part_chunks(
        counts: list[int | None], part: int, query: str, part_fmt: str, rows: int
    ) -> Generator[bytes, None, None]:
        # Runs in a producer thread of write_zip: the query starts at the first chunk asked for.
        with store.stream(query, params.values, part_fmt) as result:
            yield from meter.track(result, rows, line_per_row=line_per_row)
        counts[part] = result.rows

    def member(
        plan: FilePlan, sources: list[str], made: list[tuple[FilePlan, list[int | None]]]
    ) -> ZipMember:
        queries = [file_query(plan.select, source) for source in sources] or [plan.query]
        counts: list[int | None] = [None] * len(queries)
        made.append((plan, counts))
        shares = _split(plan.stat.rows, len(queries))
        chunks = [
            # Only the first part has the header line.
            part_chunks(counts, n, query, fmt if n == 0 else _HEADLESS[fmt], shares[n])
            for n, query in enumerate(queries)
        ]
        return ZipMember(plan.stat.name, chunks[0], chunks[1:])

    def members() -> Iterator[ZipMember]:
        # Each file waits here for its own keys and cut only, when its turn comes.
        for file, keys, cut in ahead:
            yield member(file_plan(file, keys.result(), params), cut.result(), events_made)

    written: list[FileStat] = []

    def manifest() -> ZipMember:
        for plan, parts in [*events_made, *users_made]:
            rows = _rows_written(store, plan, parts, params)
            written.append(dataclasses.replace(plan.stat, rows=rows))
        return ZipMember(MANIFEST_NAME, [manifest_json(written, spec)])

    with ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="rawexport-plan") as planning:
        try:
            # Parquet files are not cut: their bytes cannot be joined end to end.
            ahead = _plan_ahead(planning, store, files, params, threads if line_per_row else 1)
            # users.csv, last in the archive, is made from the start: its query (every user
            # of every file, joined to the cards) would otherwise run last, alone on one core.
            users_file = member(users, [], users_made)
            size = write_zip(
                out, members(), producers=threads, early=[users_file], trailer=manifest
            )
        finally:
            planning.shutdown(cancel_futures=True)  # after a failure: start no more queries
    rows = sum(f.rows for f in written[:-1])
    return ExportResult(rows=rows, files=written, size=size)


def producers(files: int) -> int:
    """Files made at once: one per core this process may run on, up to `MAX_PRODUCERS`.

    The affinity, not the machine's cores, so `taskset` and CPU sets are honoured.
    """
    return max(1, min(files, len(os.sched_getaffinity(0)), MAX_PRODUCERS))


def plan_report(store: EventStore, spec: JobSpec, params: QueryParams) -> list[FilePlan]:
    """Every file of the report with its whole query, the users file last; [] when no event
    has a row. (The export itself plans each file while earlier ones are written.)"""
    files, users = _count_report(store, spec, params)
    if not files:
        return []
    plans = [file_plan(f, spread_keys(store, f.table, f.source, params), params) for f in files]
    return [*plans, users]


def _count_report(
    store: EventStore, spec: JobSpec, params: QueryParams
) -> tuple[list[CountedFile], FilePlan]:
    """The event files with their rows counted, and the users file; no event file when none
    has a row. The rows of the users file (0 here) are counted only when it is written."""
    extension = FORMAT_EXTENSIONS[spec.format]
    users_file = "users" + extension
    files = count_files(store, spec, params, extension, {users_file, MANIFEST_NAME})
    users = FileStat(users_file, USERS.id, None, 0, USERS.column_names, spec.users_filter)
    sources = [f.source for f in files if f.rows]
    app = params.add(spec.app_id, "String")
    users_plan = FilePlan(users, "", users_query(sources, app))
    return (files if sources else []), users_plan


def _plan_ahead(
    planning: Executor,
    store: EventStore,
    files: list[CountedFile],
    params: QueryParams,
    threads: int,
) -> list[tuple[CountedFile, Future[list[str]], Future[list[str]]]]:
    """Each file with its spread-map keys and the sources of its parts, in order, found in
    `planning`'s threads while earlier files are written. A file that needs neither query is
    ready at once; rows asked twice are probed once.

    The first file's queries run alone, and this waits for them: they hold back the first
    bytes, and among the later files' queries they took four times as long."""
    keys: dict[str, Future[list[str]]] = {}
    cuts: dict[str, Future[list[str]]] = {}
    for file in files:
        if file.source not in keys:
            keys[file.source] = planning.submit(spread_keys, store, file.table, file.source, params)
            parts = part_count(file.rows, threads)
            cuts[file.source] = planning.submit(
                part_sources, store, file.source, file.marks, params, parts
            )
            if len(keys) == 1:
                wait([keys[file.source], cuts[file.source]])
    return [(file, keys[file.source], cuts[file.source]) for file in files]


def _split(rows: int, parts: int) -> list[int]:
    """`rows` shared out over `parts` (the planned rows of each part, for progress only)."""
    share, extra = divmod(rows, parts)
    return [share + (n < extra) for n in range(parts)]


def _rows_written(
    store: EventStore, plan: FilePlan, parts: list[int | None], params: QueryParams
) -> int:
    """The rows of a file as the store counted them while writing its parts; where it cannot,
    those counted when the file was planned, or for the users file (not counted then), counted
    now."""
    if all(rows is not None for rows in parts):
        return sum(rows for rows in parts if rows is not None)
    if plan.source:
        return plan.stat.rows
    ((rows,),) = store.rows(f"SELECT count() FROM ({plan.query})", params.values)
    return int(rows)
