"""Whether a store still runs a query: what a test of an abandoned result asserts."""

from __future__ import annotations

import time

from rawexport.store import EventStore

__all__ = ["wait_until_stopped"]


def wait_until_stopped(store: EventStore, marker: str, within_s: float = 30.0) -> None:
    """Return once no query whose text holds `marker` runs in `store`; fail after `within_s`.

    A server stops an abandoned query when it next writes to the closed connection, so this
    polls the server's process list for a while rather than looking once.
    """
    deadline = time.monotonic() + within_s
    while True:
        ((running,),) = store.rows(
            "SELECT count() FROM system.processes"
            " WHERE position(query, {marker:String}) > 0 AND query NOT LIKE '%system.processes%'",
            {"marker": marker},
        )
        if running == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"a query with {marker!r} still runs after {within_s} s")
        time.sleep(0.05)
