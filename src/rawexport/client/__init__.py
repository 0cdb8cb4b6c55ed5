"""Python client of the RAW export API: set a job, wait for it, download and read its report.

with Client("https://devtodev.com", token) as client:
    report = client.export(app_id, "2026-11-01", "2026-11-02", ["tr"], directory=Path("out"))
frames = report.to_pandas()
"""

from rawexport.client.aio import AsyncClient
from rawexport.client.errors import (
    AccessError,
    AuthError,
    BadRequest,
    CorruptReport,
    NetworkError,
    NotFound,
    ProtocolError,
    QuotaExceeded,
    RateLimited,
    RawExportError,
    ServerError,
)
from rawexport.client.frames import MissingExtra
from rawexport.client.protocol import Progress, ReportLink
from rawexport.client.report import Report, ReportFile
from rawexport.client.retry import RetryPolicy
from rawexport.client.sync import Client
from rawexport.client.timeparse import parse_when

__all__ = [
    "AccessError",
    "AsyncClient",
    "AuthError",
    "BadRequest",
    "Client",
    "CorruptReport",
    "MissingExtra",
    "NetworkError",
    "NotFound",
    "Progress",
    "ProtocolError",
    "QuotaExceeded",
    "RateLimited",
    "RawExportError",
    "Report",
    "ReportFile",
    "ReportLink",
    "RetryPolicy",
    "ServerError",
    "parse_when",
]
