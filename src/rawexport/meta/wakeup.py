"""Waking idle workers of every process when a job is submitted: PostgreSQL LISTEN/NOTIFY.

`announce_submission` runs inside the submitting transaction, so the notification leaves with
the commit and a worker that wakes up finds the job. Each worker process keeps one connection
listening on `CHANNEL`. Notifications are a shortcut, not a guarantee (one sent while a listener
reconnects is lost), so idle workers also poll. SQLite has no notifications: there the workers
live in the submitting process and are woken in memory, or poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, func, select

__all__ = ["CHANNEL", "SubmissionListener", "announce_submission"]

log = logging.getLogger(__name__)

CHANNEL = "rawexport_jobs"

_STOP_CHECK_S = 0.5
"""How long one wait for notifications lasts: the listener notices a stop within this time."""

_RECONNECT_S = 2.0


def announce_submission(connection: Connection) -> None:
    """Tell the listeners of every process, at commit, that a job is waiting."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(CHANNEL, "")))


class SubmissionListener:
    """A thread that calls `on_submission` for every announced job, until `stop`."""

    def __init__(self, engine: Engine, on_submission: Callable[[], None]) -> None:
        self._engine, self._on_submission = engine, on_submission
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rawexport-listener", daemon=True)

    def start(self, timeout_s: float) -> bool:
        """Start listening; True once LISTEN took effect within `timeout_s` (else polling covers
        the gap while the thread goes on trying)."""
        self._thread.start()
        return self._listening.wait(timeout_s)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:
                log.warning("listening for submitted jobs failed; retrying", exc_info=True)
                self._stopping.wait(_RECONNECT_S)

    def _listen(self) -> None:
        # A connection of its own, made like the engine's but out of its pool: it stays in
        # LISTEN for the process's life.
        dialect = self._engine.dialect
        args, kwargs = dialect.create_connect_args(self._engine.url)
        connection: Any = dialect.loaded_dbapi.connect(*args, **kwargs)  # psycopg.Connection
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self._listening.set()
            self._on_submission()  # whatever was announced while no one listened
            while not self._stopping.is_set():
                for _ in connection.notifies(timeout=_STOP_CHECK_S):
                    self._on_submission()
        finally:
            connection.close()
