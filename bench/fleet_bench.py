"""Fleet benchmark: jobs per minute with 1, 2 and 4 `rawexport worker` processes.

    .venv/bin/python bench/fleet_bench.py [--rows N] [--jobs J] [--users U] [--workers 1,2,4]
                                          [--threads T] [--reports s3,local] [--timeout S]

The real topology on loopback: a throwaway PostgreSQL cluster, the ClickHouse-HTTP stand-in
(chDB behind ClickHouse's HTTP interface, in a process of its own), a report store (moto's S3
server, or one directory every process of this machine shares) and one `rawexport serve
--workers 0` API node. N synthetic rows (default 1,000,000 over gs, ip and a custom event, plus
the user cards) are loaded through the API node's `POST /api/v1/users` and `POST /api/v1/events`
with the app's ingest key. Then, for each report store and each worker count W, W worker
processes of T export threads each (default 1) start, J jobs (default 12) of the whole day are
submitted round-robin by U users (default 4) of the space, and the bench polls getprogress on the
oldest unfinished job (0.25 s apart, so polling costs the fleet little) until the last is
complete. Jobs per minute run from the first setjob to the last `complete` the client saw; the
span of the jobs' own records (first created_at to last finished_at, the database's clock) is
printed beside it; ratios are against the first worker count (1 by default). Peak RSS is the
kernel's high-water mark of each worker process (VmHWM) over the batch; the largest counts. The
CPU seconds of each part (workers, ClickHouse, S3, PostgreSQL, API node) over the batch give its
cost per job and rows per CPU-second, which depend far less than times on what else the machine
runs. Every job must write the rows loaded, and the last report must download as a whole ZIP.
Every run must finish within --timeout seconds. It needs the test extras (moto, pytest for the
test helpers: `make .venv/.installed-test`) and PostgreSQL's binaries (initdb, pg_ctl).
"""

from __future__ import annotations

import argparse
import os
import time
import zipfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
from bench_server import PROGRESS_POLL_S, BenchServer, PeakRss, cli, cpu_seconds
from export_data import DEFAULT_EVENTS, EVENT_MAKERS, write_bench_files
from fleet_parts import REPORT_STORES, SharedParts, WorkerNode, use_environment
from fleet_results import Batch, ReportSize, batch_row, print_report

DAY_S = 86_400
_INGEST_TIMEOUT_S = 600
_QUOTAS = {
    # A batch from a handful of users, back to back, run after run: far above the defaults.
    "RAWEXPORT_MIN_JOB_INTERVAL_S": "0",
    "RAWEXPORT_MAX_CONCURRENT_JOBS": "1000",
    "RAWEXPORT_JOBS_PER_DAY_USER": "100000",
    "RAWEXPORT_JOBS_PER_DAY_SPACE": "100000",
}


@dataclass(frozen=True)
class Fleet:
    """What the batches need to know of the accounts and the data."""

    operator_dir: Path
    app_id: str
    tokens: list[str]
    start: int
    events: list[str]
    shared_pids: dict[str, int]


def make_accounts(operator_dir: Path, users: int) -> tuple[str, str, list[str]]:
    """A space with one app and `users` users granted it: the app's id, ingest key, tokens."""
    space = cli(operator_dir, "space", "create", "fleet-bench")["space_id"]
    app = cli(operator_dir, "app", "create", "--space", space, "fleet-bench")
    tokens = []
    for i in range(users):
        user = cli(operator_dir, "user", "create", "--space", space, "--email", f"u{i}@bench.test")
        cli(operator_dir, "app", "grant", user["user_id"], app["app_id"])
        tokens.append(user["user_token"])
    return app["app_id"], app["ingest_key"], tokens


def ingest(api: BenchServer, app_id: str, key: str, files: list[Path]) -> float:
    """The user cards, then the events, through the API node; the seconds it took."""
    began = time.perf_counter()
    with httpx.Client(base_url=api.url, timeout=_INGEST_TIMEOUT_S) as client:
        for i, path in enumerate(files):
            kind = "users" if i == 0 else "events"
            with path.open("rb") as body:
                answer = client.post(
                    f"/api/v1/{kind}",
                    params={"app_id": app_id},
                    content=body,
                    headers={"X-Ingest-Key": key, "X-Source-Name": path.name},
                )
            if answer.status_code != 200:
                raise SystemExit(f"loading {path.name} failed: {answer.text}")
    return time.perf_counter() - began


def run_batch(
    api: BenchServer, fleet: Fleet, nodes: list[WorkerNode], jobs: int, deadline: float
) -> tuple[float, list[str], str]:
    """Submit `jobs` jobs, poll until all are complete: seconds, job ids, the last report URL."""
    began = time.perf_counter()
    end = fleet.start + DAY_S
    submitted = []
    for i in range(jobs):
        token = fleet.tokens[i % len(fleet.tokens)]
        submitted.append((token, api.submit(token, fleet.app_id, fleet.start, end, fleet.events)))
    url = ""
    for token, job in submitted:
        while (found := api.report_url(token, job)) is None:
            if time.monotonic() > deadline:
                tail = nodes[0].log.read_text()[-2000:]
                raise SystemExit(
                    f"job {job} not complete within --timeout; a worker's log:\n{tail}"
                )
            time.sleep(PROGRESS_POLL_S)
        url = found
    return time.perf_counter() - began, [job for _, job in submitted], url


def measure(
    api: BenchServer, fleet: Fleet, work: Path, reports: str, workers: int, args: argparse.Namespace
) -> Batch:
    nodes = [
        WorkerNode(work / f"worker-{reports}-{workers}-{i}", args.threads) for i in range(workers)
    ]
    try:
        for node in nodes:
            node.wait_ready()
        roles = {"workers": [n.pid for n in nodes], "api": [api.pid]}
        roles |= {role: [pid] for role, pid in fleet.shared_pids.items()}
        with ExitStack() as stack:
            memories = [stack.enter_context(PeakRss(node.pid)) for node in nodes]
            deadline = time.monotonic() + args.timeout
            cpu_before = _cpu_by_role(roles)
            polled_s, ids, url = run_batch(api, fleet, nodes, args.jobs, deadline)
            cpu_s = {r: s - cpu_before[r] for r, s in _cpu_by_role(roles).items()}
        load = os.getloadavg()
    finally:
        for node in nodes:
            node.stop()
    # One `job list` rather than a `job show` per job: each CLI run costs a second of CPU.
    listed = cli(fleet.operator_dir, "job", "list", "--app", fleet.app_id, "--limit", str(len(ids)))
    records = [r for r in listed["jobs"] if r["id"] in ids]
    if len(records) != len(ids):
        raise SystemExit(f"job list shows {len(records)} of the batch's {len(ids)} jobs")
    report = _check(api, records, args.rows, url, work / "report.zip")
    span_s = max(r["finished_at"] for r in records) - min(r["created_at"] for r in records)
    first = next(r for r in records if r["id"] == ids[0])
    per_process = Counter(r["worker_id"].rsplit("-", 1)[0] for r in records)
    return Batch(
        reports,
        workers,
        args.jobs,
        polled_s,
        span_s,
        first["started_at"] - first["created_at"],
        max(m.peak for m in memories),
        sorted(per_process.values(), reverse=True),
        load,
        report,
        cpu_s,
    )


def _cpu_by_role(roles: dict[str, list[int]]) -> dict[str, float]:
    return {role: sum(cpu_seconds(pid) for pid in pids) for role, pids in roles.items()}


def _check(
    api: BenchServer, records: list[dict[str, Any]], rows: int, url: str, target: Path
) -> ReportSize:
    """Every job wrote the rows loaded; the last report downloads as a whole ZIP. Its size."""
    if {r["rows"] for r in records} != {rows}:
        raise SystemExit(f"{rows:,} rows loaded, the jobs wrote {[r['rows'] for r in records]}")
    api.download(url, target)
    with zipfile.ZipFile(target) as archive:
        if archive.testzip() is not None:
            raise SystemExit("the downloaded report is damaged")
        files_bytes = sum(i.file_size for i in archive.infolist())
    return ReportSize(rows, files_bytes, target.stat().st_size)


def compare(args: argparse.Namespace, work: Path) -> tuple[list[Batch], float]:
    events = args.events.split(",")
    start = (int(time.time()) // DAY_S - 1) * DAY_S
    files = write_bench_files(work, args.rows, events, start * 1000, DAY_S * 1000)
    results: list[Batch] = []
    loaded_s = 0.0
    with SharedParts(work / "parts") as parts:
        use_environment(parts.env, _QUOTAS)
        operator_dir = work / "operator"
        app_id, key, tokens = make_accounts(operator_dir, args.users)
        fleet = Fleet(operator_dir, app_id, tokens, start, events, parts.pids)
        for reports in args.reports.split(","):
            use_environment(parts.env, _QUOTAS, parts.reports_env(reports))
            api_dir = work / f"api-{reports}"
            api_dir.mkdir()
            with BenchServer(api_dir, "--workers", "0") as api:
                if not loaded_s:
                    loaded_s = ingest(api, app_id, key, files)
                for workers in map(int, args.workers.split(",")):
                    results.append(measure(api, fleet, work, reports, workers, args))
                    print(batch_row(results[-1], results), flush=True)
    return results, loaded_s


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--events", default=DEFAULT_EVENTS, help=f"among {', '.join(EVENT_MAKERS)}")
    parser.add_argument("--jobs", type=int, default=12, help="jobs per run")
    parser.add_argument("--users", type=int, default=4, help="users submitting them")
    parser.add_argument("--workers", default="1,2,4", help="worker processes per run")
    parser.add_argument("--threads", type=int, default=1, help="export threads per process")
    parser.add_argument("--reports", default=",".join(REPORT_STORES), help="s3, local or both")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take")
    args = parser.parse_args()
    unknown = set(args.reports.split(",")) - set(REPORT_STORES)
    if unknown:
        parser.error(f"--reports: unknown {', '.join(sorted(unknown))}")
    with TemporaryDirectory(prefix="rawexport-fleet-bench-") as tmp:
        results, loaded_s = compare(args, Path(tmp))
    print_report(results, loaded_s, args)


if __name__ == "__main__":
    main()
