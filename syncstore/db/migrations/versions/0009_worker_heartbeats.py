# Migration 0009: worker heartbeats, so Dagster's queue sensors stay quiet while the events worker runs.
"""Worker heartbeats: worker_heartbeats

- `worker_heartbeats`: one row per long-running worker process (its id, kind, host and pid, when
  it started and when it was last seen). The events worker refreshes its row every
  SYNCSTORE_WORKER_HEARTBEAT_SECONDS and deletes it when it stops; Dagster's outbox and events
  sensors launch runs only when no row of kind `events` is fresh (the fallback when no worker runs).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worker_heartbeats_kind_last_seen_at"), ["kind", "last_seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_kind_last_seen_at"))
    op.drop_table("worker_heartbeats")
