"""The delivery loop that every process running workers runs: POST due notifications, retry.

A 2xx answer delivers a notification. Anything else (another status, a redirect, which is not
followed, no answer at all) is tried again after `webhook_retry_s`, then twice as long each time
(at most `MAX_RETRY_S`), until `webhook_give_up_s` after the job ended: the notification is then
dropped with a journal line. The allowlist is checked again before every POST, with this
process's settings: a host the operator removed gets nothing more.

Waking: a worker of this process that ends a job wakes the loop, so the first POST leaves at
once; notifications of other processes' jobs, and retries, are found by looking again when the
next one is due, at least every `poll_s`.
"""

from __future__ import annotations

import logging
import threading

from rawexport.observability import journal
from rawexport.settings import Settings
from rawexport.webhooks.allowlist import Allowlist, Refused
from rawexport.webhooks.outbox import Delivery, Outbox
from rawexport.webhooks.sending import WebhookError, post

__all__ = ["KEEP_DELIVERED_S", "MAX_RETRY_S", "Deliverer", "retry_delay_s"]

log = logging.getLogger(__name__)

MAX_RETRY_S = 600.0
"""The longest wait between two tries of one notification."""

KEEP_DELIVERED_S = 86400.0
"""How long a delivered notification stays in the outbox, for an operator to look it up."""

_LEASE_MARGIN_S = 30.0
_STOP_WAIT_S = 5.0


def retry_delay_s(attempts: int, first_s: float) -> float:
    """The wait after the `attempts`-th failed try: `first_s`, doubled each time, capped."""
    return min(first_s * 2.0 ** max(0, attempts - 1), MAX_RETRY_S)


class Deliverer:
    def __init__(self, outbox: Outbox, settings: Settings) -> None:
        self._outbox, self._settings = outbox, settings
        self._allowlist = Allowlist.parse(settings.webhook_hosts)
        # A claim outlives the slowest POST (connect, send, answer), or another process would
        # send the same notification while this one still waits for its answer.
        self._lease_s = 4 * settings.webhook_timeout_s + _LEASE_MARGIN_S
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="rawexport-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the POST in flight, if any (a daemon thread: a hung one dies with the
        process, and its claim lapses for another process to retry)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(_STOP_WAIT_S)
            self._thread = None

    def wake(self) -> None:
        """A job of this process ended: look for its notification now."""
        self._wake.set()

    def deliver_due(self) -> None:
        """POST every notification that is due, one after the other, until none is."""
        while not self._stopping.is_set():
            delivery = self._outbox.claim(self._lease_s)
            if delivery is None:
                return
            self._deliver(delivery)

    def forget_delivered(self) -> None:
        self._outbox.forget_delivered(KEEP_DELIVERED_S)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            wait_s = float(self._settings.poll_s)
            try:
                self.deliver_due()
                due_in = self._outbox.seconds_to_next()
                if due_in is not None:
                    wait_s = max(0.0, min(wait_s, due_in))
            except Exception:
                log.exception("delivering webhooks failed")  # the metadata database, mostly
            self._wake.wait(wait_s)

    def _deliver(self, delivery: Delivery) -> None:
        try:
            target = self._allowlist.target(delivery.url)
        except Refused as refused:
            self._outbox.drop(delivery.job_id)
            journal.webhook_dropped(delivery.job_id, f"the URL is no longer allowed: {refused}")
            return
        try:
            status = post(
                self._allowlist,
                target,
                delivery.url,
                job_id=delivery.job_id,
                body=delivery.body,
                secret=delivery.secret,
                timeout_s=self._settings.webhook_timeout_s,
            )
        except WebhookError as error:
            self._failed(delivery, str(error))
            return
        if 200 <= status < 300:
            self._outbox.delivered(delivery.job_id)
            journal.webhook_delivered(delivery.job_id, delivery.attempts, status)
        elif 300 <= status < 400:
            self._failed(delivery, f"answered {status}, a redirect, which is not followed")
        else:
            self._failed(delivery, f"answered {status}")

    def _failed(self, delivery: Delivery, error: str) -> None:
        delay_s = retry_delay_s(delivery.attempts, self._settings.webhook_retry_s)
        give_up_s = self._settings.webhook_give_up_s
        if self._outbox.retry(delivery.job_id, error, delay_s, give_up_s):
            journal.webhook_failed(delivery.job_id, delivery.attempts, error, delay_s)
        else:
            reason = f"not delivered within {give_up_s} s of the job's end; last: {error}"
            journal.webhook_dropped(delivery.job_id, reason)
