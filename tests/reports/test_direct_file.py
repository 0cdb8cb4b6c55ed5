"""A report file written around the page cache: the bytes and the size written, whatever the
writes' sizes, directly where the filesystem allows it and through the cache where it does not."""

from __future__ import annotations

import errno
import fcntl
import os
import random
from pathlib import Path

import pytest

from rawexport.reports.direct_file import BLOCK, DirectFile

MB = 1 << 20


def _takes_o_direct(directory: Path) -> bool:
    probe = directory / "probe"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | getattr(os, "O_DIRECT", 0), 0o600))
    except OSError as error:
        if error.errno == errno.EINVAL:
            return False
        raise
    finally:
        probe.unlink(missing_ok=True)
    return hasattr(os, "O_DIRECT")


def _write(path: Path, data: bytes, sizes: list[int], *, through_cache: bool = False) -> int:
    file = DirectFile(path, 0o600)
    try:
        if through_cache:  # as after a filesystem refused O_DIRECT
            flags = fcntl.fcntl(file.fileno(), fcntl.F_GETFL)
            fcntl.fcntl(file.fileno(), fcntl.F_SETFL, flags & ~getattr(os, "O_DIRECT", 0))
        at = 0
        for size in sizes:
            file.write(data[at : at + size])
            at += size
        assert at == len(data)
        file.sync()
        return file.size
    finally:
        file.close()


def _sizes(total: int, seed: int) -> list[int]:
    # Writes from a ZIP writer: headers of tens of bytes, compressed chunks up to a few MB.
    chooser = random.Random(seed)
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(min(total - sum(sizes), chooser.choice([30, 4095, 65_536, 250_001, 3 * MB])))
    return sizes


@pytest.mark.parametrize("total", [0, 1, BLOCK, MB, 2 * MB, 5 * MB + 12_345])
@pytest.mark.parametrize("through_cache", [False, True])
def test_the_file_holds_exactly_the_bytes_written(
    tmp_path: Path, total: int, through_cache: bool
) -> None:
    data = random.Random(total).randbytes(total)
    path = tmp_path / "report.zip"
    size = _write(path, data, _sizes(total, total), through_cache=through_cache)
    assert size == total
    assert path.read_bytes() == data


def test_it_is_written_around_the_cache_where_the_filesystem_allows(tmp_path: Path) -> None:
    if not _takes_o_direct(tmp_path):
        pytest.skip(f"the filesystem of {tmp_path} refuses O_DIRECT")
    file = DirectFile(tmp_path / "report.zip", 0o600)
    try:
        assert file.direct
        file.write(b"x" * (MB + 3))
        file.sync()
        assert file.direct  # every write was in whole blocks, the last one too
    finally:
        file.close()
    assert (tmp_path / "report.zip").stat().st_size == MB + 3


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "report.zip"
    path.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        DirectFile(path, 0o600)
    assert path.read_bytes() == b"someone else's"
