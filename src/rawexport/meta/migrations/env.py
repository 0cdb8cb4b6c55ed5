"""Alembic's entry point: run the revisions on the connection `upgrade()` hands over.

There is no alembic.ini and no URL here: the caller holds the connection, its transaction and its
lock (see `rawexport.meta.migrations`), so the revisions run inside them.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from rawexport.meta.schema import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
