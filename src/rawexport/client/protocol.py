"""The wire format of the RAW export API: requests to build and answers to parse.

Shared by the sync and async clients so both read every published envelope the same way; nothing
here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx

from rawexport.client.errors import ProtocolError, error_for
from rawexport.domain.errors import Code
from rawexport.domain.paths import API_PREFIX

__all__ = [
    "API_PATH",
    "EventSpec",
    "Progress",
    "ReportLink",
    "api_url",
    "check_answer",
    "parse_job_id",
    "parse_progress",
    "retry_after_seconds",
    "setjob_body",
]

API_PATH = f"{API_PREFIX}/"


def api_url(base_url: str) -> str:
    """The API's address from the server root; the API's own address is taken as it is, since
    people copy it from the published documentation."""
    root = base_url.rstrip("/")
    return root.removesuffix(API_PATH.rstrip("/")) + API_PATH


# An event id, a custom event name, or an object with `name`, `filters`, `alias`.
EventSpec = str | Mapping[str, object]
JobStatus = Literal["pending", "running", "complete"]


@dataclass(frozen=True)
class ReportLink:
    """The `result` of a complete job that has a file."""

    url: str
    format: str
    ttl: int | None
    expire: int | None
    message: str


@dataclass(frozen=True)
class Progress:
    """One getprogress answer. A complete job without `link` has an empty result."""

    status: JobStatus
    percent: int
    link: ReportLink | None = None
    message: str = ""
    # The server's Retry-After, which paces the next poll when present.
    retry_after: float | None = None
    snapshot: str | None = None
    """Which stored rows a complete job exported (extension, opaque): see `continue_from`."""

    @property
    def complete(self) -> bool:
        return self.status == "complete"


def setjob_body(
    token: str,
    app_id: str,
    start: int,
    end: int,
    events: Sequence[EventSpec],
    report_format: str | None,
    continue_from: str | None = None,
    notify_url: str | None = None,
) -> dict[str, object]:
    """Only the fields the caller set, so a plain request stays a published one."""
    body: dict[str, object] = {
        "user_token": token,
        "app_id": app_id,
        "start_date": start,
        "end_date": end,
    }
    if events:
        body["events"] = [e if isinstance(e, str) else dict(e) for e in events]
    if report_format is not None:
        body["format"] = report_format
    if continue_from is not None:
        body["continue_from"] = continue_from
    if notify_url is not None:
        body["notify_url"] = notify_url
    return body


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds from now; it may be a number or an HTTP date."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _json_object(response: httpx.Response) -> dict[str, object] | None:
    try:
        parsed = json.loads(response.content)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _published_404(errors: object) -> bool:
    """Whether a 404's errors are the API's own (code 21: the report expired)."""
    return (
        isinstance(errors, list)
        and bool(errors)
        and isinstance(errors[0], dict)
        and errors[0].get("code") == Code.REPORT_EXPIRED
    )


def check_answer(response: httpx.Response) -> dict[str, object]:
    """The JSON object of a successful answer; raise the typed error of an error answer."""
    body = _json_object(response)
    errors = body.get("errors") if body is not None else None
    if response.status_code == httpx.codes.NOT_FOUND and not _published_404(errors):
        errors = None  # not an answer of the API, but of whatever else is at that URL
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        raise error_for(
            code if isinstance(code, int) else None,
            response.status_code,
            str(first.get("msg", "")),
            retry_after_seconds(response.headers),
        )
    if response.status_code >= 400:
        text = response.text[:200].strip() or response.reason_phrase
        if response.status_code == httpx.codes.NOT_FOUND:
            text += f" at {response.request.url.copy_with(query=None)}: no RAW export API there;"
            text += " the URL to give is the server root, e.g. https://devtodev.com"
        raise error_for(
            None,
            response.status_code,
            f"HTTP {response.status_code}: {text}",
            retry_after_seconds(response.headers),
        )
    if body is None:
        raise ProtocolError(f"expected a JSON object, got: {response.text[:200]!r}")
    return body


def parse_job_id(response: httpx.Response) -> str:
    data = check_answer(response).get("data")
    if not isinstance(data, str) or not data:
        raise ProtocolError(f"setjob answered without a job id: {response.text[:200]!r}")
    return data


def parse_progress(response: httpx.Response) -> Progress:
    data = check_answer(response).get("data")
    if not isinstance(data, dict) or data.get("status") not in ("pending", "running", "complete"):
        raise ProtocolError(f"unexpected getprogress answer: {response.text[:200]!r}")
    status: JobStatus = data["status"]
    percent = _optional_int(data.get("percent_complete")) or 0
    if status != "complete":
        return Progress(status, percent, retry_after=retry_after_seconds(response.headers))
    result = data.get("result")
    if not isinstance(result, dict):
        raise ProtocolError(f"complete job without a result: {response.text[:200]!r}")
    message = str(result.get("msg", ""))
    snapshot = result.get("snapshot")
    snapshot = snapshot if isinstance(snapshot, str) else None
    url = result.get("url")
    if not isinstance(url, str):
        return Progress(status, 100, None, message, snapshot=snapshot)
    link = ReportLink(
        url=url,
        format=str(result.get("format", "csv")),
        ttl=_optional_int(result.get("ttl")),
        expire=_optional_int(result.get("expire")),
        message=message,
    )
    return Progress(status, 100, link, message, snapshot=snapshot)


def _optional_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
