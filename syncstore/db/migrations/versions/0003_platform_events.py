"""Normalized platform events (the pipelines' work queue) and a retention index on webhook_logs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "platform_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("webhook_log_id", BIG_ID, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('order_status', 'product_change', 'stock_change', 'authorization', 'unknown')",
            name=op.f("ck_platform_events_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processed', 'ignored', 'failed')", name=op.f("ck_platform_events_status")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_log_id"],
            ["webhook_logs.id"],
            name=op.f("fk_platform_events_webhook_log_id_webhook_logs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_events")),
        sa.UniqueConstraint("webhook_log_id", name=op.f("uq_platform_events_webhook_log_id")),
    )
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_events_status_id"), ["status", "id"], unique=False)
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_logs_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_logs_received_at"))
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_events_status_id"))
    op.drop_table("platform_events")
