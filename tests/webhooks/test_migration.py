"""Revision 0003 on SQLite and PostgreSQL: a database of an earlier release gains the outbox and
its spaces' secrets (made on first use), and the revision can be taken back."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from rawexport.meta.accounts import Accounts
from rawexport.meta.db import connect
from rawexport.meta.jobs import JobQueue
from rawexport.webhooks.outbox import Outbox
from tests.meta.test_migrations import first_release_database, schema_differences

BEFORE_WEBHOOKS = "0002"


def alembic(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    """`step` (Alembic's upgrade or downgrade) to `revision`, as `meta.migrations` runs them."""
    engine = create_engine(url)
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", "rawexport.meta:migrations")
        config.attributes["connection"] = connection
        step(config, revision)
    engine.dispose()


def tables_and_space_columns(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    found = inspect(engine)
    tables = set(found.get_table_names())
    columns = {c["name"] for c in found.get_columns("spaces")}
    engine.dispose()
    return tables, columns


def test_an_earlier_database_gains_the_outbox_and_secrets_on_first_use(metadata_url: str) -> None:
    ids = first_release_database(metadata_url)

    engine = connect(metadata_url)  # embedded mode: upgraded at start, through 0002 and 0003
    try:
        assert schema_differences(engine) == []
        secret = Accounts(engine).webhook_secret(ids["space"])
        assert len(secret) == 64 and Accounts(engine).webhook_secret(ids["space"]) == secret
        assert Outbox(engine).seconds_to_next() is None
        claimed = JobQueue(engine).claim("w")  # a job of the first release, with no notify_url
        assert claimed is not None and claimed.spec.notify_url is None
        assert JobQueue(engine).fail(claimed.id, "w", "boom")
        assert Outbox(engine).seconds_to_next() is None
    finally:
        engine.dispose()


def test_the_revision_is_taken_back_and_made_again(metadata_url: str) -> None:
    first_release_database(metadata_url)
    connect(metadata_url).dispose()

    alembic(metadata_url, command.downgrade, BEFORE_WEBHOOKS)
    tables, columns = tables_and_space_columns(metadata_url)
    assert "webhook_outbox" not in tables and "webhook_secret" not in columns

    alembic(metadata_url, command.upgrade, "head")
    tables, columns = tables_and_space_columns(metadata_url)
    assert "webhook_outbox" in tables and "webhook_secret" in columns
