"""`continue_from`: which earlier job a new one continues, and the snapshot it continues after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rawexport.domain.errors import ApiError, Code
from rawexport.domain.states import JobStatus
from rawexport.domain.validation import storable
from rawexport.meta.accounts import User
from rawexport.meta.jobs import JobQueue

__all__ = ["continued_snapshot"]

_EXPECTED = "the id of a complete job of the same user and app"


def continued_snapshot(jobs: JobQueue, user: User, body: Mapping[str, Any]) -> int | None:
    """The snapshot of the job that `body` continues from, None when it continues none.

    Code 5 (`continue_from`) for an unknown job, another user's or app's (the same answer, so
    ids of other users' jobs cannot be probed), one not complete, or one from a release before
    snapshots, whose rows cannot be told apart. A job whose report expired keeps its snapshot.
    """
    job_id: str | None = body.get("continue_from")
    if job_id is None:
        return None
    job = jobs.get(job_id) if storable(job_id) else None
    if job is None or job.user_id != user.id or job.app_id != body["app_id"]:
        raise _not_continuable("an unknown job")
    if job.status is not JobStatus.COMPLETE:
        raise _not_continuable(f"a {job.status.value} job")
    if job.snapshot is None:
        raise _not_continuable("a job of a release without snapshots")
    return job.snapshot


def _not_continuable(received: str) -> ApiError:
    details: dict[str, object] = {
        "field": "continue_from",
        "received": received,
        "expected": _EXPECTED,
    }
    return ApiError(Code.WRONG_TYPE, details)
