"""One log line per thing an operator follows: a job accepted, started, finished, failed,
re-queued or expired; a file loaded or rejected; a token reset; a job's webhook delivered, failed
or dropped. Each names its ids.

The line reads `job finished job_id=... rows=... bytes=... seconds=...` in text; the JSON format
gives `event` and each field a key of its own. The functions also move the metrics of the same
events, so a call site says once what happened. No function takes a token.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from rawexport.observability import metrics

__all__ = [
    "Outcome",
    "job_accepted",
    "job_expired",
    "job_failed",
    "job_finished",
    "job_started",
    "jobs_reclaimed",
    "load_rejected",
    "loaded",
    "token_reset",
    "webhook_delivered",
    "webhook_dropped",
    "webhook_failed",
]

log = logging.getLogger("rawexport.journal")

_started: dict[str, float] = {}
"""time.monotonic() when each job running in this process was claimed (for its duration)."""
_started_lock = threading.Lock()


class Outcome(Protocol):
    @property
    def rows(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def empty(self) -> bool: ...


def _line(event: str, level: int = logging.INFO, **fields: object) -> None:
    text = " ".join(f"{name}={value}" for name, value in fields.items())
    log.log(level, "%s %s", event, text, extra={"event": event, "fields": fields})


def job_accepted(job_id: str, *, user_id: str, space_id: str, app_id: str) -> None:
    _line("job accepted", job_id=job_id, user_id=user_id, space_id=space_id, app_id=app_id)


def job_started(job_id: str, worker_id: str) -> None:
    with _started_lock:
        _started[job_id] = time.monotonic()
    _line("job started", job_id=job_id, worker_id=worker_id)


def _seconds(job_id: str) -> float:
    with _started_lock:
        started = _started.pop(job_id, None)
    return 0.0 if started is None else round(time.monotonic() - started, 3)


def job_finished(job_id: str, outcome: Outcome) -> None:
    seconds = _seconds(job_id)
    metrics.export_done(outcome.rows, outcome.size, seconds)
    _line(
        "job finished",
        job_id=job_id,
        rows=outcome.rows,
        bytes=outcome.size,
        seconds=seconds,
        empty=outcome.empty,
    )


def job_failed(job_id: str, reason: str) -> None:
    _seconds(job_id)
    _line("job failed", logging.ERROR, job_id=job_id, reason=reason)


def job_cancelled(job_id: str, reason: str) -> None:
    _line("job cancelled", logging.WARNING, job_id=job_id, reason=reason)


def jobs_reclaimed(requeued: int, failed: int, max_attempts: int) -> None:
    """Running jobs taken back from workers that stopped heartbeating (of any process)."""
    if requeued:
        _line(
            "jobs re-queued", logging.WARNING, count=requeued, reason="worker stopped heartbeating"
        )
    if failed:
        reason = f"stopped its worker {max_attempts} times"
        _line("jobs failed", logging.ERROR, count=failed, reason=reason)


def job_expired(job_id: str, report_key: str | None) -> None:
    _line("job expired", job_id=job_id, report=report_key)


def loaded(app_id: str, source: str, *, users: bool, rows: int) -> None:
    metrics.load_done(rows)
    _line("load stored", app_id=app_id, source=source, users=users, rows=rows)


def load_rejected(app_id: str, source: str, reason: str) -> None:
    metrics.load_rejected()
    _line("load rejected", logging.WARNING, app_id=app_id, source=source, reason=reason)


def token_reset(user_id: str) -> None:
    _line("token reset", user_id=user_id)


def webhook_delivered(job_id: str, attempts: int, status: int) -> None:
    metrics.webhook_posted("delivered")
    _line("webhook delivered", job_id=job_id, attempts=attempts, status=status)


def webhook_failed(job_id: str, attempts: int, error: str, retry_in_s: float) -> None:
    metrics.webhook_posted("failed")
    _line(
        "webhook failed",
        logging.WARNING,
        job_id=job_id,
        attempts=attempts,
        error=error,
        retry_in_s=round(retry_in_s, 3),
    )


def webhook_dropped(job_id: str, reason: str) -> None:
    """A job's notification given up: never delivered, and never sent again."""
    metrics.webhook_posted("dropped")
    _line("webhook dropped", logging.ERROR, job_id=job_id, reason=reason)
