"""What crashed processes left: temporary folders of gone processes, staging tables by age."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from rawexport.store.base import EventStore
from rawexport.store.leftovers import (
    STAGING_PREFIX,
    drop_abandoned_staging,
    private_tempdir,
    remove_orphaned_tempdirs,
)


def gone_pid() -> int:
    """The id of a process that has ended (and was reaped)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_only_the_folders_of_gone_processes_are_removed(tmp_path: Path) -> None:
    gone = gone_pid()
    for name in (
        f"rawexport-load-{gone}-a1",
        f"rawexport-fifo-{gone}-b2",
        f"rawexport-load-{os.getpid()}-c3",  # this process's: alive
        "rawexport-load-d4",  # not named after a process: not ours to judge
        f"other-load-{gone}-e5",
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "chunk").write_bytes(b"x")

    assert remove_orphaned_tempdirs(tmp_path) == 2

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"other-load-{gone}-e5",
        f"rawexport-load-{os.getpid()}-c3",
        "rawexport-load-d4",
    ]


def test_a_private_tempdir_is_named_after_its_process_and_only_its_user_s() -> None:
    folder = private_tempdir("load")
    try:
        assert folder.name.startswith(f"rawexport-load-{os.getpid()}-")
        assert folder.stat().st_mode & 0o777 == 0o700
    finally:
        folder.rmdir()


def test_staging_tables_are_dropped_by_age_on_the_store_s_clock(event_store: EventStore) -> None:
    staged = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    decoy = f"kept_{STAGING_PREFIX}{uuid.uuid4().hex}"
    for name in (staged, decoy):
        event_store.execute(f"CREATE TABLE `{name}` (a UInt8) ENGINE = MergeTree ORDER BY a")
    try:
        assert drop_abandoned_staging(event_store, 3600) == []  # a live load's, maybe

        assert drop_abandoned_staging(event_store, 0) == [staged]

        tables = event_store.rows(
            "SELECT name FROM system.tables"
            " WHERE database = {db:String} AND name IN {n:Array(String)}",
            {"db": event_store.database, "n": [staged, decoy]},
        )
        assert tables == [(decoy,)]
    finally:
        event_store.execute(f"DROP TABLE IF EXISTS `{decoy}`")
