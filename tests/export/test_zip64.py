"""A report over 4 GiB opens: sizes and offsets beyond 32 bits need ZIP64 (opt-in, slow)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rawexport.export.zipstream import ZipMember, write_zip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("RAWEXPORT_SLOW") != "1", reason="set RAWEXPORT_SLOW=1"),
]

_BLOCK = os.urandom(1 << 20)  # repeated a megabyte apart: beyond deflate's reach, so incompressible
_BLOCKS = 4200  # 4.1 GiB


def _big() -> Iterator[bytes]:
    for _ in range(_BLOCKS):
        yield _BLOCK


@pytest.mark.timeout(1200)
def test_a_zip_over_4_gib_opens_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with path.open("wb") as out:
        size = write_zip(out, [ZipMember("big.csv", _big()), ZipMember("after.csv", [b"a,b\n"])])
    assert size == path.stat().st_size > 1 << 32
    with zipfile.ZipFile(path) as z:
        big, after = z.infolist()
        assert big.file_size == _BLOCKS << 20
        assert big.compress_size > 1 << 32
        assert after.header_offset > 1 << 32
        assert z.read("after.csv") == b"a,b\n"
        with z.open("big.csv") as f:  # reading to the end checks the CRC
            for _ in range(_BLOCKS):
                assert f.read(1 << 20) == _BLOCK
            assert f.read() == b""
