"""The versioned metadata schema: Alembic revisions shipped inside the package.

Alembic is configured here, not by an alembic.ini: the revisions run on a connection handed to
`env.py`, inside one transaction that holds a lock (PostgreSQL: an advisory lock; SQLite: the
write lock that every transaction of `connect` takes at BEGIN), so processes starting together
upgrade one after the other and the later ones find nothing left to do.

The first release made its tables without Alembic; such a database (tables, no
`alembic_version`) is stamped at revision 0001, the schema that release made, and upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select

__all__ = [
    "FIRST_RELEASE",
    "SchemaNewer",
    "Upgrade",
    "head",
    "is_known",
    "revision_of",
    "upgrade",
]

FIRST_RELEASE = "0001"
"""The revision whose schema the first release made with `create_all`."""

_LOCK_KEY = 0x72617765  # "rawe": one advisory lock id for every rawexport migration


class SchemaNewer(ValueError):
    """The database was upgraded by a later release, whose schema this one does not know."""

    def __init__(self, found: str, expected: str) -> None:
        super().__init__(
            f"the metadata database is at revision {found}, made by a later release than this"
            f" one (which knows revisions up to {expected}): run that release or a newer one"
        )


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: `before` is None for a database that had no tables."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "rawexport.meta:migrations")
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this release's code expects."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def is_known(revision: str) -> bool:
    """Whether this release ships `revision`: a later release's database is not one to touch."""
    return revision in {r.revision for r in ScriptDirectory.from_config(_config()).walk_revisions()}


def revision_of(connection: Connection) -> str | None:
    """The database's revision; FIRST_RELEASE for a first-release database, None when empty."""
    stamped = MigrationContext.configure(connection).get_current_revision()
    if stamped is None and inspect(connection).has_table("jobs"):
        return FIRST_RELEASE
    return stamped


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to `head()`, creating every table of an empty one."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
        before = revision_of(connection)
        if before is not None and not is_known(before):
            raise SchemaNewer(before, head())
        config = _config(connection)
        if before == FIRST_RELEASE:
            command.stamp(config, FIRST_RELEASE)
        command.upgrade(config, "head")
        return Upgrade(before, head())
