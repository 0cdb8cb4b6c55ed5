"""The versioned schema: a database of the first release upgraded with its data, and who may
upgrade what (embedded mode at start, a shared database only by `rawexport db upgrade`)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, insert, inspect, text

from rawexport.domain.jobspec import JobSpec
from rawexport.domain.states import JobStatus
from rawexport.meta.accounts import Accounts
from rawexport.meta.db import SchemaNewer, SchemaOutdated, connect
from rawexport.meta.jobs import JobQueue
from rawexport.meta.migrations import FIRST_RELEASE, head, revision_of
from rawexport.meta.schema import metadata
from tests.meta import first_release_schema as first

TOKEN = "first-release-token"
T0 = 1_790_000_000.0


def first_release_database(url: str) -> dict[str, str]:
    """A database as the first release left it: its tables, no alembic_version, a few rows.

    Returns the ids of what it holds.
    """
    ids = {name: str(uuid.uuid4()) for name in ("space", "user", "app", "decoy_user")}
    ids |= {name: str(uuid.uuid4()) for name in ("published", "swept", "pending", "failed")}
    spec = JobSpec(ids["app"], 1_700_000_000, 1_700_086_400, events=(), format="jsonl")
    engine = create_engine(url)
    first.metadata.create_all(engine)
    job = {
        "user_id": ids["user"],
        "space_id": ids["space"],
        "app_id": ids["app"],
        "spec": spec.to_json(),
        "format": "jsonl",
        "percent": 100,
        "created_at": T0,
        "attempts": 0,
        "downloads": 0,
    }
    finished = {"started_at": T0 + 1, "finished_at": T0 + 2, "expires_at": T0 + 2 + 86400}
    with engine.begin() as conn:
        conn.execute(insert(first.spaces).values(id=ids["space"], name="studio", created_at=T0))
        for user, email, token in (
            (ids["user"], "ann@x.io", TOKEN),
            (ids["decoy_user"], "b@x.io", "t2"),
        ):
            conn.execute(
                insert(first.users).values(
                    id=user,
                    space_id=ids["space"],
                    email=email,
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    api_access=True,
                    raw_export_access=True,
                    created_at=T0,
                )
            )
        conn.execute(
            insert(first.apps).values(
                id=ids["app"],
                space_id=ids["space"],
                name="game",
                ingest_key_hash="0" * 64,
                created_at=T0,
            )
        )
        conn.execute(insert(first.grants).values(user_id=ids["user"], app_id=ids["app"]))
        rows: list[dict[str, Any]] = [
            {
                **job,
                **finished,
                "id": ids["published"],
                "status": "complete",
                "report_path": f"/srv/rawexport/data/reports/{ids['published']}.zip",
                "report_size": 4096,
                "rows": 17,
                "empty": False,
                "downloads": 2,
            },
            {**job, **finished, "id": ids["swept"], "status": "complete", "report_path": None},
            {**job, "id": ids["pending"], "status": "pending", "percent": 0},
            {**job, "id": ids["failed"], "status": "failed", "error": "boom", "attempts": 1},
        ]
        for row in rows:
            conn.execute(insert(first.jobs).values(row))
    engine.dispose()
    return ids


def db_upgrade(url: str, data_dir: Path) -> dict[str, Any]:
    env = {**os.environ, "RAWEXPORT_DATABASE_URL": url}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rawexport.cli.main",
            "db",
            "upgrade",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_db_upgrade_keeps_the_data_of_a_first_release_database(
    metadata_url: str, tmp_path: Path
) -> None:
    ids = first_release_database(metadata_url)

    upgraded = db_upgrade(metadata_url, tmp_path)
    again = db_upgrade(metadata_url, tmp_path)

    assert (upgraded["before"], upgraded["after"], upgraded["upgraded"]) == (
        FIRST_RELEASE,
        head(),
        True,
    )
    assert (again["before"], again["upgraded"]) == (head(), False)
    engine = connect(metadata_url, upgrade_existing=False)
    try:
        assert schema_differences(engine) == []
        accounts, queue = Accounts(engine), JobQueue(engine)
        user = accounts.user_by_token(TOKEN)
        assert user is not None and (user.id, user.email) == (ids["user"], "ann@x.io")
        assert accounts.has_grant(ids["user"], ids["app"])
        assert not accounts.has_grant(ids["decoy_user"], ids["app"])
        published = queue.get(ids["published"])
        assert published is not None
        assert (published.status, published.report_key, published.ttl_s) == (
            JobStatus.COMPLETE,
            f"{ids['published']}.zip",
            86400,
        )
        assert (published.report_size, published.rows, published.downloads) == (4096, 17, 2)
        assert published.spec.app_id == ids["app"] and published.format == "jsonl"
        swept = queue.get(ids["swept"])
        assert swept is not None and swept.report_key is None and swept.expired
        failed = queue.get(ids["failed"])
        assert failed is not None and (failed.error, failed.attempts) == ("boom", 1)
        claimed = queue.claim("new-release-worker")
        assert claimed is not None and claimed.id == ids["pending"]
    finally:
        engine.dispose()


def test_embedded_mode_upgrades_a_first_release_database_at_start(metadata_url: str) -> None:
    ids = first_release_database(metadata_url)

    engine = connect(metadata_url)
    try:
        with engine.connect() as conn:
            assert revision_of(conn) == head()
        published = JobQueue(engine).get(ids["published"])
        assert published is not None and published.report_key == f"{ids['published']}.zip"
    finally:
        engine.dispose()


def test_a_shared_database_is_left_to_the_operator(metadata_url: str) -> None:
    first_release_database(metadata_url)

    with pytest.raises(SchemaOutdated, match="run `rawexport db upgrade`"):
        connect(metadata_url, upgrade_existing=False)

    engine = create_engine(metadata_url)
    try:
        assert "report_path" in {c["name"] for c in inspect(engine).get_columns("jobs")}
    finally:
        engine.dispose()


def test_an_empty_database_is_made_at_the_current_revision(metadata_url: str) -> None:
    engine = connect(metadata_url, upgrade_existing=False)
    try:
        with engine.connect() as conn:
            assert revision_of(conn) == head()
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def later_release_database(url: str) -> None:
    connect(url).dispose()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("upgrade_existing", [True, False], ids=["embedded", "shared"])
def test_a_database_of_a_later_release_is_refused_in_one_line(
    metadata_url: str, upgrade_existing: bool
) -> None:
    later_release_database(metadata_url)

    with pytest.raises(SchemaNewer, match="at revision 9999, made by a later release"):
        connect(metadata_url, upgrade_existing=upgrade_existing)


def test_db_upgrade_leaves_a_later_release_database_alone(
    metadata_url: str, tmp_path: Path
) -> None:
    later_release_database(metadata_url)

    done = subprocess.run(
        [sys.executable, "-m", "rawexport.cli.main", "db", "upgrade", "--data-dir", str(tmp_path)],
        env={**os.environ, "RAWEXPORT_DATABASE_URL": metadata_url},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: the metadata database is at revision 9999, made by a later release than this one"
        f" (which knows revisions up to {head()}): run that release or a newer one"
    ]
