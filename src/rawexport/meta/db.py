"""Opening the metadata database: one SQLAlchemy Engine per process, SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from rawexport.meta.schema import metadata

__all__ = ["connect"]

_SQLITE_BUSY_TIMEOUT_MS = 30_000


def connect(url: str) -> Engine:
    """An Engine on `url` with every table created.

    SQLite (`sqlite:///path`) gets WAL so readers never wait for the writer, a busy timeout so
    writers queue instead of failing, enforced foreign keys, and transactions that begin
    IMMEDIATE: the write lock is taken at BEGIN, so a check-then-insert (the quota check) can
    never interleave with another one. PostgreSQL URLs (`postgresql+psycopg://`) are used as is;
    there the job queue locks rows explicitly.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _begin_immediate(engine)
    metadata.create_all(engine)
    return engine


def _begin_immediate(engine: Engine) -> None:
    # The recipe of the SQLAlchemy pysqlite documentation: stop the driver from issuing its own
    # deferred BEGIN, and issue BEGIN IMMEDIATE whenever SQLAlchemy starts a transaction.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
        ):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
