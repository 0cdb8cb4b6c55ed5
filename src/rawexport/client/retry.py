"""When to try a request again, and how long to wait first.

The decisions live here, apart from I/O, so the sync and async clients retry identically:
- codes 17 and 20 (concurrency, frequency) are waited out, for `Retry-After` seconds when the
  server sends it, up to `rate_limit_wait` seconds in total for one call;
- code 1, any 5xx and network errors are retried with jittered exponential backoff, tried at most
  `attempts` times in a row;
- everything else, daily quotas (18, 19) included, is raised at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from rawexport.client.errors import NetworkError, RateLimited, RawExportError, ServerError

__all__ = ["PollPacing", "RetryBudget", "RetryNotice", "RetryPolicy"]

# Told before each wait: the error (a RawExportError or an httpx.TransportError) and the delay.
RetryNotice = Callable[[Exception, float], None]

# Errors raised before a request reached the server: resending cannot create a second job.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    rate_limit_wait: float = 900.0

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (1-based): half fixed, half random, so clients
        that failed together do not come back together."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class RetryBudget:
    """The retry state of one logical call (one setjob, one poll, one download)."""

    def __init__(self, policy: RetryPolicy, *, resend_safe: bool = True):
        self._policy = policy
        # setjob is not idempotent: after a request may have reached the server, a resend
        # could start a second job, so only errors raised before sending are retried.
        self._resend_safe = resend_safe
        self._failures = 0
        self._rate_limited = 0
        self._rate_waited = 0.0

    def progressed(self) -> None:
        """A partial success (bytes received) resets the count of failures in a row."""
        self._failures = 0

    def delay_for(self, error: Exception) -> float:
        """Seconds to wait before trying again; raises when `error` must reach the caller."""
        if isinstance(error, RateLimited):
            self._rate_limited += 1
            delay = (
                error.retry_after
                if error.retry_after is not None
                else self._policy.backoff(self._rate_limited)
            )
            if self._rate_waited + delay > self._policy.rate_limit_wait:
                raise error
            self._rate_waited += delay
            return delay
        if isinstance(error, httpx.TransportError):
            if not self._resend_safe and not isinstance(error, _NOT_SENT):
                raise NetworkError(f"request may have reached the server: {error!r}") from error
            return self._failure(NetworkError(f"network error: {error!r}"), error)
        if isinstance(error, ServerError):
            return self._failure(error, error)
        raise error

    def _failure(self, final: RawExportError, cause: Exception) -> float:
        self._failures += 1
        if self._failures >= self._policy.attempts:
            raise final from cause
        return self._policy.backoff(self._failures)


@dataclass
class PollPacing:
    """Delays between getprogress calls: start quick for small jobs, slow down for long ones."""

    first: float = 0.5
    factor: float = 1.5
    cap: float = 10.0

    def __post_init__(self) -> None:
        self._next = self.first

    def next_delay(self, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        delay = self._next
        self._next = min(self.cap, self._next * self.factor)
        return delay
