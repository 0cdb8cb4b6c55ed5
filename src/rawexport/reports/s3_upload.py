"""Uploading one report to S3 while it is made: a multipart upload of fixed-size parts.

Bounded memory: the bytes written are cut into parts of `part_size` (every part but the last of
the same size, which S3-compatible stores such as R2 require), and at most one part is uploading
(on a background thread) while the next one fills, so about two parts are held whatever the size
of the report, and the upload overlaps the export instead of following it. Nothing is visible
until `commit` completes the upload; leaving without commit aborts it, so no pending upload (and
its stored parts) is left behind.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, cast

from botocore.exceptions import BotoCoreError, ClientError

from rawexport.reports.s3_errors import explain, is_missing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

__all__ = ["DEFAULT_PART_SIZE", "MIN_PART_SIZE", "S3ReportWriter"]

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 << 20
"""S3's smallest part (except the last)."""

DEFAULT_PART_SIZE = 8 << 20
"""With S3's 10,000 parts at most, reports up to about 78 GiB."""


class S3ReportWriter:
    def __init__(
        self, client: S3Client, bucket: str, name: str, part_size: int, where: str
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"an S3 part holds at least {MIN_PART_SIZE} bytes, not {part_size}")
        self._client, self._bucket, self._name = client, bucket, name
        self._part_size = part_size
        self._where = where
        self._upload_id: str | None = None
        # The part being filled is allocated whole once and handed to the uploader as it is:
        # growing and slicing a buffer would hold extra copies of a part.
        self._filling = bytearray(part_size)
        self._filled = 0
        self._parts: list[CompletedPartTypeDef] = []
        self._uploading: Future[CompletedPartTypeDef] | None = None
        self._uploader: ThreadPoolExecutor | None = None
        self._committed = False

    def __enter__(self) -> S3ReportWriter:
        try:
            answer = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._name, ContentType="application/zip"
            )
        except (BotoCoreError, ClientError) as error:
            raise explain(error, self._where) from None
        self._upload_id = answer["UploadId"]
        self._uploader = ThreadPoolExecutor(1, thread_name_prefix="rawexport-s3-upload")
        return self

    def write(self, data: bytes) -> None:
        pending = memoryview(data)
        while pending:
            taken = pending[: self._part_size - self._filled]
            self._filling[self._filled : self._filled + len(taken)] = taken
            self._filled += len(taken)
            pending = pending[len(taken) :]
            if self._filled == self._part_size:
                self._send(self._filling)
                self._filling, self._filled = bytearray(self._part_size), 0

    def commit(self) -> None:
        if self._filled or (not self._parts and self._uploading is None):
            del self._filling[self._filled :]  # the last part may be short (or, alone, empty)
            self._send(self._filling)
            self._filling, self._filled = bytearray(), 0
        self._collect()
        try:
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._name,
                UploadId=self._upload_id or "",
                MultipartUpload={"Parts": self._parts},
            )
        except (BotoCoreError, ClientError) as error:
            raise explain(error, self._where) from None
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._uploader is not None:
            # A part still uploading finishes first: aborting under it could leave that part.
            self._uploader.shutdown(wait=True, cancel_futures=True)
        self._filling, self._filled = bytearray(), 0
        if not self._committed and self._upload_id is not None:
            self._abort()

    def _send(self, part: bytearray) -> None:
        """Hand `part` to the uploader once the previous one is up (memory stays bounded)."""
        if self._uploader is None:
            raise RuntimeError("the report writer is not open")
        self._collect()
        number = len(self._parts) + 1
        self._uploading = self._uploader.submit(self._upload_part, number, part)

    def _collect(self) -> None:
        """Wait for the part uploading, if any; its failure fails the report."""
        if self._uploading is not None:
            uploading, self._uploading = self._uploading, None
            self._parts.append(uploading.result())

    def _upload_part(self, number: int, part: bytearray) -> CompletedPartTypeDef:
        try:
            answer = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._name,
                UploadId=self._upload_id or "",
                PartNumber=number,
                # botocore sends any bytes-like body; a copy into `bytes` would cost a part.
                Body=cast(bytes, part),
            )
        except (BotoCoreError, ClientError) as error:
            raise explain(error, self._where) from None
        return {"ETag": answer["ETag"], "PartNumber": number}

    def _abort(self) -> None:
        try:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._name, UploadId=self._upload_id or ""
            )
        except ClientError as error:
            if not is_missing(error):
                # The sweeper aborts it later; the error that stopped the report matters more.
                log.warning("%s: %s", self._where, explain(error, self._where))
        except BotoCoreError as error:
            log.warning("%s: %s", self._where, explain(error, self._where))
