# The stock fast path: after orders, the channel quantity of some variants to every shop listing them.
"""Push stock.

Stock only, no snapshot pull: for each connected shop that lists the variants, the channel quantity
(available stock through the rules: buffer, allocation percent, maximum; plus, on Shopee, what the
shop's own unshipped orders hold) is sent where the stored snapshot shows another number. The change
and its idempotency key are the ones a full sync would plan for the same value, so a push and a
sync of the same stock share one log row.

The variants pushed are the ones given plus every bundle containing one of them (a component's
move changes its bundles; a bundle's sale moves its components, which are what is announced, so
this expansion also reaches the sibling bundles). Each shop's quantity is its own channel
quantity (`syncstore.inventory.availability`: its source locations, bundles from components).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypedDict, cast

import polars as pl
import sqlalchemy as sa

from connectors.base import ConnectorError
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing, PlatformListingSku
from syncstore.errors import SyncStoreError
from syncstore.inventory import bundles
from syncstore.plan import inputs as sync_inputs
from syncstore.plan import validation as sync_validation
from syncstore.plan.changes import PlannedChange, UpdateStock, ValidationIssue
from syncstore.plan.inputs import Shop
from syncstore.sync.apply import ConnectorFactory, SyncReport, apply, fail_unsent


def push_stock(
    engine: sa.Engine, variant_ids: Sequence[int], connectors: ConnectorFactory, *, run_id: str | None = None
) -> list[SyncReport]:
    """The channel quantity of these variants (and of the bundles containing them) to every shop listing them."""
    reports = []
    for shop, rows in channel_stock(engine, variant_ids):
        rows = rows.filter(pl.col("remote_stock").is_null() | (pl.col("remote_stock") != pl.col("desired_stock")))
        changes: list[PlannedChange] = [_stock_change(shop, cast(_StockRow, row)) for row in rows.iter_rows(named=True)]
        reports.append(_apply_or_fail(engine, shop, connectors, changes, run_id))
    return reports


def channel_stock(engine: sa.Engine, variant_ids: Sequence[int]) -> list[tuple[Shop, pl.DataFrame]]:
    """Per connected shop listing any of the variants (or of the bundles containing them): its bound SKUs
    with the channel quantity a full sync would plan (`desired_stock`), changed or not.

    Reads rows in proportion to the variants (never the whole catalog).
    """
    if not variant_ids:
        return []
    variant_ids = with_bundles(engine, variant_ids)
    inputs = sync_inputs.load_inputs(engine, variant_ids=variant_ids)
    if inputs.variants.is_empty():
        return []
    bound = _bound_skus(engine, variant_ids)
    listing = [shop for shop in sync_inputs.shops(engine) if shop.connection_id in set(bound["connection_id"])]
    if not listing:
        return []
    wanted = sync_inputs.desired_for(inputs, listing).filter(pl.col("active") & ~pl.col("excluded"))
    wanted = wanted.select("connection_id", "variant_id", "product_id", "sku", "desired_stock")
    rows = bound.join(wanted, on=["connection_id", "variant_id"])
    return [
        (shop, rows.filter(pl.col("connection_id") == shop.connection_id).drop("connection_id")) for shop in listing
    ]


def with_bundles(engine: sa.Engine, variant_ids: Sequence[int]) -> list[int]:
    """The variants and every bundle containing one of them (indexed lookup), sorted."""
    with transaction(engine) as session:
        containing = bundles.bundles_containing(session, variant_ids)
    return sorted({*variant_ids, *(b for ids in containing.values() for b in ids)})


def _bound_skus(engine: sa.Engine, variant_ids: Sequence[int]) -> pl.DataFrame:
    """The SKUs bound to these variants in every shop (deleted listings left out)."""
    query = (
        sa.select(
            PlatformListingSku.connection_id,
            PlatformListingSku.id.label("listing_sku_id"), PlatformListingSku.listing_id,
            PlatformListingSku.variant_id, PlatformListingSku.remote_sku_id, PlatformListingSku.remote_stock,
            PlatformListing.remote_item_id,
        )
        .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
        .where(
            PlatformListingSku.variant_id.in_(list(variant_ids)),
            PlatformListing.remote_status != "deleted",
        )
    )  # fmt: skip
    schema = {
        "connection_id": pl.Int64(),
        "listing_sku_id": pl.Int64(), "listing_id": pl.Int64(), "variant_id": pl.Int64(), "remote_sku_id": pl.String(),
        "remote_stock": pl.Int64(), "remote_item_id": pl.String(),
    }  # fmt: skip
    with engine.connect() as connection:
        return pl.read_database(query, connection, schema_overrides=schema)


class _StockRow(TypedDict):
    """A bound SKU joined with its variant's channel quantity (`_bound_skus` joined with `desired`)."""

    listing_sku_id: int
    listing_id: int
    variant_id: int
    remote_sku_id: str
    remote_stock: int | None
    remote_item_id: str
    product_id: int
    sku: str
    desired_stock: int


def _stock_change(shop: Shop, row: _StockRow) -> UpdateStock:
    """The same change (and key) a full sync would plan for this SKU's stock."""
    stock = int(row["desired_stock"])
    issues = sync_validation.check_stock(sync_validation.rules_for(shop.platform), stock)
    change = UpdateStock(
        stock=stock, product_id=row["product_id"], variant_id=row["variant_id"], sku=row["sku"],
        remote_item_id=row["remote_item_id"], listing_id=row["listing_id"], listing_sku_id=row["listing_sku_id"],
        remote_sku_id=row["remote_sku_id"], issues=tuple(ValidationIssue(f, m) for f, m in issues),
    )  # fmt: skip
    return replace(change, idempotency_key=change.key(shop.connection_id))


def _apply_or_fail(
    engine: sa.Engine,
    shop: Shop,
    connectors: ConnectorFactory,
    changes: Sequence[PlannedChange],
    run_id: str | None,
) -> SyncReport:
    """Apply through the shop's connector; a connector that cannot be built fails the changes, logged."""
    if not changes:
        return SyncReport(shop.connection_id, 0, 0, 0, 0, 0, 0, 0)
    try:
        connector = connectors(shop.connection_id)
    except (SyncStoreError, ConnectorError) as error:
        outcome = fail_unsent(engine, shop, changes, f"the shop cannot be reached: {error}", run_id)
    else:
        outcome = apply(engine, shop, connector, changes, run_id)
    return SyncReport(shop.connection_id, len(changes), outcome.succeeded, outcome.failed, outcome.invalid, 0, 0,
                      outcome.api_calls)  # fmt: skip
