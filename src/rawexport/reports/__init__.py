"""Where reports are kept, chosen by URL; see `base.ReportStore` for the interface.

`open_reports(url)`: a path or `file:///path` keeps them in a local directory, `s3://BUCKET/PREFIX`
in an S3-compatible bucket (boto3 is imported only then).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from rawexport.reports.base import (
    InUse,
    ReportObject,
    ReportStore,
    ReportStoreError,
    ReportWriter,
    job_id_of_report,
    report_key,
)
from rawexport.reports.local import LocalReportStore

__all__ = [
    "InUse",
    "LocalReportStore",
    "ReportObject",
    "ReportStore",
    "ReportStoreError",
    "ReportWriter",
    "job_id_of_report",
    "open_reports",
    "report_key",
]


def open_reports(url: str) -> ReportStore:
    """The report store at `url`: a directory path, `file:///abs/path` or `s3://BUCKET/PREFIX`."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from rawexport.reports.s3 import S3ReportStore

        return S3ReportStore(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"reports URL {url!r} must name a local path: file:///abs/path")
        return LocalReportStore(Path(unquote(parts.path)))
    if parts.scheme == "":
        return LocalReportStore(Path(url))
    raise ValueError(
        f"unsupported reports URL {url!r}: use a directory, file:///abs/path or s3://BUCKET/PREFIX"
    )
