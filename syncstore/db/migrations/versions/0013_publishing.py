# Migration 0013: publishing: the per-shop category cache, attribute defaults and overrides, logistics choice.
"""Publishing: remote_categories, remote_category_attributes, remote_brands, product_attribute_values,
shop_publishing; category_mappings.default_attributes and brand_id.

- `remote_categories` / `remote_category_attributes` / `remote_brands`: each shop's platform category
  tree, a category's attributes (mandatory, input type, allowed values) and brands, with fetched_at.
- `category_mappings` gains default attribute values and a brand; `product_attribute_values` holds a
  product's own values per platform (they win over the defaults).
- `shop_publishing`: per shop, the logistics channels and locations fetched, and the Admin's choice.

Revision ID: 0013
Revises: 0012 (chained after 0012 when branches pubcore and media were merged into app)
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = sa.DateTime(timezone=True)


def _connection_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["connection_id"], ["platform_connections.id"],
        name=op.f(f"fk_{table}_connection_id_platform_connections"), ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("category_mappings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_attributes", JSON, nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("brand_id", sa.String(length=64), nullable=True))
    op.create_table(
        "remote_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("is_leaf", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", TIME, nullable=False),
        sa.Column("attributes_fetched_at", TIME, nullable=True),
        _connection_fk("remote_categories"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_categories")),
        sa.UniqueConstraint("connection_id", "category_id",
                            name=op.f("uq_remote_categories_connection_id_category_id")),
    )  # fmt: skip
    op.create_table(
        "remote_category_attributes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("attribute_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("input_type", sa.String(length=20), nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("custom_allowed", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", TIME, nullable=False),
        _connection_fk("remote_category_attributes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_category_attributes")),
        sa.UniqueConstraint("connection_id", "category_id", "attribute_id",
                            name=op.f("uq_remote_category_attributes_connection_id_category_id_attribute_id")),
    )  # fmt: skip
    op.create_table(
        "remote_brands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("fetched_at", TIME, nullable=False),
        _connection_fk("remote_brands"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_brands")),
        sa.UniqueConstraint("connection_id", "category_id", "brand_id",
                            name=op.f("uq_remote_brands_connection_id_category_id_brand_id")),
    )  # fmt: skip
    op.create_table(
        "product_attribute_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("attribute_id", sa.String(length=64), nullable=False),
        sa.Column("value_ids", JSON, nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["master_products.id"],
                                name=op.f("fk_product_attribute_values_product_id_master_products"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_attribute_values")),
        sa.UniqueConstraint("product_id", "platform", "attribute_id",
                            name=op.f("uq_product_attribute_values_product_id_platform_attribute_id")),
    )  # fmt: skip
    op.create_table(
        "shop_publishing",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("locations", JSON, nullable=False),
        sa.Column("fetched_at", TIME, nullable=True),
        sa.Column("logistics_channel_ids", JSON, nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        _connection_fk("shop_publishing"),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_shop_publishing")),
    )


def downgrade() -> None:
    for table in (
        "shop_publishing", "product_attribute_values", "remote_brands", "remote_category_attributes",
        "remote_categories",
    ):  # fmt: skip
        op.drop_table(table)
    with op.batch_alter_table("category_mappings", schema=None) as batch_op:
        batch_op.drop_column("brand_id")
        batch_op.drop_column("default_attributes")
