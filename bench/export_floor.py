"""The floor of an export on this machine: the work that grows with its rows, done alone.

    .venv/bin/python bench/export_floor.py [--rows N ...] [--events E,E,E] [--repeat R]

For each N (default 1 and 3 million rows over the export bench's tables) the rows are loaded
into a fresh embedded store in this process, and the job exporting them all is planned. Then,
each the least of R runs (default 5; the least, as a floor is):
  * store: every file's query, users.csv's too, formatted by chDB into /dev/null, one after
    the other: the CPU of the process, chDB's own threads included;
  * deflate: the same bytes, read from the store, through the engine's compressor with their
    CRC: the CPU of the thread doing only that;
  * the job: `run_export` of the same job, published as a worker publishes a report;
and once, the in-memory baseline of `export_bench.py`.

The floor is (store + deflate) / the CPUs this process may use: the time of an exporter that
overlapped both perfectly, with nothing between them (no pipe, no planning, no start or end).
The job's distance to it is what any further work on the engine could win; the baseline over
the floor is the best ratio an exporter of these bytes through chDB and ISA-L could show.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from export_bench import load_direct, memory_baseline
from export_data import DEFAULT_EVENTS, EVENT_MAKERS
from isal import isal_zlib

from rawexport.domain.jobspec import JobSpec
from rawexport.export.deflater import raw_deflater
from rawexport.export.engine import plan_report, run_export
from rawexport.export.params import QueryParams
from rawexport.reports.local import LocalReportStore
from rawexport.store import EventStore, ensure_schema, open_store

_FORMAT = "CSVWithNames"  # the bench's reports are CSV, each file with its header


def store_cpu_s(store: EventStore, spec: JobSpec) -> float:
    """CPU seconds of chDB making every file of the report, into /dev/null."""
    params = QueryParams()
    plans = plan_report(store, spec, params)
    before = _process_cpu_s()
    for plan in plans:
        store.execute(
            f"{plan.query}\nINTO OUTFILE '/dev/null' APPEND FORMAT {_FORMAT}", params.values
        )
    return _process_cpu_s() - before


def deflate_cpu_s(store: EventStore, spec: JobSpec) -> float:
    """CPU seconds of this thread deflating every file of the report, and no more."""
    params = QueryParams()
    spent = 0.0
    for plan in plan_report(store, spec, params):
        compressor, crc = raw_deflater(), 0
        with store.stream(plan.query, params.values, _FORMAT) as result:
            for chunk in result:
                began = time.thread_time()
                crc = isal_zlib.crc32(chunk, crc)
                compressor.compress(chunk)
                spent += time.thread_time() - began
        began = time.thread_time()
        compressor.flush()
        spent += time.thread_time() - began
    return spent


def job(store: EventStore, spec: JobSpec, reports: LocalReportStore) -> tuple[float, float]:
    """Wall and CPU seconds of the job, published."""
    began, before = time.perf_counter(), _process_cpu_s()
    with reports.writer(f"{uuid.uuid4().hex}.zip") as report:
        run_export(store, spec, report, lambda _: None)
        report.commit()
    return time.perf_counter() - began, _process_cpu_s() - before


def _process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_size(work: Path, rows: int, events: list[str], repeat: int) -> None:
    store = open_store(f"chdb://{work / 'events'}")
    try:
        ensure_schema(store)
        spec = load_direct(store, work, rows, events)
        reports = LocalReportStore(work / "reports")
        job(store, spec, reports)  # warm, as a server that has run before is
        store_s = min(store_cpu_s(store, spec) for _ in range(repeat))
        deflate_s = min(deflate_cpu_s(store, spec) for _ in range(repeat))
        job_s, job_cpu_s = min(job(store, spec, reports) for _ in range(repeat))
        baseline_s = memory_baseline(store, spec, work / "memory.zip")
    finally:
        store.close()
    cpus = len(os.sched_getaffinity(0))
    floor_s = (store_s + deflate_s) / cpus
    print(f"\n{rows:,} rows over {', '.join(events)}; {cpus} CPUs; least of {repeat} runs")
    print(f"  store     {store_s:5.2f} CPU s  every file's rows formatted by chDB, alone")
    print(f"  deflate   {deflate_s:5.2f} CPU s  the same bytes deflated with their CRC, alone")
    print(f"  floor     {floor_s:5.2f} s      (store + deflate) / {cpus} CPUs")
    print(
        f"  job       {job_s:5.2f} s      {job_cpu_s:.2f} CPU s; {job_s / floor_s:.2f}x the floor,"
        f" {rows / job_s / 1e6:.2f} M rows/s"
    )
    print(
        f"  in-memory baseline {baseline_s:.2f} s: the floor is {baseline_s / floor_s:.1f}x"
        f" faster, the job {baseline_s / job_s:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument(
        "--events", default=DEFAULT_EVENTS, help=f"comma-separated, among {', '.join(EVENT_MAKERS)}"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measure (least counts)")
    args = parser.parse_args()
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="rawexport-floor-") as tmp:
            measure_size(Path(tmp), rows, args.events.split(","), args.repeat)


if __name__ == "__main__":
    main()
