"""Opening the metadata database: one SQLAlchemy Engine per process, SQLite or PostgreSQL.

Which schema a process may start on: an empty database is made at the current revision by any
process, and an older one is upgraded at start only when `upgrade_existing` (embedded mode: the
process is the database's only user). A shared database is upgraded by `rawexport db upgrade`,
run by the operator while no node of the previous release still uses it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from rawexport.meta.migrations import SchemaNewer, head, is_known, revision_of, upgrade

__all__ = ["SchemaNewer", "SchemaOutdated", "connect", "open_engine"]

_SQLITE_BUSY_TIMEOUT_MS = 30_000


class SchemaOutdated(ValueError):
    """The shared database is older than this release; the text tells the operator what to do."""

    def __init__(self, found: str, expected: str) -> None:
        super().__init__(
            f"the metadata database is at revision {found}, this release expects {expected}: "
            "stop the nodes of the previous release and run `rawexport db upgrade`"
        )


def connect(url: str, *, upgrade_existing: bool = True) -> Engine:
    """An Engine on `url` whose schema is the one this release expects (see the docstring above)."""
    engine = open_engine(url)
    _prepare_schema(engine, upgrade_existing)
    return engine


def open_engine(url: str) -> Engine:
    """An Engine on `url`, whatever its schema.

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
    return engine


def _prepare_schema(engine: Engine, upgrade_existing: bool) -> None:
    if not upgrade_existing:
        with engine.connect() as connection:
            found = revision_of(connection)
        if found is not None and not is_known(found):
            engine.dispose()
            raise SchemaNewer(found, head())
        if found not in (None, head()):
            engine.dispose()
            raise SchemaOutdated(found, head())
    try:
        upgrade(engine)
    except SchemaNewer:
        engine.dispose()
        raise


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
