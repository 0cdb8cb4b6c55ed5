"""Store benchmark: the same export through chDB embedded and through a ClickHouse HTTP server.

    .venv/bin/python bench/store_bench.py [--rows N] [--events E,E,E] [--repeat R]

N rows (default 5,000,000, split over gs, ip and a custom event) are loaded into an embedded
store and into the ClickHouse-HTTP stand-in of the tests (tests/clickhouse_http.py: chDB behind
ClickHouse's HTTP interface, in a process of its own, as a server would be). Then, in one run,
a process per backend runs the same `run_export` R times (default 3; the median counts) and
reports its time and its peak memory: the exporting process's alone, for on a server the
query's memory is the server's. Both reports must hold the same files with the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from export_data import DEFAULT_EVENTS, EVENT_MAKERS, write_bench_files

from rawexport.domain.catalog import standard_event
from rawexport.domain.jobspec import EventSelection, JobSpec
from rawexport.export.engine import run_export
from rawexport.meta.batches import BatchLedger
from rawexport.meta.db import connect
from rawexport.store import ensure_schema, load_file, open_store

DAY_S = 86_400
MB = 1 << 20
APP = "store-bench"
_ROOT = Path(__file__).resolve().parents[1]
_STAND_IN = [sys.executable, "-m", "tests.clickhouse_http"]  # from _ROOT: see its docstring


@dataclass(frozen=True)
class Measured:
    backend: str
    runs: list[float]
    peak_rss: int
    contents: dict[str, int]
    """CRC-32 of every file of the report: equal CRCs, equal bytes (ZIP dates aside)."""

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs)


def _spec(start: int, events: list[str]) -> JobSpec:
    selections = tuple(EventSelection(e, standard_event(e) is None, e) for e in events)
    return JobSpec(APP, start, start + DAY_S, selections)


def _high_water_mark() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM in /proc/self/status: peak memory needs Linux")


def load(url: str, files: list[str]) -> None:
    """Child process: load the bench files into the store at `url`."""
    store = open_store(url)
    try:
        ensure_schema(store)
        # The batch sequence of this bench alone, beside its files.
        ledger = BatchLedger(connect(f"sqlite:///{Path(files[0]).parent / 'meta.sqlite3'}"), 60)
        for i, path in enumerate(files):
            load_file(store, APP, Path(path), ledger=ledger, users=i == 0)
    finally:
        store.close()


def export(url: str, start: int, events: list[str], repeat: int, report: str) -> None:
    """Child process: run the export `repeat` times; print the times and the peak memory."""
    store = open_store(url)
    runs = []
    # The peak from here on: opening the store (chDB's library, say) is not the export's.
    Path("/proc/self/clear_refs").write_text("5")
    try:
        for _ in range(repeat):
            began = time.perf_counter()
            with Path(report).open("wb") as out:
                run_export(store, _spec(start, events), out, lambda _: None)
            runs.append(time.perf_counter() - began)
    finally:
        store.close()
    print(json.dumps({"runs": runs, "peak_rss": _high_water_mark()}))


def _child(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"store_bench {args[0]} failed:\n{done.stderr}")
    return done.stdout


def _measure(backend: str, url: str, args: argparse.Namespace, start: int, work: Path) -> Measured:
    report = work / f"{backend}.zip"
    run = ["--start", str(start), "--events", args.events, "--repeat", str(args.repeat)]
    result = json.loads(_child("export", url, str(report), *run))
    with zipfile.ZipFile(report) as archive:
        contents = {i.filename: i.CRC for i in archive.infolist() if i.filename != "manifest.json"}
    return Measured(backend, result["runs"], result["peak_rss"], contents)


def _start_stand_in(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    user, key = "bench", secrets.token_hex(8)
    server = subprocess.Popen(
        [*_STAND_IN, str(data_dir), user, key], stdout=subprocess.PIPE, cwd=_ROOT
    )
    assert server.stdout is not None
    port = server.stdout.readline().strip()  # printed once it listens
    if not port:
        raise SystemExit("the ClickHouse stand-in did not start")
    return server, f"clickhouse://{user}:{key}@127.0.0.1:{int(port)}/bench"


def compare(args: argparse.Namespace) -> list[Measured]:
    events = args.events.split(",")
    start = (int(time.time()) // DAY_S - 1) * DAY_S
    with tempfile.TemporaryDirectory(prefix="rawexport-store-bench-") as tmp:
        work = Path(tmp)
        made = write_bench_files(work, args.rows, events, start * 1000, DAY_S * 1000)
        files = [str(f) for f in made]
        server, clickhouse_url = _start_stand_in(work / "server")
        try:
            backends = {
                "chdb embedded": f"chdb://{work / 'embedded'}",
                "clickhouse http": clickhouse_url,
            }
            for url in backends.values():
                _child("load", url, *files)
            results = [_measure(name, url, args, start, work) for name, url in backends.items()]
        finally:
            server.terminate()
            server.wait()
    if results[0].contents != results[1].contents:
        raise SystemExit("the two backends wrote different reports")
    return results


def print_report(results: list[Measured], args: argparse.Namespace) -> None:
    print(f"\nstore benchmark: {args.rows:,} rows of {args.events}, median of {args.repeat} runs")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average now {load} (other processes slow every figure)")
    for m in results:
        runs = " / ".join(f"{s:.2f}" for s in m.runs)
        print(
            f"  {m.backend:16} {m.seconds:6.2f} s {args.rows / m.seconds / 1e6:6.2f} M rows/s"
            f"  peak RSS {m.peak_rss / MB:5.0f} MB  ({runs} s)"
        )
    embedded, server = results
    print(
        f"  http / embedded: time {server.seconds / embedded.seconds:.2f}x,"
        f" peak RSS {server.peak_rss / embedded.peak_rss:.2f}x; the same report bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--events", default=DEFAULT_EVENTS, help=f"among {', '.join(EVENT_MAKERS)}")
    parser.add_argument("--repeat", type=int, default=3, help="exports per backend")
    loading = commands.add_parser("load", help=argparse.SUPPRESS)
    loading.add_argument("url")
    loading.add_argument("files", nargs="+")
    exporting = commands.add_parser("export", help=argparse.SUPPRESS)
    exporting.add_argument("url")
    exporting.add_argument("report")
    exporting.add_argument("--start", type=int, required=True)
    exporting.add_argument("--events", required=True)
    exporting.add_argument("--repeat", type=int, required=True)
    args = parser.parse_args()
    if args.command == "load":
        load(args.url, args.files)
    elif args.command == "export":
        export(args.url, args.start, args.events.split(","), args.repeat, args.report)
    else:
        print_report(compare(args), args)


if __name__ == "__main__":
    main()
