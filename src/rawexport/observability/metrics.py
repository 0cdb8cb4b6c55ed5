"""The process's Prometheus metrics, and the functions the code calls where things happen.

The metrics live in prometheus_client's default registry, shared by every part of the process
(its HTTP layer, its workers, the ingest endpoint); what is read from the job table at scrape
time is added per exposition (`queue_metrics.py`). Labels are bounded sets (route templates,
methods, status codes, error codes), never ids or tokens.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = [
    "DOWNLOADS",
    "EXPORT_BYTES",
    "EXPORT_ROWS",
    "EXPORT_SECONDS",
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "LOADED_ROWS",
    "QUOTA_REFUSALS",
    "REJECTED_FILES",
    "WEBHOOK_POSTS",
    "download_served",
    "export_done",
    "load_done",
    "load_rejected",
    "quota_refused",
    "webhook_posted",
]

EXPORT_ROWS = Histogram(
    "rawexport_export_rows",
    "Rows written by each completed export job.",
    buckets=(0, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8),
)
EXPORT_BYTES = Histogram(
    "rawexport_export_bytes",
    "Size in bytes of each completed export job's report.",
    buckets=(0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10),
)
EXPORT_SECONDS = Histogram(
    "rawexport_export_seconds",
    "Seconds each completed export job ran, from its claim to its result.",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
HTTP_REQUESTS = Counter(
    "rawexport_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "code"],
)
HTTP_LATENCY = Histogram(
    "rawexport_http_request_seconds",
    "Seconds from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
DOWNLOADS = Counter(
    "rawexport_downloads", "Report downloads served from the first byte (resumes not counted)."
)
LOADED_ROWS = Counter("rawexport_loaded_rows", "Rows stored through the ingest endpoints.")
REJECTED_FILES = Counter(
    "rawexport_rejected_files", "Uploads refused whole because of a bad line (nothing stored)."
)
QUOTA_REFUSALS = Counter(
    "rawexport_quota_refusals", "setjob requests refused by a limit, by error code.", ["code"]
)

WEBHOOK_POSTS = Counter(
    "rawexport_webhooks",
    "Webhook notifications by outcome: `delivered`, `failed` (to be tried again), `dropped`.",
    ["outcome"],
)


def export_done(rows: int, size: int, seconds: float) -> None:
    EXPORT_ROWS.observe(rows)
    EXPORT_BYTES.observe(size)
    EXPORT_SECONDS.observe(seconds)


def download_served() -> None:
    DOWNLOADS.inc()


def load_done(rows: int) -> None:
    LOADED_ROWS.inc(rows)


def load_rejected() -> None:
    REJECTED_FILES.inc()


def quota_refused(code: int) -> None:
    QUOTA_REFUSALS.labels(str(code)).inc()


def webhook_posted(outcome: str) -> None:
    WEBHOOK_POSTS.labels(outcome).inc()
