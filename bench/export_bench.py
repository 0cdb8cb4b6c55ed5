"""Export benchmark: a job of N rows over three tables, through the real server.

    .venv/bin/python bench/export_bench.py [--rows N ...] [--events E,E,E] [--repeat R] [--direct]

For each N (default 1, 3 and 10 million, split over gs, rp and a custom event unless --events
says otherwise) the rows of a fresh app are loaded with `rawexport load`, then `rawexport serve`
runs on a free loopback port and the same job runs R times (default 3; the median counts), each
setjob -> getprogress every 0.1 s -> complete, then one download. The headline is what the
polling client saw, from setjob to `complete`; the server's own record (`rawexport job show`)
is printed beside it. The kernel's high-water mark gives the server's peak memory over the
jobs, each server started with chDB's library out of the page cache (`evict_library_pages`), and
the part of it that is mapped files. Then, in a child process, on the same rows and in the same
run:
  * in-memory baseline (the headline's): each file's rows already in Python (fetched before
    the clock starts), written with the `csv` module into a `zipfile.ZipFile(ZIP_DEFLATED)` at
    its default level;
  * fetch baseline: the same, with the rows fetched from the store inside the clock;
  * copy+zip: the store streams each file's result into a plain file, then the files are
    zipped with the engine's own ISA-L writer (the engine's work, without overlapping the two).
`--direct` calls run_export in this process instead of going through the server.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from bench_server import PROGRESS_POLL_S, BenchServer, PeakRss, cli, evict_library_pages
from export_data import DEFAULT_EVENTS, EVENT_MAKERS, write_bench_files

from rawexport.domain.catalog import standard_event
from rawexport.domain.jobspec import EventSelection, JobSpec
from rawexport.export.engine import plan_report, run_export
from rawexport.export.params import QueryParams
from rawexport.export.zipstream import ZipMember, write_zip
from rawexport.meta.batches import BatchLedger
from rawexport.meta.db import connect
from rawexport.settings import Settings
from rawexport.store import EventStore, ensure_schema, open_store
from rawexport.store.loading import load_file

DAY_S = 86_400
MB = 1 << 20


@dataclass
class Measured:
    rows: int
    engine_runs: list[float]
    peak_rss: int
    idle_rss: int
    zip_bytes: int
    download_s: float = 0.0
    polled_runs: list[float] = field(default_factory=list)
    variant: str = "this version"
    baseline_s: float = 0.0
    memory_baseline_s: float = 0.0
    copy_s: float = 0.0
    file_pages: int = 0
    """Of the peak's process, the resident pages of mapped files at the end (chDB's library)."""

    @property
    def engine_s(self) -> float:
        return statistics.median(self.engine_runs)

    @property
    def headline_s(self) -> float:
        """What the user waited: the polled time through the server, else the engine's."""
        return statistics.median(self.polled_runs) if self.polled_runs else self.engine_s


def _spec(app_id: str, start: int, events: Sequence[str]) -> JobSpec:
    selections = tuple(EventSelection(e, standard_event(e) is None, e) for e in events)
    return JobSpec(app_id, start, start + DAY_S, selections)


def _window_start() -> int:
    """Yesterday 00:00 UTC, well inside the retention window."""
    return (int(time.time()) // DAY_S - 1) * DAY_S


@dataclass(frozen=True)
class Variant:
    """A version of rawexport to run the jobs on: this one (`source` None) or another's `src/`."""

    name: str
    source: Path | None = None
    cpus: str | None = None


def run_server(
    data_dir: Path, rows: int, events: list[str], repeat: int, variants: Sequence[Variant]
) -> tuple[JobSpec, list[Measured]]:
    """Load the rows, then `repeat` rounds: in each, every variant in turn starts a server, runs
    one job to warm it (as a server that has run before is) and the measured one, and stops.
    Alternating the variants makes them share whatever load the machine has."""
    space = cli(data_dir, "space", "create", "bench")["space_id"]
    user = cli(data_dir, "user", "create", "--space", space, "--email", "bench@example.com")
    app = cli(data_dir, "app", "create", "--space", space, f"bench-{rows}")["app_id"]
    cli(data_dir, "app", "grant", user["user_id"], app)
    start = _window_start()
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        cards, *files = write_bench_files(Path(tmp), rows, events, start * 1000, DAY_S * 1000)
        cli(data_dir, "load", "--app", app, "--users", str(cards))
        cli(data_dir, "load", "--app", app, *map(str, files))
    report_path = data_dir / "report.zip"
    results = {v.name: Measured(rows, [], 0, 0, 0, variant=v.name) for v in variants}
    for _ in range(repeat):
        for variant in variants:
            measured = results[variant.name]
            evict_library_pages()
            with BenchServer(data_dir, source=variant.source, cpus=variant.cpus) as server:
                measured.idle_rss = max(measured.idle_rss, server.rss())
                with PeakRss(server.pid) as memory:
                    server.run_job(user["user_token"], app, start, start + DAY_S, events)
                    server.wait_idle()  # the first server merges what the load left
                    began = time.perf_counter()
                    job, url = server.run_job(user["user_token"], app, start, start + DAY_S, events)
                    measured.polled_runs.append(time.perf_counter() - began)
                if memory.peak > measured.peak_rss:
                    measured.peak_rss, measured.file_pages = memory.peak, memory.file_pages
                measured.engine_runs.append(cli(data_dir, "job", "show", job)["seconds"])
                began = time.perf_counter()
                measured.zip_bytes = server.download(url, report_path)
                measured.download_s = time.perf_counter() - began
            _check_report(report_path, rows)
    return _spec(app, start, events), list(results.values())


def load_direct(store: EventStore, work: Path, rows: int, events: list[str]) -> JobSpec:
    """Load the bench's rows into `store` in this process; the job that exports them all,
    with the snapshot a server's setjob would give it."""
    app = f"bench-direct-{rows}"
    start = _window_start()
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        files = write_bench_files(Path(tmp), rows, events, start * 1000, DAY_S * 1000)
        engine = connect(f"sqlite:///{Path(tmp) / 'meta.sqlite3'}")
        ledger = BatchLedger(engine, lease_s=60)
        for i, path in enumerate(files):
            load_file(store, app, path, ledger=ledger, users=i == 0)
        snapshot = ledger.snapshot()
        engine.dispose()
    return dataclasses.replace(_spec(app, start, events), snapshot=snapshot)


def run_direct(
    store: EventStore, work: Path, rows: int, events: list[str], repeat: int
) -> tuple[JobSpec, Measured]:
    spec = load_direct(store, work, rows, events)
    idle = PeakRss.rss_of(os.getpid())
    engine_runs = []
    with PeakRss(os.getpid()) as memory:
        for _ in range(repeat):
            began = time.perf_counter()
            with (work / "report.zip").open("wb") as out:
                result = run_export(store, spec, out, lambda _: None)
            engine_runs.append(time.perf_counter() - began)
    _check_report(work / "report.zip", rows)
    return spec, Measured(rows, engine_runs, memory.peak, idle, result.size)


def run_size(
    data_dir: Path,
    rows: int,
    events: list[str],
    repeat: int,
    direct: bool,
    variants: Sequence[Variant],
) -> list[Measured]:
    """One size in a data directory of its own, then the baselines and copy+zip on its rows.

    Sizes do not share a store, so one size's parts and merges never weigh on another's.
    """
    data_dir.mkdir()
    events_url = Settings.load({"data_dir": data_dir}).events_url
    if direct:
        store = open_store(events_url)
        try:
            ensure_schema(store)
            spec, measured = run_direct(store, data_dir, rows, events, repeat)
            timings = baselines(store, spec, data_dir)
        finally:
            store.close()
        results = [measured]
    else:
        spec, results = run_server(data_dir, rows, events, repeat, variants)
        # One process at a time opens a chDB directory: the server has stopped by now. A child
        # process opens it, so that this one never maps chDB's library, which every server is
        # measured without (`evict_library_pages`).
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as child:
            timings = child.submit(baselines_of, events_url, spec, data_dir).result()
    for measured in results:
        measured.memory_baseline_s, measured.baseline_s, measured.copy_s = timings
    shutil.rmtree(data_dir)
    return results


def baselines_of(events_url: str, spec: JobSpec, data_dir: Path) -> tuple[float, float, float]:
    store = open_store(events_url)
    try:
        return baselines(store, spec, data_dir)
    finally:
        store.close()


def baselines(store: EventStore, spec: JobSpec, data_dir: Path) -> tuple[float, float, float]:
    """The in-memory baseline, the fetch baseline and copy+zip, in seconds."""
    return (
        memory_baseline(store, spec, data_dir / "memory.zip"),
        baseline(store, spec, data_dir / "baseline.zip"),
        copy_then_zip(store, spec, data_dir),
    )


def _check_report(path: Path, rows: int) -> None:
    with zipfile.ZipFile(path) as archive:
        files = orjson.loads(archive.read("manifest.json"))["files"]
    exported = sum(f["rows"] for f in files if f["event"] != "users")
    if exported != rows:
        raise SystemExit(f"{path} holds {exported} rows, not {rows}")


def baseline(store: EventStore, spec: JobSpec, path: Path) -> float:
    """The straightforward exporter: fetch each file's rows, then `csv` into `zipfile`."""
    began = time.perf_counter()
    params = QueryParams()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for plan in plan_report(store, spec, params):
            rows = store.rows(plan.query, params.values)
            _write_csv(archive, plan.stat.name, plan.stat.columns, rows)
    return time.perf_counter() - began


def memory_baseline(store: EventStore, spec: JobSpec, path: Path) -> float:
    """The same exporter with the rows already in memory: only `csv` and `zipfile` timed.

    One file's rows at a time are fetched, outside the clock, so 10 M rows as Python tuples
    never sit in memory at once.
    """
    params = QueryParams()
    spent = 0.0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for plan in plan_report(store, spec, params):
            rows = store.rows(plan.query, params.values)
            began = time.perf_counter()
            _write_csv(archive, plan.stat.name, plan.stat.columns, rows)
            spent += time.perf_counter() - began
            del rows
    return spent


def _write_csv(
    archive: zipfile.ZipFile, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    with (
        archive.open(name, "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def copy_then_zip(store: EventStore, spec: JobSpec, work: Path) -> float:
    began = time.perf_counter()
    params = QueryParams()
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        members = []
        for plan in plan_report(store, spec, params):
            target = Path(tmp) / plan.stat.name
            result = store.stream(plan.query, params.values, "CSVWithNames")
            with result, target.open("wb") as out:
                out.writelines(result)
            members.append(ZipMember(plan.stat.name, _file_chunks(target)))
        with (work / "copy.zip").open("wb") as out:
            write_zip(out, members)
    return time.perf_counter() - began


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(MB):
            yield chunk


def print_report(results: list[Measured], direct: bool, events: list[str]) -> None:
    mode = "run_export in-process" if direct else "through rawexport serve"
    timed = "run_export" if direct else "setjob -> complete"
    # In-process, the bench's own memory (the baselines' rows in Python) is in the figure.
    process = "this process" if direct else "the server"
    print(f"\nexport benchmark, {mode}; events: {', '.join(events)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average now {load} (other processes slow every figure)")
    for m in results:
        print(f"\n{m.rows:,} rows, {m.variant}")
        runs = " / ".join(f"{s:.2f}" for s in m.engine_runs)
        print(
            f"  engine   {m.engine_s:6.2f} s {m.rows / m.engine_s / 1e6:6.2f} M rows/s"
            f"  ({timed}, median of {len(m.engine_runs)}: {runs} s)"
        )
        if m.polled_runs:
            polled = " / ".join(f"{s:.2f}" for s in m.polled_runs)
            print(
                f"  USER     {m.headline_s:6.2f} s {m.rows / m.headline_s / 1e6:6.2f} M rows/s"
                f"  {m.memory_baseline_s / m.headline_s:5.1f}x the in-memory baseline"
                f"  (setjob -> getprogress says complete, polled every {PROGRESS_POLL_S} s,"
                f" median of {len(m.polled_runs)}: {polled} s)"
            )
        if m.download_s:
            print(f"  download {m.download_s:6.2f} s {m.zip_bytes / MB:8.0f} MB ZIP")
        baselines = (
            ("in-memory baseline", m.memory_baseline_s),
            ("fetch baseline", m.baseline_s),
            ("copy+zip", m.copy_s),
        )
        for name, seconds in baselines:
            print(
                f"  {name:18} {seconds:6.2f} s {m.rows / seconds / 1e6:6.2f} M rows/s"
                f"  the user's time is {seconds / m.headline_s:5.1f}x faster"
            )
        library = f", {m.file_pages / MB:.0f} MB of it mapped files" if m.file_pages else ""
        print(
            f"  peak RSS {m.peak_rss / MB:6.0f} MB  of {process}{library}"
            f" (before the jobs {m.idle_rss / MB:.0f} MB)"
        )
    for variant in dict.fromkeys(m.variant for m in results):
        sizes = [m for m in results if m.variant == variant]
        if len(sizes) > 1 and not direct:
            low, high = min(sizes, key=lambda m: m.rows), max(sizes, key=lambda m: m.rows)
            print(
                f"\npeak RSS of {variant}, {high.rows:,} rows vs {low.rows:,} rows:"
                f" {high.peak_rss / low.peak_rss:.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument(
        "--events",
        default=DEFAULT_EVENTS,
        help=f"comma-separated, among {', '.join(EVENT_MAKERS)}",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="jobs per size; the median is compared"
    )
    parser.add_argument("--direct", action="store_true", help="call run_export in-process")
    parser.add_argument(
        "--before",
        type=Path,
        help="a directory whose src/ holds another version (`git archive main src | tar -x`):"
        " its server runs the same jobs, alternating with this one's",
    )
    parser.add_argument("--cpus", nargs="+", default=[""], help="taskset -c lists to compare")
    args = parser.parse_args()
    events = args.events.split(",")
    variants = [
        Variant(f"{name}{f' on CPUs {cpus}' if cpus else ''}", source, cpus or None)
        for cpus in args.cpus
        for name, source in (("this version", None), ("before", args.before))
        if name == "this version" or source is not None
    ]
    with tempfile.TemporaryDirectory(prefix="rawexport-bench-") as tmp:
        results = [
            measured
            for n in args.rows
            for measured in run_size(
                Path(tmp) / f"rows-{n}", n, events, args.repeat, args.direct, variants
            )
        ]
    print_report(results, args.direct, events)


if __name__ == "__main__":
    main()
