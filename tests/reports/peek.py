"""Looking into a report store behind its back: what is stored, what a writer left pending.

The tests check the store's promises against this independent view (the directory's files, the
bucket's listings), not against the store's own answers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rawexport.reports import LocalReportStore, ReportStore, ReportWriter
from rawexport.reports.local import LocalReportWriter
from rawexport.reports.s3 import S3ReportStore
from tests.s3_server import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["age_leftovers", "die_mid_write", "leftovers", "stored_keys"]


def stored_keys(reports: ReportStore) -> list[str]:
    """The published reports, by key."""
    if isinstance(reports, LocalReportStore):
        return sorted(p.name for p in reports.directory.iterdir() if not p.name.startswith("."))
    assert isinstance(reports, S3ReportStore)
    listed = _client().list_objects_v2(Bucket=reports.bucket, Prefix=reports.prefix)
    return sorted(o["Key"].removeprefix(reports.prefix) for o in listed.get("Contents", []))


def leftovers(reports: ReportStore) -> list[str]:
    """The keys of unfinished writes: temporary files, or pending multipart uploads."""
    if isinstance(reports, LocalReportStore):
        hidden = [p.name for p in reports.directory.iterdir() if p.name.startswith(".")]
        return sorted(name[1:].rsplit(".", 2)[0] for name in hidden)
    assert isinstance(reports, S3ReportStore)
    listed = _client().list_multipart_uploads(Bucket=reports.bucket, Prefix=reports.prefix)
    return sorted(u["Key"].removeprefix(reports.prefix) for u in listed.get("Uploads", []))


def die_mid_write(reports: ReportStore, key: str, data: bytes) -> ReportWriter:
    """What a process killed between two writes leaves: a write never committed nor aborted.

    The kernel closes a dead process's files, so a local writer's file is closed here too.
    """
    writer = reports.writer(key).__enter__()
    writer.write(data)
    if isinstance(writer, LocalReportWriter) and writer._file is not None:
        writer._file.close()
    return writer


def age_leftovers(reports: LocalReportStore, seconds: float) -> None:
    """As if `seconds` had passed since every unfinished write was last touched."""
    for path in reports.directory.iterdir():
        if path.name.startswith("."):
            touched = path.stat().st_mtime - seconds
            os.utime(path, (touched, touched))


def _client() -> S3Client:
    return s3_client({name: value for name, value in os.environ.items() if name.startswith("AWS_")})
