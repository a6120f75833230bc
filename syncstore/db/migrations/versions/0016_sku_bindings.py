# Migration 0016: SKU mapping: a normalized key per remote SKU, per-SKU exclusion and version, per-shop prefix/suffix.
"""SKU bindings: platform_listing_skus.sku_key / binding_excluded / binding_version, shop SKU prefix and suffix

- `platform_listing_skus.sku_key`: the seller SKU without case, white space and dashes (and without
  the shop's prefix/suffix), indexed with `connection_id` so a scoped plan finds the unbound SKUs
  that match a product's SKUs through the index. Backfilled here (no shop has a prefix yet).
- `platform_listing_skus.binding_excluded`: a person excluded the SKU: the plan ignores it.
- `platform_listing_skus.binding_version`: bumped by every manual bind / unbind / exclude / include,
  so two people acting on the same SKU cannot both win.
- `platform_connections.sku_prefix` / `sku_suffix`: stripped from the shop's seller SKUs before matching.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:30:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
_IGNORED = re.compile(r"[\s\-]+")


def upgrade() -> None:
    with op.batch_alter_table("platform_connections", reflect_kwargs={"resolve_fks": False}) as batch:
        batch.add_column(sa.Column("sku_prefix", sa.String(length=50), nullable=False, server_default=""))
        batch.add_column(sa.Column("sku_suffix", sa.String(length=50), nullable=False, server_default=""))
    with op.batch_alter_table("platform_listing_skus", reflect_kwargs={"resolve_fks": False}) as batch:
        batch.add_column(sa.Column("sku_key", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("binding_excluded", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("binding_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_index(
        op.f("ix_platform_listing_skus_connection_id_sku_key"),
        "platform_listing_skus",
        ["connection_id", "sku_key"],
        unique=False,
    )
    _backfill_keys()


def _backfill_keys() -> None:
    """Every stored seller SKU's key (the same rule as syncstore.catalog.sku_keys.normalize), in batches."""
    skus = sa.table("platform_listing_skus", sa.column("id", sa.Integer), sa.column("seller_sku", sa.String),
                    sa.column("sku_key", sa.String))  # fmt: skip
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(skus.c.id, skus.c.seller_sku)
            .where(skus.c.id > last, skus.c.seller_sku.is_not(None))
            .order_by(skus.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        keys = [{"row_id": row.id, "key": _IGNORED.sub("", row.seller_sku).lower() or None} for row in rows]
        bind.execute(skus.update().where(skus.c.id == sa.bindparam("row_id")).values(sku_key=sa.bindparam("key")), keys)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index(op.f("ix_platform_listing_skus_connection_id_sku_key"), table_name="platform_listing_skus")
    with op.batch_alter_table("platform_listing_skus", reflect_kwargs={"resolve_fks": False}) as batch:
        batch.drop_column("binding_version")
        batch.drop_column("binding_excluded")
        batch.drop_column("sku_key")
    with op.batch_alter_table("platform_connections", reflect_kwargs={"resolve_fks": False}) as batch:
        batch.drop_column("sku_suffix")
        batch.drop_column("sku_prefix")
