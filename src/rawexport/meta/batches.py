"""The load batch sequence: which stored rows a job's snapshot holds, safely under concurrent loads.

Each load of events opens a batch, stamps its rows with the batch's sequence number (`_batch` in
the event store), moves them into place and commits the batch. A job's snapshot is the LOW
WATERMARK: every batch up to it was committed (its rows are all in place) or abandoned, so a
job that exports `_batch <= snapshot` sees rows that no later load can add to; a batch that
opened before the snapshot and commits after it lies above it and falls into the next job.

A loader holds its batch by a lease that it renews (`heartbeat`); a batch whose lease lapsed
(its loader died) no longer holds the watermark back, and its loader must not move rows in any
more: `heartbeat` answers False and the load stops. Every time here is the database's clock.

A batch that has ended matters to nothing but the watermark's "largest batch ever opened", so
the sweeper deletes every ended batch but the largest (`prune_ended_batches`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from rawexport.meta.clock import db_now
from rawexport.meta.schema import load_batches

__all__ = ["BatchLedger", "low_watermark", "prune_ended_batches"]

_OPEN = (
    load_batches.c.committed_at.is_(None),
    load_batches.c.abandoned_at.is_(None),
)
_HELD = (*_OPEN, load_batches.c.expires_at > db_now())
"""A batch still open whose lease has not lapsed: it holds the watermark back."""
_ENDED = or_(load_batches.c.committed_at.is_not(None), load_batches.c.abandoned_at.is_not(None))
_LARGEST = select(func.max(load_batches.c.seq)).scalar_subquery()


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
    watermark = conn.execute(select(func.coalesce(below_held, _LARGEST, literal(0)))).scalar_one()
    return int(watermark)


def prune_ended_batches(engine: Engine) -> int:
    """Delete the batches that ended (committed or abandoned), all but the largest; how many.

    The watermark reads only the held batches and the largest one, and an ended batch is never
    held again (`heartbeat`, `commit` and `abandon` change open batches only, and answer an
    ended batch as they answer a missing one), so no snapshot can tell the difference, taken
    before, after or concurrently: on PostgreSQL the DELETE's lock conflicts with the snapshot's
    SHARE lock, so the two run one after the other, and a batch being opened meanwhile is not
    yet visible to the DELETE, which keeps the largest it sees (a larger one can only add to
    the watermark). Keeping the largest row also keeps SQLite's rowids from ever going back.

    A batch whose lease lapsed but that never ended stays: it no longer holds the watermark, but
    its loader, late, may still commit or abandon it and is answered as before. Only a killed
    loader leaves one, so they stay few.
    """
    pruned = delete(load_batches).where(_ENDED, load_batches.c.seq < _LARGEST)
    with engine.begin() as conn:
        return conn.execute(pruned).rowcount


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
