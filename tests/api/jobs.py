"""Submitting a job and waiting for it, as the API tests do over any `Api`."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.api.conftest import Api
from tests.conftest import Account

__all__ = ["API", "NOW", "post_setjob", "progress", "rows", "submit", "wait_done"]

NOW = int(time.time())
API = "/api/v1/rawexport"


def rows() -> list[dict[str, Any]]:
    return [
        {
            "event": "tr",
            "devtodev ID": uid,
            "time": (NOW - 600 + uid) * 1000,
            "step": 1,
            "level": 1,
            "isTester": False,
            "cheat": False,
            "install_date": NOW - 86400,
        }
        for uid in range(1, 6)
    ]


def post_setjob(server: Api, acc: Account, **extra: Any) -> httpx.Response:
    """setjob for `acc`'s app, `tr` events of the hour before NOW, unless `extra` says otherwise."""
    body = {
        "user_token": acc.token,
        "app_id": acc.app_id,
        "start_date": NOW - 3600,
        "end_date": NOW,
        "events": ["tr"],
        **extra,
    }
    return server.client.post(f"{API}/setjob", json=body)


def submit(server: Api, acc: Account, **extra: Any) -> str:
    response = post_setjob(server, acc, **extra)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["data"]
    return job_id


def progress(server: Api, token: str, job_id: str) -> httpx.Response:
    return server.client.get(f"{API}/getprogress", params={"user_token": token, "job_id": job_id})


def wait_done(server: Api, token: str, job_id: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = progress(server, token, job_id)
        if response.status_code not in (200, 202) or response.json()["data"]["status"] not in (
            "pending",
            "running",
        ):
            return response
        time.sleep(0.05)
    raise AssertionError("job did not finish")
