# Migration 0017: orders and their lines as rows, and an index that finds an order's ledger rows by key prefix.
"""Orders: orders, order_lines

- `orders`: one row per marketplace order seen (webhook or poll), unique per connection and order id, with
  its normalized and raw status, the platform's update time of that status, when SyncStore first and last
  saw it, and its line and unit counts.
- `order_lines`: one row per order line, unique per order and line id, with the master variant it bound to.
- `inventory_history.idempotency_key` gets a `varchar_pattern_ops` index on PostgreSQL so that an order's
  ledger rows (`LIKE '<platform>:<shop>:<order>:%'`) are an index range scan whatever the collation; on
  SQLite the same index is partial and empty (`WHERE 0`): SQLite reads those rows by range on the unique index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PREFIX_INDEX = "ix_inventory_history_idempotency_key_prefix"


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", _BIGID, nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raw_status", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["platform_connections.id"],
            name=op.f("fk_orders_connection_id_platform_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("connection_id", "order_id", name=op.f("uq_orders_connection_id_order_id")),
    )
    op.create_index(op.f("ix_orders_first_seen_at_id"), "orders", ["first_seen_at", "id"], unique=False)
    op.create_index(op.f("ix_orders_status_first_seen_at"), "orders", ["status", "first_seen_at"], unique=False)
    op.create_index(op.f("ix_orders_order_id"), "orders", ["order_id"], unique=False)
    op.create_table(
        "order_lines",
        sa.Column("id", _BIGID, nullable=False),
        sa.Column("order_row_id", _BIGID, nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("sku_id", sa.String(length=64), nullable=False),
        sa.Column("seller_sku", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("cancelled_quantity", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_row_id"], ["orders.id"], name=op.f("fk_order_lines_order_row_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_order_lines_variant_id_product_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_row_id", "line_id", name=op.f("uq_order_lines_order_row_id_line_id")),
    )
    op.create_index(op.f("ix_order_lines_variant_id"), "order_lines", ["variant_id"], unique=False)
    op.create_index(op.f("ix_order_lines_seller_sku"), "order_lines", ["seller_sku"], unique=False)
    # PostgreSQL: LIKE '<prefix>%' as an index range whatever the collation. SQLite: empty (reads by range).
    op.create_index(
        _PREFIX_INDEX,
        "inventory_history",
        ["idempotency_key"],
        postgresql_ops={"idempotency_key": "varchar_pattern_ops"},
        sqlite_where=sa.text("0"),
    )


def downgrade() -> None:
    op.drop_index(_PREFIX_INDEX, table_name="inventory_history")
    op.drop_index(op.f("ix_order_lines_seller_sku"), table_name="order_lines")
    op.drop_index(op.f("ix_order_lines_variant_id"), table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_index(op.f("ix_orders_order_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_status_first_seen_at"), table_name="orders")
    op.drop_index(op.f("ix_orders_first_seen_at_id"), table_name="orders")
    op.drop_table("orders")
