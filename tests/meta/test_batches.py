"""The load batch sequence and its low watermark on SQLite and PostgreSQL, by the database clock."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, text, update

from rawexport.domain.quotas import Limits
from rawexport.meta.accounts import User
from rawexport.meta.batches import BatchLedger, low_watermark, prune_ended_batches
from rawexport.meta.clock import db_now
from rawexport.meta.jobs import JobQueue
from rawexport.meta.schema import jobs, load_batches
from tests.meta.conftest import spec_of
from tests.polling import wait_until


def test_the_first_snapshot_is_0_and_then_the_largest_committed_batch(engine: Engine) -> None:
    ledger = BatchLedger(engine, lease_s=60)
    assert ledger.snapshot() == 0  # rows stored before batches existed carry 0

    first, second = ledger.open("app"), ledger.open("app")
    assert second > first
    ledger.commit(first)
    ledger.abandon(second)  # an abandoned batch holds nothing back either

    assert ledger.snapshot() == second


def test_a_batch_held_keeps_the_watermark_below_it_until_it_commits(engine: Engine) -> None:
    ledger = BatchLedger(engine, lease_s=60)
    early = ledger.open("app")
    late = ledger.open("app")
    ledger.commit(late)  # committed, but after a batch still moving its rows in

    assert ledger.snapshot() == early - 1
    assert ledger.heartbeat(early)
    ledger.commit(early)
    assert ledger.snapshot() == late
    assert not ledger.heartbeat(early)  # ended batches are not renewed
    assert not ledger.commit(early)


def test_an_expired_lease_releases_the_watermark_for_good(engine: Engine) -> None:
    ledger = BatchLedger(engine, lease_s=0.3)
    stalled = ledger.open("app")
    assert ledger.snapshot() == stalled - 1

    wait_until(lambda: ledger.snapshot() == stalled)

    assert not ledger.heartbeat(stalled)  # a lapsed lease is never revived
    assert ledger.snapshot() == stalled


def test_a_snapshot_waits_for_a_batch_being_numbered_on_postgresql(engine: Engine) -> None:
    """PostgreSQL numbers batches in one order and commits them in another: a snapshot taken
    while a smaller number is not yet visible must not pass it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock hands out numbers in commit order")
    ledger = BatchLedger(engine, lease_s=60)
    with engine.connect() as opening:
        transaction = opening.begin()
        unseen = _open_unseen(opening)
        later = ledger.open("app")
        ledger.commit(later)  # the largest number, committed, while `unseen` is invisible
        taken: list[int] = []
        snapshot = threading.Thread(target=lambda: taken.append(ledger.snapshot()))
        snapshot.start()
        wait_until(lambda: _waiting_on_batches(engine) > 0)
        transaction.commit()
    snapshot.join()
    assert taken == [unseen - 1]


def _open_unseen(conn: Connection) -> int:
    """Number a batch in `conn`'s open transaction: other connections cannot see it yet."""
    opened = insert(load_batches).values(
        app_id="app", opened_at=db_now(), heartbeat_at=db_now(), expires_at=db_now() + 60
    )
    return int(conn.execute(opened.returning(load_batches.c.seq)).scalar_one())


def _waiting_on_batches(engine: Engine) -> int:
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE NOT granted AND relation = 'load_batches'::regclass"
            )
        ).scalar_one()
    return int(waiting)


def test_a_submitted_job_takes_the_low_watermark_as_its_snapshot(
    engine: Engine, queue: JobQueue, member: tuple[User, str]
) -> None:
    user, app_id = member
    ledger = BatchLedger(engine, lease_s=60)
    done, moving = ledger.open(app_id), ledger.open(app_id)
    ledger.commit(done)
    continued = dataclasses.replace(spec_of(app_id), continue_from="earlier", after_snapshot=0)

    job = queue.get(queue.submit(user, continued, Limits(100, 100, 100, 0)))

    assert job is not None and (job.snapshot, job.spec.after_snapshot) == (moving - 1, 0)
    with engine.connect() as conn:
        stored = conn.execute(select(jobs.c.snapshot, jobs.c.after_snapshot)).one()
    assert tuple(stored) == (moving - 1, 0)


def lapse(engine: Engine, seq: int) -> None:
    """The batch's loader stopped renewing it and its lease ran out."""
    with engine.begin() as conn:
        conn.execute(
            update(load_batches).where(load_batches.c.seq == seq).values(expires_at=db_now() - 1)
        )


def stored_batches(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(load_batches.c.seq).order_by(load_batches.c.seq)).scalars())


def test_pruning_ended_batches_keeps_the_snapshot_and_the_largest_batch(engine: Engine) -> None:
    ledger = BatchLedger(engine, lease_s=60)
    committed, abandoned, held, lapsed, later, largest = (ledger.open("app") for _ in range(6))
    for seq in (committed, later):
        ledger.commit(seq)
    for seq in (abandoned, largest):
        ledger.abandon(seq)
    lapse(engine, lapsed)
    assert ledger.snapshot() == held - 1

    assert prune_ended_batches(engine) == 3

    assert ledger.snapshot() == held - 1
    assert stored_batches(engine) == [held, lapsed, largest]
    assert not ledger.commit(committed)  # an ended batch is answered as before
    assert ledger.commit(lapsed)  # so is a lapsed loader that commits late
    ledger.commit(held)
    assert ledger.snapshot() == largest
    assert prune_ended_batches(engine) == 2

    assert ledger.snapshot() == largest
    assert stored_batches(engine) == [largest]
    assert prune_ended_batches(engine) == 0  # the largest stays, however often it runs
    assert ledger.open("app") > largest  # and numbers never go back


def test_pruning_keeps_an_open_largest_batch_holding_the_watermark(engine: Engine) -> None:
    ledger = BatchLedger(engine, lease_s=60)
    first, second, largest = (ledger.open("app") for _ in range(3))
    ledger.commit(first)
    ledger.abandon(second)

    assert prune_ended_batches(engine) == 2

    assert stored_batches(engine) == [largest]
    assert ledger.snapshot() == largest - 1
    lapse(engine, largest)
    assert ledger.snapshot() == largest
    assert prune_ended_batches(engine) == 0


def test_pruning_while_a_batch_is_being_numbered_on_postgresql(engine: Engine) -> None:
    """A batch numbered but not yet visible to the pruning, below a visible one: the snapshot
    still waits for it and lands just below it, as it would have without pruning."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock hands out numbers in commit order")
    ledger = BatchLedger(engine, lease_s=60)
    earlier = ledger.open("app")
    ledger.commit(earlier)
    with engine.connect() as opening:
        transaction = opening.begin()
        unseen = _open_unseen(opening)
        later = ledger.open("app")
        ledger.commit(later)

        assert prune_ended_batches(engine) == 1  # `earlier`; `later` is the largest it sees

        taken: list[int] = []
        snapshot = threading.Thread(target=lambda: taken.append(ledger.snapshot()))
        snapshot.start()
        wait_until(lambda: _waiting_on_batches(engine) > 0)
        transaction.commit()
    snapshot.join()
    assert taken == [unseen - 1]
    assert stored_batches(engine) == [unseen, later]


def test_pruning_waits_for_a_snapshot_being_taken_on_postgresql(engine: Engine) -> None:
    """The snapshot's SHARE lock holds the pruning off until the snapshot's transaction ends."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time anyway")
    ledger = BatchLedger(engine, lease_s=60)
    ended = [ledger.open("app") for _ in range(3)]
    for seq in ended:
        ledger.commit(seq)
    pruned: list[int] = []
    with engine.begin() as conn:
        before = low_watermark(conn)
        pruning = threading.Thread(target=lambda: pruned.append(prune_ended_batches(engine)))
        pruning.start()
        wait_until(lambda: _waiting_on_batches(engine) > 0)
        assert low_watermark(conn) == before
        assert conn.execute(select(func.count()).select_from(load_batches)).scalar_one() == 3
    pruning.join()
    assert pruned == [2]
    assert ledger.snapshot() == before == ended[-1]
