"""SKUs unique regardless of case

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Fails loudly if two SKUs already differ only by case: the merchant must rename one first.
    op.create_index("uq_product_variants_sku_lower", "product_variants", [sa.text("lower(sku)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_product_variants_sku_lower", table_name="product_variants")
