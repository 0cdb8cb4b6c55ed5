"""The metadata tables: spaces, users, apps, grants, the export job queue, the webhook outbox
and the load batches.

Times are UNIX seconds in double precision so SQLite and PostgreSQL store and compare them alike;
they are written by the database's clock (`meta/clock.py`). The tables change only through the
migrations of `meta/migrations/`, which must describe the same schema as this module.
Ids are UUID strings; an app id has the form of the published example
`af0606ed-bbdc-065a-952c-0d92561f107c`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "apps",
    "grants",
    "jobs",
    "load_batches",
    "metadata",
    "spaces",
    "users",
    "webhook_outbox",
]

metadata = MetaData()

_ID = String(36)
_SHA256_HEX = String(64)

spaces = Table(
    "spaces",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    # The key of its jobs' webhook signatures, made when first needed. Kept readable: signing
    # needs the secret itself, not a hash of it.
    Column("webhook_secret", _SHA256_HEX),
)

users = Table(
    "users",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("space_id", _ID, ForeignKey("spaces.id"), nullable=False),
    Column("email", Text, nullable=False),
    Column("token_hash", _SHA256_HEX, nullable=False, unique=True),
    Column("api_access", Boolean, nullable=False),
    Column("raw_export_access", Boolean, nullable=False),
    Column("created_at", Double, nullable=False),
    UniqueConstraint("space_id", "email"),
)

apps = Table(
    "apps",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("space_id", _ID, ForeignKey("spaces.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("ingest_key_hash", _SHA256_HEX, nullable=False),
    Column("created_at", Double, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("user_id", _ID, ForeignKey("users.id"), primary_key=True),
    Column("app_id", _ID, ForeignKey("apps.id"), primary_key=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("user_id", _ID, ForeignKey("users.id"), nullable=False),
    Column("space_id", _ID, ForeignKey("spaces.id"), nullable=False),
    Column("app_id", _ID, ForeignKey("apps.id"), nullable=False),
    Column("spec", Text, nullable=False),
    Column("format", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("percent", Integer, nullable=False, default=0),
    Column("created_at", Double, nullable=False),
    Column("started_at", Double),
    Column("finished_at", Double),
    Column("heartbeat_at", Double),
    Column("worker_id", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("report_key", Text),  # where the report store keeps the ZIP, e.g. `JOB.zip`
    Column("report_size", BigInteger),
    Column("rows", BigInteger),
    Column("empty", Boolean),
    Column("ttl_s", Integer),  # the report lifetime set at completion, so every node answers alike
    Column("expires_at", Double),
    Column("downloads", Integer, nullable=False, default=0),
    # continue_from: the last load batch the job exports, and the one it continues after.
    Column("snapshot", BigInteger),
    Column("after_snapshot", BigInteger),
    # claim: the oldest pending job; requeue: running jobs by heartbeat age.
    Index("jobs_status_created", "status", "created_at"),
    Index("jobs_status_heartbeat", "status", "heartbeat_at"),
    # quotas: a user's last and today's jobs, a user's unfinished jobs, a space's jobs today.
    Index("jobs_user_created", "user_id", "created_at"),
    Index("jobs_user_status", "user_id", "status"),
    Index("jobs_space_created", "space_id", "created_at"),
    # the sweeper: reports whose lifetime is over.
    Index("jobs_expires", "expires_at"),
)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    # One notification per job, written in the transaction that ends the job.
    Column("job_id", _ID, ForeignKey("jobs.id"), primary_key=True),
    Column("space_id", _ID, ForeignKey("spaces.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),  # the exact JSON that is sent and signed
    Column("created_at", Double, nullable=False),
    Column("next_attempt_at", Double, nullable=False),  # also the lease of a claimed delivery
    Column("attempts", Integer, nullable=False, default=0),
    Column("delivered_at", Double),
    Column("last_error", Text),
    # deliverers: the undelivered rows that are due.
    Index("webhook_outbox_due", "delivered_at", "next_attempt_at"),
)

load_batches = Table(
    "load_batches",
    metadata,
    # The batch sequence stamped on every stored event row (`_batch`); AUTOINCREMENT: SQLite
    # never hands out a number again, even the largest one's after a rollback.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("app_id", _ID, nullable=False),
    Column("opened_at", Double, nullable=False),
    Column("heartbeat_at", Double, nullable=False),
    Column("expires_at", Double, nullable=False),  # the end of the loader's lease
    Column("committed_at", Double),
    Column("abandoned_at", Double),
    # The low watermark: the open batches, the smallest first.
    Index("load_batches_open", "committed_at", "abandoned_at", "seq"),
    sqlite_autoincrement=True,
)
