"""From a JobSpec to the files of the report: which rows, which columns, under which name."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rawexport.domain.catalog import CUSTOM_TABLE, SBS_PAYMENT_TYPES, SBS_PAYMENTS, Table
from rawexport.domain.catalog import standard_event as standard_table
from rawexport.domain.jobspec import EventSelection, JobSpec
from rawexport.export.columns import select_list, spread_column
from rawexport.export.filters import filter_sql, param_subject
from rawexport.export.names import safe_file_name
from rawexport.export.params import QueryParams
from rawexport.export.report import FileStat
from rawexport.export.users import matching_users_sql
from rawexport.store.base import EventStore
from rawexport.store.schema import BATCH_COLUMN, table_name
from rawexport.store.sql import quote_identifier

__all__ = [
    "PROBE_THREADS",
    "CountedFile",
    "FilePlan",
    "count_files",
    "file_plan",
    "file_query",
    "spread_keys",
]

PROBE_THREADS = 4
"""Planning queries run at once: each is cheap, and one alone keeps about one core busy."""

_FILE_QUERY_SETTINGS = ", ".join(
    (
        # Without it an output column named like a stored one (a parameter `time`) would
        # replace that column in WHERE and ORDER BY.
        "prefer_column_name_to_alias = 1",
        # ORDER BY time is read in order, merging the table's parts. By default each part's
        # reader runs ahead into a buffer while the pipe is full, which made the peak memory
        # grow with the number of parts, hence with the data (+150 MB a file at 10 M rows).
        "read_in_order_use_buffering = 0",
        # A job makes several files (and parts of files) at once, one per core: one thread a
        # query is enough, and each more held its own buffers (about 20 MB of peak a job).
        "max_threads = 1",
        # Formatting in threads of its own hands every block over twice: in this one thread,
        # alternating with it, an export took 5 % less CPU and time (3 M rows, in-process).
        "output_format_parallel_formatting = 0",
    )
)


@dataclass(frozen=True)
class CountedFile:
    """A file of the report once its rows are counted: which rows, under which name.

    Its columns wait for `file_plan`: those of a spread map (`ip` currencies, custom
    parameters) are the keys found in its rows, a query of its own (`spread_keys`), which the
    export runs while earlier files are written."""

    name: str
    selection: EventSelection
    table: Table
    source: str
    rows: int
    marks: str
    """`FROM ... WHERE ...` over the marks of the table's primary index (one a granule) that
    hold its rows: read to cut the file into parts (`parts.py`) without reading the rows."""


@dataclass(frozen=True)
class FilePlan:
    """One file to write: what it will hold, its `FROM ... WHERE ...` and its whole query
    (`file_query(select, source)` for an event file)."""

    stat: FileStat
    source: str
    query: str
    select: str = ""


def file_query(select: str, source: str) -> str:
    """The query of an event file (or of a part of one, for a narrower `source`)."""
    return f"SELECT {select} {source} ORDER BY time SETTINGS {_FILE_QUERY_SETTINGS}"


def count_files(
    store: EventStore, spec: JobSpec, params: QueryParams, extension: str, taken: set[str]
) -> list[CountedFile]:
    """A file per requested event, in request order, then one per `@custom_events` name, each
    with its rows counted (one `count()` each, at once). `taken` holds the lower-cased file
    names in use."""
    app = params.add(spec.app_id, "String")
    keys = [  # on the sorting key: the primary index answers them
        f"app_id = {app}",
        f"time >= {params.add(spec.start_ms, 'Int64')}",
        f"time < {params.add(spec.end_ms, 'Int64')}",
    ]
    window = [*keys]
    if spec.after_snapshot is not None:  # continue_from: the batches after that job's
        window.append(f"{BATCH_COLUMN} > {params.add(spec.after_snapshot, 'UInt64')}")
    snapshot = None if spec.snapshot is None else params.add(spec.snapshot, "UInt64")
    selections = [*spec.events, *_every_custom_event(store, spec, window, snapshot, params)]
    common = [*window]
    if spec.users_filter:
        common.append(matching_users_sql(spec.users_filter, app, params))
    # One source, and one count, per distinct rows asked: an event under a hundred aliases is
    # counted once (and read once by users.csv), so the cost grows with what is asked only.
    by_rows: dict[str, tuple[Table, str, str]] = {}
    for s in selections:
        if _rows_key(s) not in by_rows:
            table, source = _source(s, common, params)
            by_rows[_rows_key(s)] = table, source, _marks(s, table, keys, params)
    unique = [source for _, source, _ in by_rows.values()]
    with ThreadPoolExecutor(max_workers=PROBE_THREADS) as pool:
        counted = pool.map(lambda s: _count(store, s, snapshot, params), unique)
        rows = dict(zip(unique, counted, strict=True))
    files = []
    for s in selections:
        table, source, marks = by_rows[_rows_key(s)]
        name = safe_file_name(s.file_stem, extension, taken)
        files.append(CountedFile(name, s, table, _up_to(source, snapshot), rows[source], marks))
    return files


def _up_to(source: str, snapshot: str | None) -> str:
    """`source` limited to the batches of the job's snapshot (all, without one)."""
    return source if snapshot is None else f"{source} AND {BATCH_COLUMN} <= {snapshot}"


def spread_keys(store: EventStore, table: Table, source: str, params: QueryParams) -> list[str]:
    """The sorted keys of `table`'s spread map in the rows of `source` (no query without one)."""
    spread = spread_column(table)
    if spread is None:
        return []
    keys = f"arraySort(groupUniqArrayArray(mapKeys({quote_identifier(spread.name)})))"
    ((found,),) = store.rows(f"SELECT {keys} {source}", params.values)
    return [str(k) for k in found]


def file_plan(file: CountedFile, keys: list[str], params: QueryParams) -> FilePlan:
    """The plan of `file`, whose spread map has `keys` (`spread_keys`)."""
    selection = file.selection
    columns, expressions = select_list(file.table, keys, params)
    stat = FileStat(
        file.name, selection.event, selection.alias, file.rows, columns, selection.filters
    )
    return FilePlan(stat, file.source, file_query(expressions, file.source), expressions)


def _every_custom_event(
    store: EventStore, spec: JobSpec, window: list[str], snapshot: str | None, params: QueryParams
) -> list[EventSelection]:
    """`@custom_events`: each custom event with rows in the interval not already requested."""
    if not spec.all_custom:
        return []
    requested = {s.event for s in spec.events if s.custom and s.alias is None and not s.filters}
    source = _up_to(f"FROM {table_name(CUSTOM_TABLE)} WHERE {' AND '.join(window)}", snapshot)
    names = store.rows(f"SELECT DISTINCT event {source} ORDER BY event", params.values)
    return [EventSelection(n, True, n) for (n,) in names if n not in requested]


def _rows_key(selection: EventSelection) -> str:
    """What selects the rows of `selection`, whatever its alias (a text: filter values may be
    lists, which cannot be dictionary keys)."""
    return repr((selection.event, selection.custom, selection.filters))


def _table(selection: EventSelection) -> Table:
    if selection.custom:
        return CUSTOM_TABLE
    table = standard_table(selection.event)
    if table is None:
        raise ValueError(f"{selection.event!r} is not a standard event")
    if selection.filters:
        raise ValueError(f"filters apply to custom events only, not to {selection.event!r}")
    return table


def _source(selection: EventSelection, common: list[str], params: QueryParams) -> tuple[Table, str]:
    """The table of `selection` and `FROM ... WHERE ...` selecting its rows."""
    table = _table(selection)
    conditions = [*common, *_event_key(selection, params)]
    if table is SBS_PAYMENTS:
        conditions.append(f"event_type IN {params.add(list(SBS_PAYMENT_TYPES), 'Array(String)')}")
    if selection.custom:
        conditions.extend(
            filter_sql(f, param_subject(f.name, params), params) for f in selection.filters
        )
    return table, f"FROM {table_name(table)} WHERE {' AND '.join(conditions)}"


def _marks(selection: EventSelection, table: Table, keys: list[str], params: QueryParams) -> str:
    """`FROM ... WHERE ...` over the primary index of `table`: a row per granule, with the
    sorting key of its first row, for the granules of `selection` in the window `keys`.

    The other conditions of the file's rows (filters, payment types, the snapshot) are not in
    the index: what is read from it is a close guess of where the rows are, never their count.
    """
    conditions = " AND ".join([*keys, *_event_key(selection, params)])
    return f"FROM mergeTreeIndex(currentDatabase(), {table_name(table)}) WHERE {conditions}"


def _event_key(selection: EventSelection, params: QueryParams) -> list[str]:
    """The condition on the custom events' sorting key that picks `selection`'s event."""
    return [f"event = {params.add(selection.event, 'String')}"] if selection.custom else []


def _count(store: EventStore, source: str, snapshot: str | None, params: QueryParams) -> int:
    """The rows of `source` up to `snapshot`: those of the window, less those of later batches.

    One count with the snapshot's bound reads the batch of every row; without it the table's
    sorting key answers the count, and the batch index (`store/schema.py`) skips every granule
    loaded before the snapshot, so counting the later rows reads next to nothing: 5 ms instead
    of 10-15 ms for 1 M rows."""
    if snapshot is None:
        ((rows,),) = store.rows(f"SELECT count() {source}", params.values)
    else:
        later = f"{source} AND {BATCH_COLUMN} > {snapshot}"
        sql = f"SELECT (SELECT count() {source}) - (SELECT count() {later})"
        ((rows,),) = store.rows(sql, params.values)
    return int(rows)
