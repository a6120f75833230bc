# Per-shop assets: the shop's snapshot, its differences from the master catalog, and the sync that closes them.
"""Assets partitioned by shop (`shops`, keyed `<platform>-<shop_id>`).

`shop_snapshot` -> `catalog_diff` -> `listing_sync`, downstream of `master_catalog`. They are thin:
the work is `syncstore.snapshot.pull`, `syncstore.reconcile` and `syncstore.sync.sync_shop`.
"""

from typing import Any, Final

import dagster as dg
import polars as pl
import sqlalchemy as sa

from assets.catalog import master_catalog
from assets.partitions import SHOPS, connection_id_for
from assets.resources import DatabaseResource, MarketplacesResource
from syncstore import snapshot, sync, sync_inputs
from syncstore.plan import build
from syncstore.plan.calls import estimate_calls

FULL_PULL_TAG: Final = "syncstore/full"
PREVIEW_ROWS: Final = 15


class SnapshotConfig(dg.Config):
    """`full`: pull every item (and mark the ones gone as deleted) instead of the items changed since the cursor."""

    full: bool = False


@dg.asset(partitions_def=SHOPS, group_name="shops", kinds={"sql"})
def shop_snapshot(
    context: dg.AssetExecutionContext,
    config: SnapshotConfig,
    database: DatabaseResource,
    marketplaces: MarketplacesResource,
) -> dg.MaterializeResult[None]:
    """What the shop shows now: its listings and SKUs pulled through the shop's connector into the snapshot tables.

    Incremental (items changed since the shop's cursor) every 15 minutes; full nightly (run config `full: true` or
    the run tag `syncstore/full=true`), which also marks listings the platform no longer returns as deleted."""
    engine = database.get_engine()
    connection_id = connection_id_for(engine, context.partition_key)
    full = config.full or context.run.tags.get(FULL_PULL_TAG, "").lower() == "true"
    report = snapshot.pull(engine, connection_id, marketplaces.connectors()(connection_id), full=full)
    return dg.MaterializeResult(
        metadata={
            "connection_id": dg.MetadataValue.int(connection_id),
            "full": dg.MetadataValue.bool(report.full),
            "listings_stored": dg.MetadataValue.int(report.listings),
            "skus_stored": dg.MetadataValue.int(report.skus),
            "api_calls": dg.MetadataValue.int(report.api_calls),
            "cursor": dg.MetadataValue.text(report.cursor.isoformat() if report.cursor else ""),
        }
    )


def plan_for(engine: sa.Engine, connection_id: int) -> build.ShopPlanning:
    """The shop's plan as the sync would make it now (master + overrides + rules against snapshot and baseline)."""
    [shop] = sync_inputs.shops(engine, [connection_id])
    return build.plan_shop(engine, shop, sync_inputs.load_inputs(engine))


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|")[:60]


def largest_differences(plan: pl.DataFrame, limit: int = PREVIEW_ROWS) -> str:
    """A markdown table of the rows with most to do: listing changes first, then the largest stock and price gaps."""
    field_columns = [c for c in plan.columns if c.endswith("_action") and c != "listing_action"]
    busy = [pl.col(c).cast(pl.String).is_in(["push", "conflict", "adopt"]).fill_null(False) for c in field_columns]
    wanted = pl.col("listing_action").cast(pl.String) != "none"
    rows = plan.filter(pl.any_horizontal(wanted, *busy)) if busy else plan.filter(wanted)
    if rows.is_empty():
        return "Every listing is in sync."
    fields = [
        pl.when(pl.col(c).cast(pl.String).is_in(["push", "conflict", "adopt"]))
        .then(pl.lit(f"{c.removesuffix('_action')}: ") + pl.col(c).cast(pl.String))
        .otherwise(None)
        for c in field_columns
    ]
    ranked = rows.with_columns(
        _listing_first=(pl.col("listing_action").cast(pl.String).is_in(["none", "update"])).cast(pl.Int8),
        _stock_gap=(pl.col("desired_stock") - pl.col("remote_stock")).abs().fill_null(0),
        _price_gap=(pl.col("desired_price").cast(pl.Float64) - pl.col("remote_price").cast(pl.Float64))
        .abs()
        .fill_null(0.0),
        _fields=pl.concat_str(fields, separator=", ", ignore_nulls=True) if fields else pl.lit(""),
    ).sort(["_listing_first", "_stock_gap", "_price_gap"], descending=[False, True, True])
    lines = [
        "| SKU | item | action | stock (shop -> master) | price (shop -> master) | fields |",
        "|---|---|---|---|---|---|",
    ]
    for row in ranked.head(limit).iter_rows(named=True):
        lines.append(
            f"| {_cell(row['sku'] or row['seller_sku'])} | {_cell(row['remote_item_id'])} "
            f"| {_cell(row['listing_action'])} "
            f"| {_cell(row['remote_stock'])} -> {_cell(row['desired_stock'])} "
            f"| {_cell(row['remote_price'])} -> {_cell(row['desired_price'])} | {_cell(row['_fields'])} |"
        )
    if rows.height > limit:
        lines.append(f"\n{rows.height - limit} more rows with something to do.")
    return "\n".join(lines)


@dg.asset(partitions_def=SHOPS, group_name="shops", deps=[master_catalog, shop_snapshot], kinds={"polars"})
def catalog_diff(context: dg.AssetExecutionContext, database: DatabaseResource) -> dg.MaterializeResult[None]:
    """The three-way difference between the master catalog, the shop's snapshot and the last-synced baseline: per
    listing create, bind, update, activate, deactivate or orphan; per field in sync, push, adopt or conflict."""
    engine = database.get_engine()
    connection_id = connection_id_for(engine, context.partition_key)
    planning = plan_for(engine, connection_id)
    # `summary` is reconcile.summary of the plan frame: rows per listing action, fields per field action.
    metadata: dict[str, Any] = {key: dg.MetadataValue.int(value) for key, value in sorted(planning.summary.items())}
    metadata["changes"] = dg.MetadataValue.int(len(planning.changes))
    metadata["invalid_changes"] = dg.MetadataValue.int(sum(1 for change in planning.changes if not change.valid))
    metadata["conflicts"] = dg.MetadataValue.int(len(planning.conflicts))
    metadata["estimated_api_calls"] = dg.MetadataValue.int(estimate_calls(planning.shop.platform, planning.changes))
    metadata["largest_differences"] = dg.MetadataValue.md(largest_differences(planning.frame))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(partitions_def=SHOPS, group_name="shops", deps=[catalog_diff], kinds={"sql"})
def listing_sync(
    context: dg.AssetExecutionContext, database: DatabaseResource, marketplaces: MarketplacesResource
) -> dg.MaterializeResult[None]:
    """The shop's listings after the sync: drift pushed (batched to the platform's limits, rate limited, one
    sync log row per change with an idempotency key), concurrent edits recorded as conflicts, unbound SKUs adopted."""
    engine = database.get_engine()
    connection_id = connection_id_for(engine, context.partition_key)
    report = sync.sync_shop(engine, connection_id, marketplaces.connectors()(connection_id), run_id=context.run.run_id)
    if report.failed:
        context.log.warning("%d of %d changes failed; see Sync activity", report.failed, report.planned)
    return dg.MaterializeResult(
        metadata={
            "planned": dg.MetadataValue.int(report.planned),
            "succeeded": dg.MetadataValue.int(report.succeeded),
            "failed": dg.MetadataValue.int(report.failed),
            "invalid": dg.MetadataValue.int(report.invalid),
            "conflicts": dg.MetadataValue.int(report.conflicts),
            "adopted": dg.MetadataValue.int(report.adopted),
            "api_calls": dg.MetadataValue.int(report.api_calls),
        }
    )
