"""Quota checks of `JobQueue.submit`: order, Retry-After, the database's UTC day, and no race
between simultaneous calls."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, update

from rawexport.domain.errors import ApiError
from rawexport.domain.quotas import Limits, seconds_to_utc_midnight, utc_day_start
from rawexport.meta.accounts import Accounts, User
from rawexport.meta.clock import db_now
from rawexport.meta.jobs import JobQueue
from rawexport.meta.quota_check import CONCURRENCY_RETRY_S
from rawexport.meta.schema import jobs
from rawexport.settings import Settings
from tests.meta.conftest import spec_of

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp()


def test_utc_day_arithmetic_and_limits_from_settings() -> None:
    midnight = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
    settings = Settings.load(env={"RAWEXPORT_JOBS_PER_DAY_SPACE": "7"})

    assert utc_day_start(NOON) == utc_day_start(midnight) == midnight
    assert utc_day_start(midnight - 0.001) == midnight - 86400
    assert seconds_to_utc_midnight(NOON) == 43200
    assert seconds_to_utc_midnight(midnight - 0.2) == 1
    assert seconds_to_utc_midnight(midnight) == 86400
    assert Limits.from_settings(settings) == Limits(7, 50, 5, 5)


def refusal(queue: JobQueue, user: User, app_id: str, limits: Limits) -> ApiError:
    with pytest.raises(ApiError) as refused:
        queue.submit(user, spec_of(app_id), limits)
    return refused.value


def finish(queue: JobQueue) -> None:
    job = queue.claim("worker")
    assert job is not None
    assert queue.complete(job.id, "worker", report_key=None, size=0, rows=0, empty=True, ttl_s=60)


def colleague(accounts: Accounts, user: User, app_id: str, email: str) -> User:
    _, token = accounts.create_user(user.space_id, email)
    other = accounts.user_by_token(token)
    assert other is not None
    accounts.grant(other.id, app_id)
    return other


def to_midnight(engine: Engine) -> int:
    """Seconds from the database's now to the next UTC midnight, as a Retry-After."""
    with engine.connect() as conn:
        return seconds_to_utc_midnight(conn.execute(select(db_now())).scalar_one())


def test_checks_in_contract_order_with_retry_after(
    queue: JobQueue, accounts: Accounts, member: tuple[User, str], engine: Engine
) -> None:
    user, app_id = member
    limits = Limits(
        jobs_per_day_space=3, jobs_per_day_user=2, max_concurrent_jobs=1, min_job_interval_s=10
    )
    no_spacing = replace(limits, min_job_interval_s=0)
    queue.submit(user, spec_of(app_id), limits)

    too_soon = refusal(queue, user, app_id, limits)
    # The refused call did not count; without the spacing, the running job is what refuses.
    busy = refusal(queue, user, app_id, no_spacing)
    finish(queue)
    queue.submit(user, spec_of(app_id), no_spacing)
    finish(queue)
    user_day = refusal(queue, user, app_id, no_spacing)
    queue.submit(colleague(accounts, user, app_id, "b@example.com"), spec_of(app_id), no_spacing)
    space_day = refusal(
        queue, colleague(accounts, user, app_id, "c@example.com"), app_id, no_spacing
    )

    assert (too_soon.code, too_soon.values, too_soon.retry_after) == (20, {"limit": 10}, 10)
    assert (busy.code, busy.values, busy.retry_after) == (17, {"limit": 1}, CONCURRENCY_RETRY_S)
    assert (user_day.code, user_day.values) == (18, {"limit": 2})
    assert (space_day.code, space_day.values) == (19, {"limit": 3})
    for refused in (user_day, space_day):
        assert refused.retry_after == pytest.approx(to_midnight(engine), abs=2)
    assert user_day.status == 429 and busy.status == 403


def test_daily_quotas_count_the_utc_day_of_the_database(
    queue: JobQueue, member: tuple[User, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, app_id = member
    limits = Limits(10, 1, 10, 0)
    job_id = queue.submit(user, spec_of(app_id), limits)
    finish(queue)
    # This process's clock says tomorrow; the day is the database's, so the quota still holds.
    monkeypatch.setattr(time, "time", lambda: time.monotonic() + 86400 * 365)

    refused = refusal(queue, user, app_id, limits)

    assert refused.code == 18
    created = queue.get(job_id)
    assert created is not None
    midnight = utc_day_start(created.created_at)
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(created_at=midnight))
    assert refusal(queue, user, app_id, limits).code == 18
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(created_at=midnight - 0.001))
    assert queue.submit(user, spec_of(app_id), limits)


def submit_at_once(queue: JobQueue, callers: list[User], app_id: str, limits: Limits) -> list[int]:
    """Each caller submits from its own thread, all released together; 0 = accepted, else code."""
    start = threading.Barrier(len(callers))
    outcomes: list[int] = []

    def call(user: User) -> None:
        start.wait()
        try:
            queue.submit(user, spec_of(app_id), limits)
            outcomes.append(0)
        except ApiError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=call, args=(user,)) for user in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.parametrize(
    ("limits", "accepted", "code"),
    [
        (Limits(100, 100, 100, 3600), 1, 20),
        (Limits(100, 100, 3, 0), 3, 17),
        (Limits(100, 4, 100, 0), 4, 18),
    ],
    ids=["frequency", "concurrency", "user-day"],
)
def test_twenty_simultaneous_submissions_of_one_user(
    queue: JobQueue, member: tuple[User, str], limits: Limits, accepted: int, code: int
) -> None:
    user, app_id = member

    outcomes = submit_at_once(queue, [user] * 20, app_id, limits)

    assert outcomes == [0] * accepted + [code] * (20 - accepted)


def test_simultaneous_submissions_of_one_space(
    queue: JobQueue, accounts: Accounts, member: tuple[User, str]
) -> None:
    user, app_id = member
    team = [colleague(accounts, user, app_id, f"{n}@example.com") for n in range(10)]

    outcomes = submit_at_once(queue, team * 2, app_id, Limits(5, 100, 100, 0))

    assert outcomes == [0] * 5 + [19] * 15
