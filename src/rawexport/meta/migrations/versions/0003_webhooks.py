"""Completion webhooks: each space's signing secret, and the outbox of notifications to send.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.String(36)


def upgrade() -> None:
    # Spaces of earlier releases get their secret when a webhook or the operator first asks.
    op.add_column("spaces", sa.Column("webhook_secret", sa.String(64)))
    op.create_table(
        "webhook_outbox",
        sa.Column("job_id", _ID, sa.ForeignKey("jobs.id"), primary_key=True),
        sa.Column("space_id", _ID, sa.ForeignKey("spaces.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("next_attempt_at", sa.Double, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("delivered_at", sa.Double),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("webhook_outbox_due", "webhook_outbox", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("webhook_outbox_due", "webhook_outbox")
    op.drop_table("webhook_outbox")
    op.drop_column("spaces", "webhook_secret")
