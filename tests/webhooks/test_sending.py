"""One POST: addresses are checked after resolution, and nothing is sent to a refused one."""

from __future__ import annotations

import re

import pytest

from rawexport.webhooks.allowlist import Allowlist, Target
from rawexport.webhooks.sending import WebhookError, post
from tests.webhooks.receiver import Receiver


def send(allowlist: Allowlist, target: Target, url: str) -> int:
    return post(allowlist, target, url, job_id="J", body=b"{}", secret="s", timeout_s=5)


def test_an_address_resolved_into_a_refused_range_gets_nothing(receiver: Receiver) -> None:
    port = int(receiver.url.rsplit(":", 1)[1])
    allowlist = Allowlist.parse(f"localhost:{port}")
    # As if the allowed name had come to resolve to the unspecified address, which reaches
    # this machine's listeners.
    url = f"http://localhost:{port}/hook"
    rebound = Target("http", "0.0.0.0", port)

    refused = re.escape("resolves to 0.0.0.0, which webhooks may not reach")
    with pytest.raises(WebhookError, match=refused):
        send(allowlist, rebound, url)
    assert receiver.requests == []

    assert send(allowlist, allowlist.target(url), url) == 200  # resolved as it should be
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_a_name_that_does_not_resolve_is_an_error_to_retry() -> None:
    allowlist = Allowlist.parse("no-such-host.invalid")
    target = allowlist.target("http://no-such-host.invalid/hook")
    with pytest.raises(WebhookError, match=re.escape("no-such-host.invalid could not be resolved")):
        send(allowlist, target, "http://no-such-host.invalid/hook")
