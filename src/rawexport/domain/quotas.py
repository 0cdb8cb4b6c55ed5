"""The job limits and the UTC-day arithmetic of the daily quotas."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rawexport.settings import Settings

__all__ = ["Limits", "seconds_to_utc_midnight", "utc_day_start"]


@dataclass(frozen=True)
class Limits:
    jobs_per_day_space: int
    jobs_per_day_user: int
    max_concurrent_jobs: int
    min_job_interval_s: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            jobs_per_day_space=settings.jobs_per_day_space,
            jobs_per_day_user=settings.jobs_per_day_user,
            max_concurrent_jobs=settings.max_concurrent_jobs,
            min_job_interval_s=settings.min_job_interval_s,
        )


def utc_day_start(now: float) -> float:
    """UNIX seconds of the 00:00 UTC that began the day holding `now`."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def seconds_to_utc_midnight(now: float) -> int:
    """Whole seconds until the next 00:00 UTC, at least 1 (a Retry-After of 0 invites a retry
    that would still be refused)."""
    midnight = utc_day_start(now) + timedelta(days=1).total_seconds()
    return max(1, math.ceil(midnight - now))
