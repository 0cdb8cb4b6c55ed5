"""What `getprogress` reads, in one statement: the token's user and, if it is theirs, the job.

Clients poll getprogress, so this is the hottest read of the service. One outer join answers
both questions (two lookups cost two transactions), and it runs on the driver's connection
itself: SQLAlchemy's execution machinery cost five times the query on SQLite. The statement
is still built and compiled by SQLAlchemy, once per dialect.

On SQLite each thread keeps a connection of its own, out of the pool: the pool's checkout and the
rollback it issues at checkin cost a third of the read. The connection is in autocommit mode, so
each SELECT reads a WAL snapshot of its own and nothing stays open between reads; nor does it
take the write lock that the engine's transactions take at BEGIN. Other databases are read
through the pool, which ends the read transaction at checkin.
"""

from __future__ import annotations

import hmac
import sqlite3
import threading
import weakref
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Boolean, Engine, RowMapping, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from rawexport.meta.accounts import User
from rawexport.meta.accounts import _digest as token_digest
from rawexport.meta.jobs import JOB_COLUMNS, Job
from rawexport.meta.schema import jobs, users

__all__ = ["user_and_own_job"]

_USER = (users.c.id, users.c.space_id, users.c.email, users.c.api_access, users.c.raw_export_access)
_QUERY = (
    select(*(c.label(f"account_{c.name}") for c in _USER), users.c.token_hash, *JOB_COLUMNS)
    .select_from(
        users.outerjoin(jobs, (jobs.c.id == bindparam("job_id")) & (jobs.c.user_id == users.c.id))
    )
    .where(users.c.token_hash == bindparam("token_hash"))
)
_BOOLEANS = frozenset(c.name for c in _QUERY.selected_columns if isinstance(c.type, Boolean))
"""Columns a driver may return as 0/1 (SQLite) where the dataclasses hold booleans."""

_COMPILED: WeakKeyDictionary[Dialect, SQLCompiler] = WeakKeyDictionary()


class _HeldConnections(threading.local):
    """This thread's SQLite connections, one per engine, closed once the engine is gone (they
    hold nothing of it, so the engine can go)."""

    def __init__(self) -> None:
        self.by_engine: WeakKeyDictionary[Engine, sqlite3.Connection] = WeakKeyDictionary()


_HELD = _HeldConnections()


def user_and_own_job(engine: Engine, token: str, job_id: str) -> tuple[User | None, Job | None]:
    """The user of `token` (None for no user), and job `job_id` if that user owns it."""
    token_hash = token_digest(token)
    row = _fetch_one(engine, {"job_id": job_id, "token_hash": token_hash})
    if row is None or not hmac.compare_digest(row["token_hash"], token_hash):
        return None, None
    user = User(*(row[f"account_{c.name}"] for c in _USER))
    if row["id"] is None:
        return user, None
    job_row = {c.name: row[c.name] for c in JOB_COLUMNS}  # a RowMapping as far as Job reads it
    return user, Job.from_row(cast(RowMapping, job_row))


def _fetch_one(engine: Engine, values: dict[str, str]) -> dict[str, Any] | None:
    compiled = _COMPILED.get(engine.dialect)
    if compiled is None:
        compiled = _QUERY.compile(dialect=engine.dialect)
        _COMPILED[engine.dialect] = compiled
    params = dict(compiled.construct_params(values))
    args: Any = params  # by name (psycopg), or in the statement's order (SQLite's `?`)
    if compiled.positiontup:
        args = tuple(params[name] for name in compiled.positiontup)
    held = engine.dialect.name == "sqlite"
    connection: Any = _held_connection(engine) if held else engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(compiled.string, args)
        found = cursor.fetchone()
        names = [d[0] for d in cursor.description or ()]
        cursor.close()  # resets the statement: an autocommit read ends here
    finally:
        if not held:
            connection.close()  # back to the pool, which ends the read
    if found is None:
        return None
    row = dict(zip(names, found, strict=True))
    for name in _BOOLEANS:
        if row[name] is not None:
            row[name] = bool(row[name])
    return row


def _held_connection(engine: Engine) -> sqlite3.Connection:
    connection = _HELD.by_engine.get(engine)
    if connection is None:
        pooled = engine.raw_connection()  # made by the engine: WAL, autocommit, timeouts
        pooled.detach()  # the pool neither resets it nor closes it; the garbage collector does
        connection = cast(sqlite3.Connection, pooled.dbapi_connection)
        _HELD.by_engine[engine] = connection
        weakref.finalize(engine, connection.close)  # its file stays open no longer than the engine
    return connection
