"""The records of a ZIP64 archive written in one pass, for members already deflated.

Every member is ZIP64 with a data descriptor: its local header is written before its size and
CRC are known, and those follow its data. So the writer never seeks and never needs a member
whole, and sizes and offsets beyond 4 GiB need nothing special (APPNOTE 6.3.10, 4.3.9, 4.5.3).
Deflating is not done here: members are deflated apart (in parallel), and only their bytes and
the sizes and CRC of what they hold come to this module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

__all__ = ["MemberRecord", "central_directory", "data_descriptor", "dos_time", "local_header"]

_VERSION = 45  # ZIP64
_MADE_BY = (3 << 8) | _VERSION  # UNIX, so the external attributes carry the file mode
_FLAGS = (1 << 3) | (1 << 11)  # sizes and CRC in a data descriptor; UTF-8 names
_DEFLATED = 8
_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_UNKNOWN_32 = 0xFFFFFFFF  # "see the ZIP64 extra field"
_ZIP64_EXTRA = 0x0001


@dataclass(frozen=True)
class MemberRecord:
    """What the central directory says about one member, known once it is written."""

    name: bytes
    offset: int
    crc: int
    compressed: int
    uncompressed: int


def dos_time(moment: datetime) -> tuple[int, int]:
    """The (time, date) MS-DOS fields of `moment`, to two seconds."""
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    date = ((max(moment.year, 1980) - 1980) << 9) | (moment.month << 5) | moment.day
    return time, date


def local_header(name: bytes, moment: tuple[int, int]) -> bytes:
    """The header before a member's data; sizes are zero here (given in the ZIP64 extra field
    as zero too, since the data descriptor carries them)."""
    extra = struct.pack("<HHQQ", _ZIP64_EXTRA, 16, 0, 0)
    return (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            _VERSION,
            _FLAGS,
            _DEFLATED,
            *moment,
            0,
            _UNKNOWN_32,
            _UNKNOWN_32,
            len(name),
            len(extra),
        )
        + name
        + extra
    )


def data_descriptor(crc: int, compressed: int, uncompressed: int) -> bytes:
    """The CRC and 64-bit sizes after a member's data."""
    return struct.pack("<IIQQ", 0x08074B50, crc, compressed, uncompressed)


def central_directory(members: list[MemberRecord], moment: tuple[int, int], offset: int) -> bytes:
    """The central directory and the end records, for a directory starting at `offset`."""
    entries = b"".join(_central_entry(m, moment) for m in members)
    end64_offset = offset + len(entries)
    end64 = struct.pack(
        "<IQHHIIQQQQ",
        0x06064B50,
        44,  # the size of the rest of this record
        _MADE_BY,
        _VERSION,
        0,
        0,
        len(members),
        len(members),
        len(entries),
        offset,
    )
    locator = struct.pack("<IIQI", 0x07064B50, 0, end64_offset, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, _UNKNOWN_32, _UNKNOWN_32, 0)
    return entries + end64 + locator + end


def _central_entry(member: MemberRecord, moment: tuple[int, int]) -> bytes:
    extra = struct.pack(
        "<HHQQQ", _ZIP64_EXTRA, 24, member.uncompressed, member.compressed, member.offset
    )
    header = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        _MADE_BY,
        _VERSION,
        _FLAGS,
        _DEFLATED,
        *moment,
        member.crc,
        _UNKNOWN_32,
        _UNKNOWN_32,
        len(member.name),
        len(extra),
        0,
        0,
        0,
        _MODE,
        _UNKNOWN_32,
    )
    return header + member.name + extra
