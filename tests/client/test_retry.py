from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from rawexport.client.errors import (
    AuthError,
    NetworkError,
    QuotaExceeded,
    RateLimited,
    ServerError,
)
from rawexport.client.retry import PollPacing, RetryBudget, RetryPolicy


def rate_limited(retry_after: float | None) -> RateLimited:
    return RateLimited("slow down", code=20, status=429, retry_after=retry_after)


def test_backoff_grows_and_stays_within_its_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_server_errors_are_retried_up_to_the_limit() -> None:
    budget = RetryBudget(RetryPolicy(attempts=3))
    error = ServerError("Unknown Error", code=1, status=500)
    assert budget.delay_for(error) >= 0
    assert budget.delay_for(error) >= 0
    with pytest.raises(ServerError):
        budget.delay_for(error)


def test_progress_resets_the_failure_count() -> None:
    budget = RetryBudget(RetryPolicy(attempts=2))
    error = httpx.ReadError("cut")
    for _ in range(5):
        budget.delay_for(error)
        budget.progressed()
    budget.delay_for(error)
    with pytest.raises(NetworkError):
        budget.delay_for(error)


def test_network_errors_become_network_error_when_exhausted() -> None:
    budget = RetryBudget(RetryPolicy(attempts=1))
    with pytest.raises(NetworkError) as raised:
        budget.delay_for(httpx.ConnectError("refused"))
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


def test_a_job_request_is_resent_only_when_it_never_left() -> None:
    budget = RetryBudget(RetryPolicy(), resend_safe=False)
    assert budget.delay_for(httpx.ConnectError("refused")) >= 0
    with pytest.raises(NetworkError, match="may have reached"):
        budget.delay_for(httpx.ReadTimeout("slow"))


def test_rate_limits_are_waited_for_retry_after_within_a_total() -> None:
    budget = RetryBudget(RetryPolicy(rate_limit_wait=10.0))
    assert budget.delay_for(rate_limited(4.0)) == 4.0
    assert budget.delay_for(rate_limited(5.0)) == 5.0
    with pytest.raises(RateLimited):
        budget.delay_for(rate_limited(2.0))


def test_rate_limits_without_retry_after_back_off() -> None:
    budget = RetryBudget(RetryPolicy(base_delay=1.0, max_delay=4.0))
    delays = [budget.delay_for(rate_limited(None)) for _ in range(4)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[3] <= 4.0


def test_daily_quota_and_auth_errors_are_raised_at_once() -> None:
    budget = RetryBudget(RetryPolicy())
    quota = QuotaExceeded("day", code=18, status=429, retry_at=datetime.now(UTC))
    with pytest.raises(QuotaExceeded):
        budget.delay_for(quota)
    with pytest.raises(AuthError):
        budget.delay_for(AuthError("token", code=11, status=401))


def test_poll_pacing_grows_to_its_cap_and_obeys_retry_after() -> None:
    pacing = PollPacing(first=1.0, factor=2.0, cap=5.0)
    assert [pacing.next_delay(None) for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert pacing.next_delay(0.25) == 0.25
