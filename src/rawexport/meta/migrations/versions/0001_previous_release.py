"""The schema of the first release, which made its tables with `create_all` and no revision.

Written out here, not imported from `schema.py`: a revision describes the schema of its time.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(36)
_SHA256_HEX = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("space_id", _ID, sa.ForeignKey("spaces.id"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("token_hash", _SHA256_HEX, nullable=False, unique=True),
        sa.Column("api_access", sa.Boolean, nullable=False),
        sa.Column("raw_export_access", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.UniqueConstraint("space_id", "email"),
    )
    op.create_table(
        "apps",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("space_id", _ID, sa.ForeignKey("spaces.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("ingest_key_hash", _SHA256_HEX, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("user_id", _ID, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("app_id", _ID, sa.ForeignKey("apps.id"), primary_key=True),
    )
    op.create_table(
        "jobs",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("user_id", _ID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("space_id", _ID, sa.ForeignKey("spaces.id"), nullable=False),
        sa.Column("app_id", _ID, sa.ForeignKey("apps.id"), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("percent", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("started_at", sa.Double),
        sa.Column("finished_at", sa.Double),
        sa.Column("heartbeat_at", sa.Double),
        sa.Column("worker_id", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("report_path", sa.Text),
        sa.Column("report_size", sa.BigInteger),
        sa.Column("rows", sa.BigInteger),
        sa.Column("empty", sa.Boolean),
        sa.Column("expires_at", sa.Double),
        sa.Column("downloads", sa.Integer, nullable=False),
    )
    for name, columns in (
        ("jobs_status_created", ["status", "created_at"]),
        ("jobs_status_heartbeat", ["status", "heartbeat_at"]),
        ("jobs_user_created", ["user_id", "created_at"]),
        ("jobs_user_status", ["user_id", "status"]),
        ("jobs_space_created", ["space_id", "created_at"]),
        ("jobs_expires", ["expires_at"]),
    ):
        op.create_index(name, "jobs", columns)


def downgrade() -> None:
    for table in ("jobs", "grants", "apps", "users", "spaces"):
        op.drop_table(table)
