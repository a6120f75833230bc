# Migration 0011: sync plans, so the plan catalog_diff computes is the one listing_sync applies and the app shows.
"""Sync plans: sync_plans

- `sync_plans`: one shop's plan as `catalog_diff` computed it (typed changes stored as JSON,
  conflicts, lagging baselines, a summary and the API calls it costs), keyed by the catalog and
  snapshot versions it was computed from. `listing_sync` applies the latest plan while it is
  current and plans again only the products edited since; the app's dry run reads it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sync_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("catalog_version", sa.String(length=64), nullable=False),
        sa.Column("snapshot_version", sa.String(length=64), nullable=False),
        sa.Column("catalog_stamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("conflicts", JSON, nullable=False),
        sa.Column("baselines", JSON, nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("applied_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_sync_plans_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_plans")),
        sa.CheckConstraint("status IN ('planned', 'applied', 'superseded')", name=op.f("ck_sync_plans_status")),
    )
    with op.batch_alter_table("sync_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_plans_connection_id_id"), ["connection_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_plans_connection_id_id"))
    op.drop_table("sync_plans")
