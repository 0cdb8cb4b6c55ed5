"""One registry of every setting: name, default, environment variable and help.

`--help`, `docs/operations.md` and the running service all read this table, so they cannot
disagree. A value comes from the command line, else the environment, else the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SETTINGS", "Setting", "Settings", "settings_markdown"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | float | str | None
    help: str
    type: type = int

    @property
    def env(self) -> str:
        return f"RAWEXPORT_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./data", "Directory of the metadata database, events and reports.", str),
    Setting(
        "database_url",
        None,
        "SQLAlchemy URL of the metadata and job database "
        "(default: sqlite:///DATA_DIR/meta.sqlite3; postgresql+psycopg://... to share it).",
        str,
    ),
    Setting(
        "store_url",
        None,
        "Event store URL (default: chdb:///DATA_DIR/events, embedded); "
        "clickhouse://USER:PASSWORD@HOST:8123/DB (clickhouses:// for TLS) for a ClickHouse server.",
        str,
    ),
    Setting(
        "reports_url",
        None,
        "Where reports are kept (default: the directory DATA_DIR/reports): a directory, "
        "file:///path, or s3://BUCKET/PREFIX with the endpoint and credentials from "
        "AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.",
        str,
    ),
    Setting(
        "public_url",
        None,
        "Base of the report `url` in getprogress (default: from the request).",
        str,
    ),
    Setting(
        "workers",
        2,
        "Export worker threads of `rawexport serve` (0: API only) and of `rawexport worker`.",
    ),
    Setting("jobs_per_day_space", 100, "Accepted jobs per UTC day per space."),
    Setting("jobs_per_day_user", 50, "Accepted jobs per UTC day per user."),
    Setting("max_concurrent_jobs", 5, "Pending plus running jobs per user."),
    Setting("min_job_interval_s", 5, "Minimum seconds between a user's accepted jobs."),
    Setting("report_ttl_s", 86400, "Report lifetime in seconds from the end of the job."),
    Setting("max_downloads", 10, "Downloads per report (ranged resumes not counted)."),
    Setting("retention_days", 90, "How far back start_date and end_date may lie, in days."),
    Setting("heartbeat_s", 5, "Seconds between a running job's heartbeats."),
    Setting("stale_after_s", 30, "A running job without a heartbeat for this long is re-queued."),
    Setting(
        "max_attempts",
        3,
        "A job whose worker stopped heartbeating this many times fails (code 1) instead.",
    ),
    Setting(
        "job_timeout_s",
        3600,
        "An export running longer than this many seconds is stopped and its job fails (code 1).",
    ),
    Setting(
        "poll_s",
        1,
        "Seconds between an idle worker's looks for jobs it was not woken for "
        "(PostgreSQL wakes workers of every process at once).",
    ),
    Setting(
        "sweep_interval_s",
        60,
        "Seconds between sweeps that delete expired reports and what crashed processes left.",
    ),
    Setting(
        "staging_ttl_s",
        86400,
        "A load's staging table older than this many seconds (by the event store's clock) is "
        "taken for the leftover of a crashed load and dropped.",
    ),
    Setting(
        "load_lease_s",
        60,
        "Seconds a load's batch stays open without renewal (renewed 4 times a lease): past it, "
        "a crashed loader no longer holds back the snapshot of new jobs, and a stalled one "
        "stores nothing more.",
    ),
    Setting(
        "export_nice",
        19,
        "How much nicer (lower CPU priority, Linux) an export's own threads run than the API, "
        "so that polls stay fast while exports take the cores (0: the same priority; 19: the "
        "lowest). The store engine's query threads keep their priority.",
    ),
    Setting("max_events", 100, "Entries one setjob `events` list may have."),
    Setting("max_body_bytes", 1 << 20, "Largest accepted setjob/getprogress body, in bytes."),
    Setting("max_ingest_bytes", 1 << 30, "Largest accepted event upload, in bytes."),
    Setting(
        "metrics_path",
        "/metrics",
        "Path of the Prometheus metrics on the API's port (`off`, or an empty `--metrics-path`: "
        "no metrics).",
        str,
    ),
    Setting(
        "metrics_port",
        0,
        "Port of the Prometheus metrics of `rawexport worker` (0: none); the API serves them "
        "at `metrics_path` instead.",
    ),
    Setting("log_format", "text", "`text`, or `json` (one object a line) for log shippers.", str),
    Setting(
        "webhook_hosts",
        "",
        "Hosts a job's `notify_url` may name, comma-separated: `host` (its scheme's default "
        "port) or `host:port`; empty: webhooks off, and a `notify_url` is refused (code 5).",
        str,
    ),
    Setting(
        "webhook_retry_s",
        10.0,
        "Seconds before a failed webhook POST is tried again; each later wait is twice the one "
        "before, at most 10 minutes.",
        float,
    ),
    Setting(
        "webhook_give_up_s",
        3600,
        "A job's webhook still not answered with a 2xx this many seconds after the job ended is "
        "dropped (a journal line says so).",
    ),
    Setting("webhook_timeout_s", 10, "Seconds a webhook receiver has to connect and to answer."),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./data")
    database_url: str | None = None
    store_url: str | None = None
    reports_url: str | None = None
    public_url: str | None = None
    workers: int = 2
    jobs_per_day_space: int = 100
    jobs_per_day_user: int = 50
    max_concurrent_jobs: int = 5
    min_job_interval_s: int = 5
    report_ttl_s: int = 86400
    max_downloads: int = 10
    retention_days: int = 90
    heartbeat_s: int = 5
    stale_after_s: int = 30
    max_attempts: int = 3
    job_timeout_s: int = 3600
    poll_s: int = 1
    sweep_interval_s: int = 60
    max_events: int = 100
    staging_ttl_s: int = 86400
    load_lease_s: int = 60
    export_nice: int = 19
    max_body_bytes: int = 1 << 20
    max_ingest_bytes: int = 1 << 30
    metrics_path: str = "/metrics"
    metrics_port: int = 0
    log_format: str = "text"
    webhook_hosts: str = ""
    webhook_retry_s: float = 10.0
    webhook_give_up_s: int = 3600
    webhook_timeout_s: int = 10

    @classmethod
    def load(
        cls, overrides: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings from `overrides` (None values ignored), else `env`, else the defaults."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for s in SETTINGS:
            raw = (overrides or {}).get(s.name)
            if raw is None:
                raw = env.get(s.env) or None
            if raw is None:
                continue
            try:
                values[s.name] = s.type(raw)
            except ValueError:
                raise ValueError(f"{s.env}: expected {s.type.__name__}, got {raw!r}") from None
        if "data_dir" in values:
            values["data_dir"] = Path(str(values["data_dir"]))
        return cls(**values)  # type: ignore[arg-type]

    @property
    def metrics_route(self) -> str | None:
        """Where the API serves its metrics, or None when they are off."""
        path = self.metrics_path.strip()
        return None if path in ("", "off") else "/" + path.lstrip("/")

    @property
    def metadata_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'meta.sqlite3'}"

    @property
    def events_url(self) -> str:
        return self.store_url or f"chdb://{self.data_dir.resolve() / 'events'}"

    @property
    def report_store_url(self) -> str:
        return self.reports_url or str(self.data_dir.resolve() / "reports")


def settings_markdown() -> str:
    """The settings table of docs/operations.md."""
    rows = ["| setting | variable | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "" if s.default in (None, "") else f"`{s.default}`"
        rows.append(f"| `{s.name}` | `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
