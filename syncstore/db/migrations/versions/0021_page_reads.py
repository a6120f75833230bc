# Migration 0021: indexes the app's pages read at 100k products (the low-stock count, live listings).
"""Page reads: ix_product_variants_low_stock, ix_platform_listings_remote_status, ix_master_products_updated_at_id

- `ix_product_variants_low_stock`: the variants that have a low-stock threshold (a partial index,
  covering what the count compares), so the Overview's and the menu's low-stock count reads those
  variants only instead of scanning every variant.
- `ix_platform_listings_remote_status`: the Listings page counts the SKUs of deleted listings (few)
  to tell the live SKUs without joining every SKU to its listing.
- `ix_master_products_updated_at_id`: the Products page's first page (not deleted, newest first) read
  in index order; the (status, updated_at) index cannot give that order for two statuses at once, so
  PostgreSQL sorted the whole catalog for 50 rows.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_THRESHOLD = "low_stock_threshold IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_product_variants_low_stock", "product_variants",
        ["low_stock_threshold", "is_active", "stock", "reserved"],
        sqlite_where=sa.text(HAS_THRESHOLD), postgresql_where=sa.text(HAS_THRESHOLD),
    )  # fmt: skip
    op.create_index("ix_platform_listings_remote_status", "platform_listings", ["remote_status"])
    op.create_index("ix_master_products_updated_at_id", "master_products", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_master_products_updated_at_id", table_name="master_products")
    op.drop_index("ix_platform_listings_remote_status", table_name="platform_listings")
    op.drop_index("ix_product_variants_low_stock", table_name="product_variants")
