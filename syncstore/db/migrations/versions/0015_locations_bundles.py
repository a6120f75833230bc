# Migration 0015: stock locations, per-location stock, shop stock sources, bundle components, ledger location.
"""Locations and bundles: stock_locations, location_stock, shop_stock_sources, bundle_components

- `stock_locations`: where stock is kept; exactly one default (a partial unique index), inserted here
  as "Main warehouse". `product_variants.stock`/`.reserved` stay the totals over every location.
- `location_stock`: on hand and reserved of a variant at a NON-default location; the default's
  quantities are the totals minus these rows (a merchant with one location has no rows).
- `shop_stock_sources`: the locations whose stock a shop sells (no rows: every active location).
- `bundle_components`: a bundle variant's components and their quantities.
- `inventory_history.location_id`: the location a ledger row changed (NULL on old rows: the default).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stock_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_locations")),
        sa.UniqueConstraint("name", name=op.f("uq_stock_locations_name")),
    )
    op.create_index(
        "uq_stock_locations_default", "stock_locations", ["is_default"], unique=True,
        sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"),
    )  # fmt: skip
    op.create_table(
        "location_stock",
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_location_stock_on_hand_non_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_location_stock_reserved_non_negative")),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["product_variants.id"], name=op.f("fk_location_stock_variant_id_product_variants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["stock_locations.id"], name=op.f("fk_location_stock_location_id_stock_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("variant_id", "location_id", name=op.f("pk_location_stock")),
    )  # fmt: skip
    op.create_index(op.f("ix_location_stock_location_id"), "location_stock", ["location_id"], unique=False)
    op.create_table(
        "shop_stock_sources",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["platform_connections.id"],
            name=op.f("fk_shop_stock_sources_connection_id_platform_connections"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["stock_locations.id"],
            name=op.f("fk_shop_stock_sources_location_id_stock_locations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "location_id", name=op.f("pk_shop_stock_sources")),
    )  # fmt: skip
    op.create_table(
        "bundle_components",
        sa.Column("bundle_variant_id", sa.Integer(), nullable=False),
        sa.Column("component_variant_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_bundle_components_quantity_positive")),
        sa.CheckConstraint("bundle_variant_id <> component_variant_id", name=op.f("ck_bundle_components_not_self")),
        sa.ForeignKeyConstraint(
            ["bundle_variant_id"], ["product_variants.id"],
            name=op.f("fk_bundle_components_bundle_variant_id_product_variants"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["component_variant_id"], ["product_variants.id"],
            name=op.f("fk_bundle_components_component_variant_id_product_variants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bundle_variant_id", "component_variant_id", name=op.f("pk_bundle_components")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_bundle_components_component_variant_id"), "bundle_components", ["component_variant_id"], unique=False
    )
    with op.batch_alter_table("inventory_history", schema=None, reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inventory_history_location_id_stock_locations"), "stock_locations", ["location_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
    locations = sa.table(
        "stock_locations",
        sa.column("name", sa.String),
        sa.column("is_default", sa.Boolean),
        sa.column("is_active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        locations.insert().values(name="Main warehouse", is_default=True, is_active=True, created_at=sa.func.now())
    )


def downgrade() -> None:
    with op.batch_alter_table("inventory_history", schema=None, reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_inventory_history_location_id_stock_locations"), type_="foreignkey")
        batch_op.drop_column("location_id")
    op.drop_index(op.f("ix_bundle_components_component_variant_id"), table_name="bundle_components")
    op.drop_table("bundle_components")
    op.drop_table("shop_stock_sources")
    op.drop_index(op.f("ix_location_stock_location_id"), table_name="location_stock")
    op.drop_table("location_stock")
    op.drop_index("uq_stock_locations_default", table_name="stock_locations")
    op.drop_table("stock_locations")
