"""What a crashed process leaves of its work with the store, and its removal at the next start.

A process killed with SIGKILL runs no clean-up: its temporary folders (FIFOs of streamed
results, chunk files of a load) and the staging tables of its load stay. So each is named to
say whose it is. A temporary folder carries its process id: one whose process is gone is
removed. A staging table lives in a store that processes of many machines may share, where a
pid means nothing: one created longer ago than a limit, by the store's own clock, is dropped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from rawexport.store.base import EventStore
from rawexport.store.sql import quote_identifier

__all__ = [
    "STAGING_PREFIX",
    "drop_abandoned_staging",
    "private_tempdir",
    "process_alive",
    "remove_leftovers",
    "remove_orphaned_tempdirs",
]

log = logging.getLogger(__name__)

STAGING_PREFIX = "staging_"
"""The start of the name of every staging table, and of nothing else in the store."""

_TEMPDIR = re.compile(r"rawexport-([a-z]+)-(\d+)-")


def private_tempdir(kind: str) -> Path:
    """A new folder (mode 0700) in the system's temporary directory, named after `kind` and
    this process's id (`rawexport-KIND-PID-...`)."""
    return Path(tempfile.mkdtemp(prefix=f"rawexport-{kind}-{os.getpid()}-"))


def remove_orphaned_tempdirs(root: Path | None = None) -> int:
    """Remove this user's temporary folders whose process is gone; return how many."""
    removed = 0
    for entry in Path(root or tempfile.gettempdir()).iterdir():
        named = _TEMPDIR.match(entry.name)
        if named is None or process_alive(int(named[2])):
            continue
        try:
            if entry.lstat().st_uid != os.getuid() or not entry.is_dir():
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def drop_abandoned_staging(store: EventStore, older_than_s: int) -> list[str]:
    """Drop the staging tables created more than `older_than_s` ago by the store's clock (0:
    every one, for a process that alone uses the store); return their names."""
    found = store.rows(
        "SELECT name FROM system.tables WHERE database = {database:String}"
        " AND startsWith(name, {prefix:String})"
        " AND metadata_modification_time <= now() - toIntervalSecond({age:UInt32})",
        {"database": store.database, "prefix": STAGING_PREFIX, "age": older_than_s},
    )
    names = [str(name) for (name,) in found]
    for name in names:
        store.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
    return names


def remove_leftovers(store: EventStore, staging_older_than_s: int) -> int:
    """Both of the above, at a process's start and in the sweeper; return what was removed.

    `staging_older_than_s` is 0 only where this process alone uses the store (an embedded
    store, before it serves): elsewhere a live load's staging table could be dropped.
    """
    folders = remove_orphaned_tempdirs()
    tables = drop_abandoned_staging(store, staging_older_than_s)
    if folders or tables:
        log.warning(
            "removed what crashed processes left: %d temporary folders, staging tables %s",
            folders,
            ", ".join(tables) or "none",
        )
    return folders + len(tables)


def process_alive(pid: int) -> bool:
    """Whether a process `pid` exists (a zombie not yet reaped counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
