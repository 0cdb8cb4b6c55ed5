"""Reports as objects of an S3-compatible bucket: `s3://BUCKET/PREFIX`.

The endpoint and credentials come from the standard AWS variables (`AWS_ENDPOINT_URL`,
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`), as every AWS tool reads them.
A report is uploaded as it is made, by an explicit multipart upload (see `S3ReportWriter`), and
is visible only once CompleteMultipartUpload has joined its parts. Uploads that a dead worker
left pending are aborted by the sweeper: they would otherwise be kept, and billed, forever.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from rawexport.reports.base import InUse, ReportObject
from rawexport.reports.s3_errors import explain, is_missing
from rawexport.reports.s3_upload import DEFAULT_PART_SIZE, S3ReportWriter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3ReportStore"]

_READ_CHUNK = 1 << 20


class S3ReportStore:
    def __init__(self, url: str, *, part_size: int = DEFAULT_PART_SIZE) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"reports URL {url!r} must have the form s3://BUCKET/PREFIX")
        self.url = url
        self.bucket = parts.netloc
        prefix = parts.path.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        self._part_size = part_size
        self._client = _client(self.endpoint)
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise explain(error, self._where()) from None

    def writer(self, key: str) -> S3ReportWriter:
        return S3ReportWriter(
            self._client, self.bucket, self.prefix + key, self._part_size, self._where(key)
        )

    def open(self, key: str) -> ReportObject | None:
        name = self.prefix + key
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as error:
            if is_missing(error):
                return None
            raise explain(error, self._where(key)) from None
        except BotoCoreError as error:
            raise explain(error, self._where(key)) from None
        etag = head["ETag"]

        def read(start: int, end: int) -> Generator[bytes, None, None]:
            # If-Match: the bytes are those of the version whose size and ETag were answered.
            answer = self._client.get_object(
                Bucket=self.bucket, Key=name, Range=f"bytes={start}-{end}", IfMatch=etag
            )
            body = answer["Body"]
            try:
                yield from body.iter_chunks(_READ_CHUNK)
            finally:
                body.close()

        modified = head["LastModified"].timestamp()
        return ReportObject(key, head["ContentLength"], etag, modified, read)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except (BotoCoreError, ClientError) as error:
            raise explain(error, self._where(key)) from None

    def remove_leftovers(self, older_than_s: float, in_use: InUse) -> int:
        """Abort multipart uploads under the prefix that were started over `older_than_s` ago.

        Their age is measured on the storage's own clock (the Date of its answer), as their
        start time is, so no machine's clock enters.
        """
        removed = 0
        pages = self._client.get_paginator("list_multipart_uploads")
        try:
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                date = page["ResponseMetadata"]["HTTPHeaders"]["date"]
                deadline = parsedate_to_datetime(date).timestamp() - older_than_s
                for upload in page.get("Uploads", []):
                    key = upload["Key"].removeprefix(self.prefix)
                    if upload["Initiated"].timestamp() >= deadline or in_use(key):
                        continue
                    removed += self._abort(upload["Key"], upload["UploadId"])
        except (BotoCoreError, ClientError) as error:
            raise explain(error, self._where()) from None
        return removed

    def _abort(self, name: str, upload_id: str) -> int:
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
        except ClientError as error:
            if is_missing(error):
                return 0  # its writer completed or aborted it since the listing
            raise
        return 1

    def _where(self, key: str = "") -> str:
        endpoint = f" at {self.endpoint}" if self.endpoint else ""
        return f"s3://{self.bucket}/{self.prefix}{key}{endpoint}"


def _client(endpoint: str | None) -> S3Client:
    config = Config(
        # S3-compatible stores (MinIO, Ceph, R2, ...) all accept path-style addresses, and an
        # endpoint given as an IP address or a bare host has no bucket sub-domains.
        s3={"addressing_style": "path" if endpoint else "auto"},
        # Checksums only where S3 requires them: newer defaults are refused by some compatible
        # stores, and the ZIP's own CRCs plus TLS already guard the bytes.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=32,
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
