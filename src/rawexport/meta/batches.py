"""The load batch sequence: which stored rows a job's snapshot holds, safely under concurrent loads.

Each load of events opens a batch, stamps its rows with the batch's sequence number (`_batch` in
the event store), moves them into place and commits the batch. A job's snapshot is the LOW
WATERMARK: every batch up to it was committed (its rows are all in place) or abandoned, so a
job that exports `_batch <= snapshot` sees rows that no later load can add to; a batch that
opened before the snapshot and commits after it lies above it and falls into the next job.

A loader holds its batch by a lease that it renews (`heartbeat`); a batch whose lease lapsed
(its loader died) no longer holds the watermark back, and its loader must not move rows in any
more: `heartbeat` answers False and the load stops. Every time here is the database's clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from rawexport.meta.clock import db_now
from rawexport.meta.schema import load_batches

__all__ = ["BatchLedger", "low_watermark"]

_OPEN = (
    load_batches.c.committed_at.is_(None),
    load_batches.c.abandoned_at.is_(None),
)
_HELD = (*_OPEN, load_batches.c.expires_at > db_now())
"""A batch still open whose lease has not lapsed: it holds the watermark back."""


def low_watermark(conn: Connection) -> int:
    """The snapshot, read inside the caller's transaction: one below the smallest batch still
    held, or else the largest batch ever opened, or 0 before the first.

    PostgreSQL hands out sequence numbers in one order and commits the batches' rows in
    another: a batch numbered below a visible one might not be visible yet. The SHARE lock
    waits for every transaction that is opening (or renewing) a batch and holds new ones off
    until the caller's transaction ends. SQLite's transactions hold the database's write lock
    from BEGIN, so there numbers are handed out in commit order anyway.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE load_batches IN SHARE MODE"))
    below_held = select(func.min(load_batches.c.seq) - 1).where(*_HELD).scalar_subquery()
    largest = select(func.max(load_batches.c.seq)).scalar_subquery()
    watermark = conn.execute(select(func.coalesce(below_held, largest, literal(0)))).scalar_one()
    return int(watermark)


class BatchLedger:
    """Batches of one process's loads, each leased for `lease_s` seconds at a time."""

    def __init__(self, engine: Engine, lease_s: float) -> None:
        self._engine = engine
        self.lease_s = lease_s

    def open(self, app_id: str) -> int:
        """A new batch for rows of `app_id`, leased from now: its sequence number."""
        opened = insert(load_batches).values(
            app_id=app_id,
            opened_at=db_now(),
            heartbeat_at=db_now(),
            expires_at=db_now() + self.lease_s,
        )
        with self._engine.begin() as conn:
            seq = conn.execute(opened.returning(load_batches.c.seq)).scalar_one()
        return int(seq)

    def heartbeat(self, seq: int) -> bool:
        """Renew the lease; False once it has lapsed (or the batch has ended): never revived,
        since a snapshot may already have passed it."""
        renewed = {"heartbeat_at": db_now(), "expires_at": db_now() + self.lease_s}
        return self._end_or_renew(seq, renewed, *_HELD)

    def commit(self, seq: int) -> bool:
        """The batch's rows are all in place. False if it had been abandoned or committed."""
        return self._end_or_renew(seq, {"committed_at": db_now()}, *_OPEN)

    def abandon(self, seq: int) -> None:
        """No row of the batch was (or will be) moved into place."""
        self._end_or_renew(seq, {"abandoned_at": db_now()}, *_OPEN)

    def snapshot(self) -> int:
        """The low watermark now (see `low_watermark`)."""
        with self._engine.begin() as conn:
            return low_watermark(conn)

    def _end_or_renew(
        self, seq: int, values: Mapping[str, object], *where: ColumnElement[bool]
    ) -> bool:
        change = update(load_batches).where(load_batches.c.seq == seq, *where).values(values)
        with self._engine.begin() as conn:
            return conn.execute(change).rowcount == 1
