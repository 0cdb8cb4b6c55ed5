"""The parts of a resumable report download that do no network I/O.

Bytes go to `NAME.part` beside the target, and the server's ETag of the file to
`NAME.part.etag`. After a broken connection, or in a later run after the process was killed,
the next request asks for `Range: bytes=N-` where N is what is already on disk, with `If-Range:
ETAG`: a server whose file is not that one any more sends it whole. Only a complete file that
passes the ZIP check is renamed to its final name, so a reader never sees half an archive.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import httpx

from rawexport.client.errors import CorruptReport, ProtocolError
from rawexport.client.protocol import check_answer

__all__ = [
    "ByteProgress",
    "PartFile",
    "archive_name",
    "body_start",
    "expected_total",
    "request_headers",
]

# Called with (bytes on disk, expected total when the server told it).
ByteProgress = Callable[[int, int | None], None]
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def archive_name(job_id: str) -> str:
    """A file name from the server's job id, which must never steer the path."""
    return "rawexport-" + re.sub(r"[^A-Za-z0-9_-]", "_", job_id) + ".zip"


def request_headers(offset: int, etag: str | None = None) -> dict[str, str]:
    # identity: Range offsets count stored bytes, which a compressed transfer would not match.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if etag is not None:
            headers["If-Range"] = etag
    return headers


def body_start(response: httpx.Response, offset: int) -> int:
    """The file offset where this response's body belongs. The body of an error answer must
    have been read already."""
    if response.status_code >= 300:
        check_answer(response)
        raise ProtocolError(f"download answered HTTP {response.status_code}")
    if response.status_code != 206:
        return 0  # the server ignored Range: the whole file comes again
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
    if match is None or int(match.group(1)) != offset:
        raise ProtocolError(
            f"asked for bytes from {offset}, got Content-Range "
            f"{response.headers.get('content-range')!r}"
        )
    return offset


def expected_total(response: httpx.Response, start: int) -> int | None:
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
    if match is not None and match.group(3) != "*":
        return int(match.group(3))
    length = response.headers.get("content-length")
    return start + int(length) if length is not None and length.isdigit() else None


class PartFile:
    """The `.part` file a download grows, published under its final name once checked."""

    def __init__(self, target: Path):
        self.target = target
        self.path = target.with_name(target.name + ".part")
        self._etag_path = target.with_name(target.name + ".part.etag")

    def resume_point(self) -> int:
        """The bytes already on disk that a resume may keep: none without the file's ETag."""
        if self.path.exists() and self._etag_path.exists():
            return self.path.stat().st_size
        return 0

    def etag(self) -> str | None:
        """The ETag of the file whose bytes are on disk, if the server gave one."""
        try:
            return self._etag_path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def open_at(self, offset: int, etag: str | None) -> BinaryIO:
        """Open for writing from `offset` on, the bytes after it cut, noting `etag` first."""
        if etag is None:
            self._etag_path.unlink(missing_ok=True)
        else:
            self._etag_path.write_text(etag)
        out = self.path.open("r+b" if offset else "wb")
        out.seek(offset)
        out.truncate()
        return out

    def publish(self) -> Path:
        """Check every member's CRC, then rename; a corrupt file is removed, not kept."""
        self._etag_path.unlink(missing_ok=True)
        try:
            with zipfile.ZipFile(self.path) as archive:
                bad_member = archive.testzip()
        except zipfile.BadZipFile as exc:
            self.path.unlink()
            raise CorruptReport(f"{self.target.name} is not a ZIP archive: {exc}") from exc
        if bad_member is not None:
            self.path.unlink()
            raise CorruptReport(f"{self.target.name}: member {bad_member} fails its CRC check")
        os.replace(self.path, self.target)
        return self.target
