"""getprogress under load, against a bare FastAPI endpoint measured in the same run.

    .venv/bin/python bench/progress_bench.py [--requests 5000] [--concurrency 16] [--rows N]

Two servers, each in its own process on a loopback port, on the same uvicorn stack (uvloop,
httptools, an access log line a request): a bare FastAPI app answering a constant JSON envelope,
and `rawexport serve` answering `/healthz` and `getprogress` of a complete job. `ab -k` (Debian's
apache2-utils) sends the requests, one target at a time and in rounds, so that the servers do
not compete and a busy moment of the machine hits every target: requests per second, p50 and
p99 (ms), the rate's ratio to the bare endpoint of the same round, and the server's CPU time a
request (which hardly depends on what else runs). Then getprogress while an export of `--rows`
rows runs on the rawexport server: the bare endpoint, then getprogress, half the requests each,
while four such jobs queued for two workers run (one must still run at the end to count; the
CPU column of getprogress then counts the export too), with what the polls cost the exports:
one export's time alone, and the four's under the polls.

`--nice 0 10 19` repeats that last part on servers with each `export_nice` in turn (`--repeat`
rounds), to compare what a lower priority for exports buys the polls and costs the exports.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from bench_server import BenchServer, cli, cpu_seconds
from export_data import write_bench_files

from rawexport.domain.paths import API_PREFIX

__all__ = ["Rate", "ab"]

DAY_MS = 86_400_000
ROUNDS = 2
EXPORTS = 4
"""Exports queued together for the measurements while they run (two workers take them)."""


@dataclass(frozen=True)
class Rate:
    per_s: float
    p50_ms: float
    p99_ms: float
    failed: int
    cpu_us: float
    """The server process's CPU time per request: unlike the rate, it hardly depends on what
    else the machine runs."""

    def row(self, name: str, bare: Rate) -> str:
        return (
            f"{name:<34} {self.per_s:8.0f} {self.p50_ms:7.1f} {self.p99_ms:7.1f}"
            f" {self.per_s / bare.per_s:6.2f} {self.cpu_us:7.0f} {self.failed:6d}"
        )


def ab(url: str, requests: int, concurrency: int, pid: int) -> Rate:
    """`ab -k` (keep-alive connections, as a polling client holds one) against the server
    process `pid`."""
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(
        ["ab", "-q", "-k", "-c", str(concurrency), "-n", str(requests), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu_us = (cpu_seconds(pid) - cpu_before) / requests * 1e6

    def number(pattern: str) -> float:
        found = re.search(pattern, out, re.MULTILINE)
        if found is None:
            raise SystemExit(f"ab printed no {pattern!r}:\n{out}")
        return float(found.group(1))

    non_2xx = re.search(r"^Non-2xx responses:\s+(\d+)", out, re.MULTILINE)
    return Rate(
        per_s=number(r"^Requests per second:\s+([\d.]+)"),
        p50_ms=number(r"^\s+50%\s+(\d+)"),
        p99_ms=number(r"^\s+99%\s+(\d+)"),
        failed=int(number(r"^Failed requests:\s+(\d+)")) + int(non_2xx.group(1) if non_2xx else 0),
        cpu_us=cpu_us,
    )


BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()

@app.get("/bare")
async def bare() -> dict[str, object]:
    return {"status_code": 200, "data": {"status": "complete", "percent_complete": 100}}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]))  # an access log line each, as rawexport
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BareServer:
    """The bare endpoint, in a process of its own on the same uvicorn stack."""

    url = ""

    def __enter__(self) -> BareServer:
        port = _free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-c", BARE_APP, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self._process.pid
        self.url = f"http://127.0.0.1:{port}/bare"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url).raise_for_status()
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit("the bare server did not start")

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)


JobArgs = tuple[str, str, int, int, list[str]]
"""What `BenchServer.submit` takes: token, app id, start, end, events."""


@dataclass(frozen=True)
class DuringExports:
    """The bare endpoint and getprogress measured while exports run, and what they cost the
    exports: their time alone and under the polls."""

    bare: Rate
    progress: Rate
    alone_s: float
    """One export with nothing else asked of the server: setjob until getprogress says
    complete."""
    loaded_s: float
    """The `EXPORTS` exports under the polls: the first setjob until the last is complete."""
    outlasted: bool
    """Whether an export still ran when the polls ended (else raise --rows)."""


def during_exports(
    server: BenchServer, bare: BareServer, job: JobArgs, progress_url: str, n: int, c: int
) -> DuringExports:
    began = time.monotonic()
    server.run_job(*job)
    alone_s = time.monotonic() - began
    began = time.monotonic()
    exports = [server.submit(*job) for _ in range(EXPORTS)]
    bare_rate = ab(bare.url, n // 2, c, bare.pid)
    progress = ab(progress_url, n // 2, c, server.pid)
    outlasted = any(server.status(job[0], export) != "complete" for export in exports)
    for export in exports:
        server.wait_complete(job[0], export)
    return DuringExports(bare_rate, progress, alone_s, time.monotonic() - began, outlasted)


def getprogress_url(server: BenchServer, token: str, job: str) -> str:
    query = urlencode({"user_token": token, "job_id": job})
    return f"{server.url}{API_PREFIX}/getprogress?{query}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument(
        "--nice",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="export_nice values to compare while exports run, each on a server of its own, "
        "in turn for --repeat rounds",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the --nice comparison")
    args = parser.parse_args()
    if shutil.which("ab") is None:
        raise SystemExit("this bench sends its requests with ab: apt-get install apache2-utils")
    n, c = args.requests, args.concurrency
    now_ms = int(time.time() * 1000)
    with tempfile.TemporaryDirectory(prefix="progress-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        space = cli(data_dir, "space", "create", "bench")["space_id"]
        user = cli(data_dir, "user", "create", "--space", space, "--email", "bench@x.io")
        app = cli(data_dir, "app", "create", "--space", space, "game")["app_id"]
        cli(data_dir, "app", "grant", user["user_id"], app)
        files = write_bench_files(Path(tmp), args.rows, ["gs"], now_ms - DAY_MS, DAY_MS // 2)
        cli(data_dir, "load", "--app", app, "--users", str(files[0]))
        cli(data_dir, "load", "--app", app, *map(str, files[1:]))
        token, start, end = user["user_token"], (now_ms - DAY_MS) // 1000, now_ms // 1000
        job: JobArgs = (token, app, start, end, ["gs"])
        with BareServer() as bare:
            with BenchServer(data_dir) as server:
                small, _ = server.run_job(token, app, start, start + 60, ["gs"])
                server.wait_idle()
                progress_url = getprogress_url(server, token, small)
                targets = {
                    "bare FastAPI endpoint": (bare.url, bare.pid),
                    "rawexport /healthz": (f"{server.url}/healthz", server.pid),
                    "getprogress (complete job)": (progress_url, server.pid),
                }
                for url, pid in targets.values():
                    ab(url, 500, c, pid)  # warm up
                # Rounds taken in turn, so that a busy moment of the machine hits every target.
                rounds = [
                    {name: ab(url, n, c, pid) for name, (url, pid) in targets.items()}
                    for _ in range(ROUNDS)
                ]
                default = during_exports(server, bare, job, progress_url, n, c)
            compared: list[tuple[int, DuringExports]] = []
            for _ in range(args.repeat if args.nice else 0):
                for nice in args.nice:  # one server at a time: the embedded store is its own
                    with BenchServer(data_dir, "--export-nice", str(nice)) as server:
                        server.run_job(token, app, start, start + 60, ["gs"])  # warm up
                        server.wait_idle()
                        url = getprogress_url(server, token, small)
                        compared.append((nice, during_exports(server, bare, job, url, n, c)))
    print(f"ab -k -c {c} -n {n}; each server in its own process on loopback")
    header = f"{'target':<34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/bare':>6}"
    print(f"{header} {'CPU us':>7} {'failed':>6}")
    for number, measured in enumerate(rounds, 1):
        for name, rate in measured.items():
            print(rate.row(f"{name} #{number}", measured["bare FastAPI endpoint"]))
    _print_during("default settings", default, args.rows)
    for nice, during in compared:
        _print_during(f"export_nice {nice}", during, args.rows)


def _print_during(variant: str, measured: DuringExports, rows: int) -> None:
    print(measured.bare.row(f"bare, while exports run ({variant})", measured.bare))
    print(measured.progress.row("getprogress, while exports run", measured.bare))
    print(
        f"  one export of {rows:,} rows alone: {measured.alone_s:.2f} s;"
        f" {EXPORTS} under the polls: {measured.loaded_s:.2f} s"
        + ("" if measured.outlasted else " (they ended before the polls did: raise --rows)")
    )


if __name__ == "__main__":
    main()
