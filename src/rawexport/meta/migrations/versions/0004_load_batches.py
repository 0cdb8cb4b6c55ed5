"""Exactly-once incremental exports: the load batch sequence and each job's snapshot of it.

Every event row the store holds carries the sequence number of the batch that loaded it; a job
exports the rows up to its `snapshot` (and, continuing from an earlier job, after that job's
snapshot: `after_snapshot`). Jobs of earlier releases have neither and cannot be continued from.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("snapshot", sa.BigInteger))
    op.add_column("jobs", sa.Column("after_snapshot", sa.BigInteger))
    op.create_table(
        "load_batches",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("app_id", sa.String(36), nullable=False),
        sa.Column("opened_at", sa.Double, nullable=False),
        sa.Column("heartbeat_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("committed_at", sa.Double),
        sa.Column("abandoned_at", sa.Double),
        sqlite_autoincrement=True,
    )
    op.create_index("load_batches_open", "load_batches", ["committed_at", "abandoned_at", "seq"])


def downgrade() -> None:
    op.drop_index("load_batches_open", "load_batches")
    op.drop_table("load_batches")
    op.drop_column("jobs", "after_snapshot")
    op.drop_column("jobs", "snapshot")
