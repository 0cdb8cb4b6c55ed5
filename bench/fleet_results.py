"""What a batch of the fleet bench measured, and the Markdown tables it prints."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

__all__ = ["Batch", "ReportSize", "batch_row", "print_report"]

MB = 1 << 20


@dataclass(frozen=True)
class ReportSize:
    """What one report weighs: the bytes a worker reads from ClickHouse (the CSV, uncompressed
    over HTTP) and the bytes it uploads (the ZIP), per row."""

    rows: int
    files_bytes: int
    zip_bytes: int


@dataclass(frozen=True)
class Batch:
    reports: str
    workers: int
    jobs: int
    polled_s: float
    span_s: float
    wake_s: float
    """From the first setjob to a worker starting it: how fast an idle worker of another
    process hears of a job (PostgreSQL's notification), on the database's clock."""
    peak_rss: int
    per_process: list[int]
    load: tuple[float, float, float]
    report: ReportSize
    cpu_s: dict[str, float]
    """CPU seconds over the batch, by role: workers, api, clickhouse, s3, postgres."""

    @property
    def per_minute(self) -> float:
        return self.jobs * 60 / self.polled_s


def batch_row(b: Batch, results: list[Batch]) -> str:
    """A row of the main table; ratios against the first batch on the same report store."""
    first = next(r for r in results if r.reports == b.reports)
    load = "/".join(f"{x:.1f}" for x in b.load)
    return (
        f"| {b.reports} | {b.workers} | {b.jobs} | {b.polled_s:.1f} s | {b.per_minute:.1f}"
        f" | {b.per_minute / first.per_minute:.2f}x | {b.span_s:.1f} s | {b.wake_s * 1000:.0f} ms"
        f" | {b.peak_rss / MB:.0f} MB | {b.peak_rss / first.peak_rss:.2f}x"
        f" | {'/'.join(map(str, b.per_process))} | {load} |"
    )


def print_report(results: list[Batch], loaded_s: float, args: argparse.Namespace) -> None:
    print(
        f"\nfleet benchmark: {args.rows:,} rows of {args.events} loaded through the API node in"
        f" {loaded_s:.1f} s; {args.jobs} jobs of {args.users} users per run,"
        f" {args.threads} export thread(s) per worker process"
    )
    print(f"{os.cpu_count()} CPUs shared by every process of the fleet (and anything else)")
    size = results[0].report
    print(
        f"a report: {size.rows:,} rows, {size.files_bytes / size.rows:.0f} bytes a row as read"
        f" from ClickHouse (uncompressed), {size.zip_bytes / size.rows:.1f} bytes a row zipped"
        f" ({size.files_bytes / size.zip_bytes:.1f}x)\n"
    )
    print(
        "| reports | worker processes | jobs | first setjob → last complete | jobs/min"
        " | vs 1 | span of the job records | first job started after | peak worker RSS | vs 1"
        " | jobs per process | load average after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for b in results:
        print(batch_row(b, results))
    print(
        "\nCPU seconds per job (all processes on the same cores), and rows per CPU-second:\n\n"
        "| reports | worker processes | workers | ClickHouse | S3 server | PostgreSQL | API node"
        " | rows per worker CPU-s | rows per ClickHouse CPU-s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for b in results:
        per_job = {role: s / b.jobs for role, s in b.cpu_s.items()}
        per_core = {role: b.report.rows / s / 1e6 for role, s in per_job.items() if s}
        print(
            f"| {b.reports} | {b.workers} | {per_job['workers']:.2f} | {per_job['clickhouse']:.2f}"
            f" | {per_job['s3']:.2f} | {per_job['postgres']:.3f} | {per_job['api']:.3f}"
            f" | {per_core['workers']:.2f} M | {per_core['clickhouse']:.2f} M |"
        )
