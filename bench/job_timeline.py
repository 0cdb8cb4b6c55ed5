"""One export job, query by query: where its time goes besides its rows.

    .venv/bin/python bench/job_timeline.py [--rows N ...] [--events E,E,E]

For each N (default 1 and 3 million rows over the export bench's tables) the rows are loaded
into a fresh embedded store in this process, one job runs to warm it (as a server that has run
before is warm), then the same job runs again with every query of the store and every write of
the report timed: when each query was sent, when its first and its last bytes came, in which
thread. The report is published as a worker publishes it (`LocalReportStore`: fsync, rename,
fsync of the directory). Printed: the queries in the order they were sent, then what comes
before the first byte of the report, after the last byte of the event files, and the
publication.

What this does not see, because it happens in the server around the export: the claim of the
job after setjob and the metadata writes. `rawexport job show` gives the job's `created_at`,
`started_at` and `finished_at` on the database's clock; `export_bench.py` the whole as a
polling client sees it.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from export_bench import load_direct
from export_data import DEFAULT_EVENTS, EVENT_MAKERS

from rawexport.domain.jobspec import JobSpec
from rawexport.export.engine import run_export
from rawexport.reports.local import LocalReportStore, LocalReportWriter
from rawexport.store import EventStore, ensure_schema, open_store
from rawexport.store.base import Params, ResultStream, WrappedStream

MS = 1000


@dataclass
class Query:
    what: str
    thread: str
    sent: float
    first: float | None = None
    done: float | None = None
    size: int = 0


@dataclass
class Timeline:
    began: float = field(default_factory=time.perf_counter)
    queries: list[Query] = field(default_factory=list)
    first_write: float | None = None
    last_write: float | None = None
    exported: float = 0.0
    published: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def query(self, sql: str) -> Query:
        query = Query(_what(sql), threading.current_thread().name, time.perf_counter())
        with self.lock:
            self.queries.append(query)
        return query

    def ms(self, moment: float | None) -> str:
        return "-" if moment is None else f"{(moment - self.began) * MS:7.1f}"


def _what(sql: str) -> str:
    """A query's part in the job, told from its text."""
    if "quantile" in sql:  # before the counts: a cut at the index counts its marks too
        return "cut in parts"
    if sql.startswith("SELECT count()") or sql.startswith("SELECT (SELECT count()"):
        return "count rows"
    if "LEFT JOIN" in sql:
        return "users.csv"
    if "groupUniqArray" in sql:
        return "spread-map keys"
    table = sql.split(" FROM ", 1)[1].split()[0].strip("`") if " FROM " in sql else "?"
    return f"rows of {table}"


class TimedStream(WrappedStream):
    def __init__(self, inner: ResultStream, query: Query) -> None:
        super().__init__(inner)
        self._query = query

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if self._query.first is None:
                self._query.first = time.perf_counter()
            self._query.size += len(chunk)
            yield chunk
        self._query.done = time.perf_counter()


class TimedStore:
    """The store, with each query's times written into `timeline`."""

    def __init__(self, inner: EventStore, timeline: Timeline) -> None:
        self._inner, self.timeline = inner, timeline
        self.url, self.database = inner.url, inner.database

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        query = self.timeline.query(sql)
        result = self._inner.rows(sql, params)
        query.first = query.done = time.perf_counter()
        return result

    def stream(self, sql: str, params: Params | None, fmt: str) -> TimedStream:
        return TimedStream(self._inner.stream(sql, params, fmt), self.timeline.query(sql))

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._inner.execute(sql, params)

    def insert(self, table: str, source_path: str, fmt: str, columns: Any = ()) -> None:
        self._inner.insert(table, source_path, fmt, columns)

    def close(self) -> None:
        self._inner.close()


class TimedSink:
    """The report's writer, with the times of its first and last writes."""

    def __init__(self, report: LocalReportWriter, timeline: Timeline) -> None:
        self._report, self._timeline = report, timeline

    def write(self, data: bytes, /) -> None:
        now = time.perf_counter()
        self._timeline.first_write = self._timeline.first_write or now
        self._timeline.last_write = now
        self._report.write(data)


def timed_job(store: EventStore, spec: JobSpec, reports: LocalReportStore) -> Timeline:
    """The job once, timed, then published."""
    timeline = Timeline()
    with reports.writer("report.zip") as report:
        timeline.began = time.perf_counter()
        run_export(TimedStore(store, timeline), spec, TimedSink(report, timeline), lambda _: None)
        timeline.exported = time.perf_counter()
        report.commit()
        timeline.published = time.perf_counter()
    return timeline


def print_timeline(rows: int, timeline: Timeline, cpu_s: float) -> None:
    exported, published = timeline.exported, timeline.published
    print(f"\n{rows:,} rows: the job's queries, ms from the start of run_export")
    print(f"  {'sent':>7} {'1st byte':>8} {'done':>7}  {'MB':>6}  {'thread':24} what")
    for q in sorted(timeline.queries, key=lambda q: q.sent):
        size = f"{q.size / 1e6:6.1f}" if q.size else "     -"
        print(
            f"  {timeline.ms(q.sent)} {timeline.ms(q.first):>8} {timeline.ms(q.done)}"
            f"  {size}  {q.thread[:24]:24} {q.what}"
        )
    files = [q for q in timeline.queries if q.what.startswith("rows of") and q.done]
    last_rows = max(q.done for q in files if q.done is not None)
    total = exported - timeline.began
    print(f"  first byte of the report   {timeline.ms(timeline.first_write)} ms")
    print(f"  last event rows read       {timeline.ms(last_rows)} ms")
    print(f"  last byte of the report    {timeline.ms(timeline.last_write)} ms")
    print(f"  run_export returned        {timeline.ms(exported)} ms")
    print(f"  published (fsync, rename)  {timeline.ms(published)} ms  ({cpu_s:.2f} CPU s in all)")
    print(
        f"  {rows / total / 1e6:.2f} M rows/s in run_export;"
        f" before the first byte {(timeline.first_write or exported) - timeline.began:.3f} s,"
        f" after the last rows {exported - last_rows:.3f} s,"
        f" publication {published - exported:.3f} s"
    )


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument(
        "--events", default=DEFAULT_EVENTS, help=f"comma-separated, among {', '.join(EVENT_MAKERS)}"
    )
    args = parser.parse_args()
    events = args.events.split(",")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="rawexport-timeline-") as tmp:
            work = Path(tmp)
            store = open_store(f"chdb://{work / 'events'}")
            try:
                ensure_schema(store)
                spec = load_direct(store, work, rows, events)
                reports = LocalReportStore(work / "reports")
                timed_job(store, spec, reports)  # warm
                before = _cpu_s()
                timeline = timed_job(store, spec, reports)
                print_timeline(rows, timeline, _cpu_s() - before)
            finally:
                store.close()


if __name__ == "__main__":
    main()
