"""`job list`: a table people read, filters, and the expired marker; `--json` for scripts."""

from __future__ import annotations

import time

from sqlalchemy import Engine, case, update

from rawexport.cli.common import runtime_for
from rawexport.cli.main import cli
from rawexport.domain.jobspec import JobSpec
from rawexport.domain.quotas import Limits
from rawexport.meta.schema import jobs
from tests.cli.conftest import Operator

UNLIMITED = Limits(10**6, 10**6, 10**6, 0)
DAY = 86_400
START = 1_700_000_000


def _jobs(operator: Operator) -> dict[str, str]:
    """Four jobs of one user: complete, complete and expired, failed, pending; one of a decoy
    app. Returns their ids by what they are."""
    studio = operator.json("space", "create", "Studio")["space_id"]
    user_id = operator.json("user", "create", "--space", studio, "--email", "a@s.io")["user_id"]
    app = operator.json("app", "create", "--space", studio, "Game")["app_id"]
    decoy_app = operator.json("app", "create", "--space", studio, "Decoy")["app_id"]
    now = time.time()
    ids: dict[str, str] = {}
    with runtime_for(operator.data_dir) as rt:
        user, _ = rt.accounts.user(user_id)
        for n, name in enumerate(("expired", "complete", "failed", "pending", "decoy")):
            target = decoy_app if name == "decoy" else app
            ids[name] = rt.jobs.submit(user, JobSpec(target, START, START + DAY, ()), UNLIMITED)
            if name not in ("pending", "decoy"):
                claimed = rt.jobs.claim("w1")
                assert claimed is not None and claimed.id == ids[name]
                if name == "failed":
                    rt.jobs.fail(claimed.id, "w1", "the disk is full")
                else:
                    rt.jobs.complete(
                        claimed.id,
                        "w1",
                        report_key="x.zip",
                        size=2_500_000,
                        rows=12_345,
                        empty=False,
                        ttl_s=DAY,
                    )
            # The queue keeps the database's time; the listing is tested on chosen moments.
            created = now - 2 * DAY + n * 60 if name == "expired" else now - 600 + n * 60
            _set_times(rt.engine, ids[name], created)
    ids["app"], ids["user"] = app, user_id
    return ids


def _set_times(engine: Engine, job_id: str, created: float) -> None:
    """The job was submitted at `created` and, if it ended, took 95 s and lives a day."""
    ended = jobs.c.finished_at.is_not(None)
    finished = case((ended, created + 95), else_=None)
    moments = {
        "created_at": created,
        "started_at": case((jobs.c.started_at.is_not(None), created + 1), else_=None),
        "finished_at": finished,
        "expires_at": case((jobs.c.expires_at.is_not(None), created + 95 + DAY), else_=None),
    }
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(moments))


def test_job_list_is_a_table_with_times_sizes_and_markers(operator: Operator) -> None:
    ids = _jobs(operator)
    table = operator.text("job", "list")
    lines = {line.split()[0]: line for line in table.splitlines() if line.split()}
    assert "complete (expired)" in lines[ids["expired"]]
    assert "expired" not in lines[ids["complete"]]
    assert "12,345" in lines[ids["complete"]] and "2.5 MB" in lines[ids["complete"]]
    assert "1 min 35 s" in lines[ids["complete"]]  # from setjob to the end of the job
    assert "the disk is full" in lines[ids["failed"]]
    assert "None" not in table and "{" not in table


def test_job_list_filters_by_app_status_and_user(operator: Operator) -> None:
    ids = _jobs(operator)
    mine = operator.json("job", "list", "--app", ids["app"])["jobs"]
    assert ids["decoy"] not in {j["id"] for j in mine} and len(mine) == 4
    failed = operator.json("job", "list", "--status", "failed")["jobs"]
    assert [(j["id"], j["error"]) for j in failed] == [(ids["failed"], "the disk is full")]
    assert len(operator.json("job", "list", "--user", ids["user"])["jobs"]) == 5
    assert operator.json("job", "list", "--user", "someone-else")["jobs"] == []
    expired = {j["id"]: j["expired"] for j in operator.json("job", "list")["jobs"]}
    assert expired[ids["expired"]] and not expired[ids["complete"]]


def test_job_cancel_fails_a_pending_job_with_code_1_and_refuses_an_ended_one(
    operator: Operator,
) -> None:
    ids = _jobs(operator)

    cancelled = operator.json("job", "cancel", ids["pending"])

    assert cancelled == {
        "job_id": ids["pending"],
        "status": "failed",
        "error": "cancelled by the operator",
    }
    shown = operator.json("job", "show", ids["pending"])
    assert (shown["status"], shown["error"]) == ("failed", "cancelled by the operator")
    assert operator.json("job", "show", ids["decoy"])["status"] == "pending"  # only that one
    again = operator.runner.invoke(
        cli, ["job", "cancel", ids["complete"], "--data-dir", str(operator.data_dir)]
    )
    assert again.exit_code == 1
    assert "has already ended (complete)" in again.stderr
