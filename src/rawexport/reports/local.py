"""Reports as files of one directory (the default: DATA_DIR/reports).

A report is written into a temporary file beside its target (around the page cache where the
filesystem allows: `direct_file.py`) and renamed into place once it is complete and on disk, so
a reader sees the whole file or none. Reports are private to the service: files are 0600 and
the directory it makes 0700, whatever the umask.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Generator
from pathlib import Path
from types import TracebackType

from rawexport.reports.base import InUse, ReportObject, ReportStoreError
from rawexport.reports.direct_file import DirectFile

__all__ = ["LocalReportStore", "LocalReportWriter"]

_READ_CHUNK = 1 << 20
# `.KEY.HEX.tmp`: hidden, so no listing mistakes it for a report, and it names its key.
_TEMPORARY = re.compile(r"^\.(?P<key>.+)\.[0-9a-f]{32}\.tmp$")


class LocalReportWriter:
    def __init__(self, target: Path) -> None:
        self._target = target
        self._temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        self._file: DirectFile | None = None
        self._committed = False

    def __enter__(self) -> LocalReportWriter:
        self._file = DirectFile(self._temporary, 0o600)
        os.fchmod(self._file.fileno(), 0o600)  # the umask may have taken bits away
        return self

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise RuntimeError("the report writer is not open")
        self._file.write(data)

    def commit(self) -> None:
        if self._file is None:
            raise RuntimeError("the report writer is not open")
        self._file.sync()
        self._file.close()
        os.replace(self._temporary, self._target)
        self._committed = True
        _fsync_directory(self._target.parent)  # the rename itself survives a power cut

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
        if not self._committed:
            self._temporary.unlink(missing_ok=True)


class LocalReportStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.url = self.directory.as_uri()
        if not self.directory.is_dir():
            try:
                self.directory.mkdir(parents=True)
            except FileExistsError:
                pass  # another process made it first
            except OSError as error:
                raise ReportStoreError(
                    f"cannot create the reports directory {self.directory}: {error.strerror}"
                ) from None
            os.chmod(self.directory, 0o700)

    def writer(self, key: str) -> LocalReportWriter:
        return LocalReportWriter(self._path(key))

    def open(self, key: str) -> ReportObject | None:
        path = self._path(key)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None

        def read(start: int, end: int) -> Generator[bytes, None, None]:
            with path.open("rb") as report:
                report.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = report.read(min(_READ_CHUNK, left))
                    if not chunk:
                        raise OSError(f"report {key} shrank while it was read")
                    left -= len(chunk)
                    yield chunk

        # Size and modification time in nanoseconds name one version of one file: the same on
        # every machine that mounts the directory, and a new report never reuses them.
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        return ReportObject(key, stat.st_size, etag, stat.st_mtime, read)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def remove_leftovers(self, older_than_s: float, in_use: InUse) -> int:
        deadline = time.time() - older_than_s
        removed = 0
        for entry in os.scandir(self.directory):
            match = _TEMPORARY.match(entry.name)
            if match is None or in_use(match.group("key")):
                continue
            try:
                if entry.stat().st_mtime < deadline:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass  # its writer committed or aborted since the listing
        return removed

    def _path(self, key: str) -> Path:
        if "/" in key or key.startswith(".") or not key:
            raise ValueError(f"not a report key: {key!r}")
        return self.directory / key


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
