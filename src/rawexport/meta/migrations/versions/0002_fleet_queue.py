"""The queue of a fleet: reports known by a storage key, and the lifetime kept with the job.

`report_path` held a local path (`DATA_DIR/reports/JOB.zip`) that meant nothing on another
machine; `report_key` holds the name under which the report store keeps the file, which for the
reports of the previous release is the file name of that path. `ttl_s` is the report lifetime
the completing worker applied, so that every API node answers `ttl` alike; older reports get it
back from their expiry.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from pathlib import PurePath

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_jobs = sa.table(
    "jobs",
    sa.column("id", sa.String),
    sa.column("report_key", sa.Text),
    sa.column("finished_at", sa.Double),
    sa.column("expires_at", sa.Double),
    sa.column("ttl_s", sa.Integer),
)


def upgrade() -> None:
    op.alter_column("jobs", "report_path", new_column_name="report_key")
    op.add_column("jobs", sa.Column("ttl_s", sa.Integer))
    connection = op.get_bind()
    # A path's file name has no portable SQL spelling; only reports not yet swept have one.
    stored = connection.execute(
        sa.select(_jobs.c.id, _jobs.c.report_key).where(_jobs.c.report_key.is_not(None))
    ).all()
    for job_id, path in stored:
        key = PurePath(path).name
        connection.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(report_key=key))
    lifetime = sa.func.round(_jobs.c.expires_at - _jobs.c.finished_at)
    op.execute(sa.update(_jobs).where(_jobs.c.expires_at.is_not(None)).values(ttl_s=lifetime))


def downgrade() -> None:
    op.drop_column("jobs", "ttl_s")
    op.alter_column("jobs", "report_key", new_column_name="report_path")
