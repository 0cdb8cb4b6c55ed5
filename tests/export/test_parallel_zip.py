"""The ZIP writer with members made in parallel: the same archive, bounded memory, clean stops."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from collections.abc import Iterator

import pytest

from rawexport.export.deflater import DeflatedMember
from rawexport.export.zipstream import ZipMember, write_zip

_CHUNK = 1 << 16


def _text_chunks(seed: int, count: int) -> list[bytes]:
    return [
        b"".join(b"%d,row-%d,%d.25,text\n" % (seed, i, i * seed) for i in range(n, n + 2000))
        for n in range(0, count * 2000, 2000)
    ]


def _members(contents: dict[str, list[bytes]]) -> list[ZipMember]:
    # Generators, as the engine's: each is iterated (and started) in a producer thread.
    return [ZipMember(name, (c for c in chunks)) for name, chunks in contents.items()]


def _archive(contents: dict[str, list[bytes]], producers: int, spool: int = 4) -> bytes:
    out = io.BytesIO()
    trailer = ZipMember("manifest.json", [b'{"files": []}'])
    size = write_zip(
        out, _members(contents), producers=producers, trailer=lambda: trailer, spool_chunks=spool
    )
    assert size == len(out.getvalue())
    return out.getvalue()


def test_parallel_and_sequential_archives_hold_the_same_members() -> None:
    contents = {f"file-{n}.csv": _text_chunks(n, 5 + n) for n in range(6)}
    contents["empty.csv"] = []
    sequential, parallel = _archive(contents, 1), _archive(contents, 4, spool=1)
    for data in (sequential, parallel):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None  # every CRC checks out
            assert archive.namelist() == [*contents, "manifest.json"]
            for name, chunks in contents.items():
                assert archive.read(name) == b"".join(chunks)
    with (
        zipfile.ZipFile(io.BytesIO(sequential)) as one,
        zipfile.ZipFile(io.BytesIO(parallel)) as many,
    ):
        for a, b in zip(one.infolist(), many.infolist(), strict=True):
            assert (a.filename, a.CRC, a.compress_size, a.header_offset) == (
                b.filename,
                b.CRC,
                b.compress_size,
                b.header_offset,
            )
    # The same bytes but for the modification time of the entries (which may differ by a tick).
    assert len(sequential) == len(parallel)


def test_a_member_made_ahead_of_its_turn_stops_at_its_spool() -> None:
    pulled = 0
    closed = threading.Event()

    def incompressible() -> Iterator[bytes]:
        nonlocal pulled
        try:
            for _ in range(200):
                pulled += 1
                yield os.urandom(_CHUNK)
        finally:
            closed.set()

    member = DeflatedMember(incompressible(), limit=3)
    producer = threading.Thread(target=member.run)
    producer.start()  # nobody reads: the spool fills and the producer must wait
    deadline = time.monotonic() + 10
    while member.high_water < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert member.high_water == 3
    member.cancel()
    producer.join(10)
    assert not producer.is_alive()
    assert closed.is_set()  # the source (a query) is closed when its member is cancelled
    # ISA-L gives out about one block per two 64 KiB inputs of random bytes: 3 spooled blocks
    # come from at most 8 chunks; an unbounded producer would have pulled all 200.
    assert pulled <= 8
    assert member.high_water == 3


def test_a_failing_member_stops_the_archive_and_closes_the_others() -> None:
    others_started: list[str] = []
    others_closed: list[str] = []

    def endless(name: str) -> Iterator[bytes]:
        others_started.append(name)
        try:
            while True:
                yield os.urandom(_CHUNK)
        finally:
            others_closed.append(name)

    def failing() -> Iterator[bytes]:
        yield b"a,b\n"
        raise RuntimeError("the query failed")

    members = [
        ZipMember("first.csv", failing()),
        ZipMember("second.csv", endless("second")),
        ZipMember("third.csv", endless("third")),
    ]
    with pytest.raises(RuntimeError, match="the query failed"):
        write_zip(io.BytesIO(), members, producers=3, spool_chunks=2)
    # A member cancelled before its thread came never starts (no query); one started is closed.
    assert sorted(others_closed) == sorted(others_started)


def test_a_file_in_parts_is_one_member_equal_to_its_parts_joined() -> None:
    parts = [_text_chunks(1, 3), [], [os.urandom(1000)], _text_chunks(8, 2)]
    out = io.BytesIO()
    member = ZipMember("big.csv", iter(parts[0]), [iter(p) for p in parts[1:]])
    write_zip(out, [member, ZipMember("after.csv", [b"x\n"])], producers=3, spool_chunks=1)
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None  # the CRC combined from the parts' is the file's
        assert archive.read("big.csv") == b"".join(b"".join(p) for p in parts)
        assert archive.read("after.csv") == b"x\n"


def test_members_are_started_no_more_than_producers_ahead() -> None:
    started: list[str] = []
    written_before_start: dict[str, int] = {}
    out = io.BytesIO()

    def recorded(name: str) -> Iterator[bytes]:
        started.append(name)
        written_before_start[name] = len(out.getvalue())
        yield name.encode() * 1000

    members = [ZipMember(f"m{n}", recorded(f"m{n}")) for n in range(5)]
    write_zip(out, members, producers=2)
    assert sorted(started) == [f"m{n}" for n in range(5)]
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        offsets = [info.header_offset for info in archive.infolist()]
    # With 2 producers, m2 starts only once m0 is written whole: the archive reaches m1 by then.
    for n in range(2, 5):
        assert written_before_start[f"m{n}"] >= offsets[n - 1]


def test_an_early_member_is_made_from_the_start_and_written_after_the_others() -> None:
    early_started = threading.Event()

    def early() -> Iterator[bytes]:
        early_started.set()
        yield from _text_chunks(9, 3)

    def waits_for_the_early_one() -> Iterator[bytes]:
        # With one producer, this member is made before the early one's turn in the archive.
        assert early_started.wait(10), "the early member was not started beside the others"
        yield b"first\n"

    out = io.BytesIO()
    write_zip(
        out,
        [ZipMember("first.csv", waits_for_the_early_one()), ZipMember("second.csv", [b"2\n"])],
        producers=1,
        early=[ZipMember("users.csv", early())],
        trailer=lambda: ZipMember("manifest.json", [b"{}"]),
        spool_chunks=1,
    )
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["first.csv", "second.csv", "users.csv", "manifest.json"]
        assert archive.read("users.csv") == b"".join(_text_chunks(9, 3))


def test_a_failing_early_member_fails_the_archive_at_its_turn() -> None:
    def failing() -> Iterator[bytes]:
        yield b"id\n"
        raise RuntimeError("the users query failed")

    def no_trailer() -> ZipMember:
        raise AssertionError("the trailer is made only once every member is written")

    out = io.BytesIO()
    with pytest.raises(RuntimeError, match="the users query failed"):
        write_zip(
            out,
            [ZipMember("events.csv", _text_chunks(1, 4))],
            producers=1,
            early=[ZipMember("users.csv", failing())],
            trailer=no_trailer,
            spool_chunks=2,
        )
    assert b"events.csv" in out.getvalue()  # written whole before the failure was reached
