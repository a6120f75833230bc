"""Order polling and webhook subscriptions per shop: platform_connections gains order_cursor,
webhook_subscriptions and cross_border

- `order_cursor`: the upper bound (platform update time) of the last completed order poll. Orders
  are polled by update time from there (minus a small overlap) on a schedule and by the events
  worker, so an order whose webhook was lost or refused is applied within minutes (W9). It is
  kept while a shop is disconnected, so the orders of that time are caught up when it reconnects.
- `webhook_subscriptions`: each push code / event type and whether the platform accepted it (one
  refusal never stops the others), shown on the Connections page.
- `cross_border`: the platform says the shop is cross-border (TikTok Shop CROSS_BORDER seller).
- platform_events.kind may be `product_audit` (TikTok Shop's audit results, webhook type 5).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
OLD_KINDS = "kind IN ('order_status', 'product_change', 'stock_change', 'authorization', 'unknown')"
NEW_KINDS = "kind IN ('order_status', 'product_change', 'product_audit', 'stock_change', 'authorization', 'unknown')"


def upgrade() -> None:
    with op.batch_alter_table("platform_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_cursor", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhook_subscriptions", JSON, nullable=True))
        batch_op.add_column(sa.Column("cross_border", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_platform_events_kind"), type_="check")
        batch_op.create_check_constraint("kind", NEW_KINDS)


def downgrade() -> None:
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_platform_events_kind"), type_="check")
        batch_op.create_check_constraint("kind", OLD_KINDS)
    with op.batch_alter_table("platform_connections", schema=None) as batch_op:
        batch_op.drop_column("cross_border")
        batch_op.drop_column("webhook_subscriptions")
        batch_op.drop_column("order_cursor")
