"""Holding a load batch while its rows move into place: opened, renewed, committed or abandoned.

The batch's number is stamped on every row it moves (`_batch`), and a job's snapshot never
passes a batch still held (see `rawexport.meta.batches`), so an export never sees half a load
and never skips one. The lease is renewed from a background thread for as long as the rows are
moving, and checked just before each table's rows move: a loader that lost its lease (it
stalled, or could not reach the metadata database, for longer than the lease) moves nothing
more, since a snapshot may already have passed its number.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["HeldBatch", "LeaseLapsed", "Ledger", "held_batch"]

log = logging.getLogger(__name__)

_RENEWALS_PER_LEASE = 4
"""A lease is renewed this often within its length, so a slow renewal or two is harmless."""


class Ledger(Protocol):
    """The batch sequence (`rawexport.meta.batches.BatchLedger`)."""

    lease_s: float

    def open(self, app_id: str) -> int: ...

    def heartbeat(self, seq: int) -> bool: ...

    def commit(self, seq: int) -> bool: ...

    def abandon(self, seq: int) -> None: ...


class LeaseLapsed(RuntimeError):
    """The load's batch lost its lease before its rows were all in place."""

    def __init__(self, seq: int, lease_s: float) -> None:
        super().__init__(
            f"load batch {seq} lost its lease (not renewed for {lease_s:g} s: the metadata "
            "database was out of reach or the loader stalled) before its rows were all stored; "
            "load the file again"
        )


class HeldBatch:
    def __init__(self, ledger: Ledger, seq: int) -> None:
        self._ledger = ledger
        self.seq = seq

    def check(self) -> None:
        """Renew the lease now, or raise LeaseLapsed: called right before rows move."""
        if not self._ledger.heartbeat(self.seq):
            raise LeaseLapsed(self.seq, self._ledger.lease_s)


@contextmanager
def held_batch(ledger: Ledger, app_id: str) -> Iterator[HeldBatch]:
    """A new batch of `app_id`, renewed while the block runs; committed when it ends, abandoned
    when it raises (either way the watermark may pass it: what it moved is in place)."""
    batch = HeldBatch(ledger, ledger.open(app_id))
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(ledger, batch.seq, stop), name="rawexport-lease", daemon=True
    )
    renewer.start()
    try:
        yield batch
    except BaseException:
        _stop(stop, renewer)
        ledger.abandon(batch.seq)
        raise
    _stop(stop, renewer)
    ledger.commit(batch.seq)


def _renew(ledger: Ledger, seq: int, stop: threading.Event) -> None:
    while not stop.wait(ledger.lease_s / _RENEWALS_PER_LEASE):
        try:
            if not ledger.heartbeat(seq):
                return  # lapsed: the next check() says so
        except Exception:  # the database out of reach for a moment: the next renewal may do
            log.warning("could not renew the lease of load batch %d", seq, exc_info=True)


def _stop(stop: threading.Event, renewer: threading.Thread) -> None:
    stop.set()
    renewer.join()
