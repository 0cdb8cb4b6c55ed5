"""botocore's errors as one line an operator can act on (a job's error, a CLI message)."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from rawexport.reports.base import ReportStoreError

__all__ = ["explain", "is_missing"]

_MISSING = {"404", "NoSuchKey", "NoSuchUpload", "NotFound"}

_CREDENTIALS = (
    "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    " (and AWS_REGION, AWS_ENDPOINT_URL for the storage used)"
)

_HINTS = {
    "NoSuchBucket": "the bucket does not exist",
    "InvalidAccessKeyId": "the access key is not known to the storage: " + _CREDENTIALS,
    "SignatureDoesNotMatch": "the secret key does not match the access key: " + _CREDENTIALS,
    "AccessDenied": "access denied: the credentials may not use this bucket",
    "403": "access denied (HTTP 403): " + _CREDENTIALS,
    "AuthorizationHeaderMalformed": "the request was refused: " + _CREDENTIALS,
}


def is_missing(error: ClientError) -> bool:
    """Whether S3 answered that the object or the upload does not exist."""
    return error.response.get("Error", {}).get("Code", "") in _MISSING


def explain(error: BotoCoreError | ClientError, where: str) -> ReportStoreError:
    """The error as one line naming the report storage `where` it happened."""
    if isinstance(error, NoCredentialsError):
        return ReportStoreError(f"report storage {where}: no credentials; {_CREDENTIALS}")
    if isinstance(error, EndpointConnectionError):
        return ReportStoreError(f"report storage {where}: cannot connect ({error})")
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        if code == "404" and error.operation_name == "HeadBucket":
            code = "NoSuchBucket"  # HEAD answers carry no body, hence no error code
        hint = _HINTS.get(code) or details.get("Message") or code or "unknown error"
        return ReportStoreError(f"report storage {where}: {hint}")
    return ReportStoreError(f"report storage {where}: {str(error).splitlines()[0]}")
