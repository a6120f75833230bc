# Migration 0020: an index on sync_logs.run_id, so Sync activity counts every change of its recent runs in SQL.
"""Sync logs by run: ix_sync_logs_run_id

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_sync_logs_run_id", "sync_logs", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_sync_logs_run_id", table_name="sync_logs")
