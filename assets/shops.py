# Per-shop assets: the shop's snapshot, its differences from the master catalog, and the sync that closes them.
"""Assets partitioned by shop (`shops`, keyed `<platform>-<shop_id>`).

`shop_snapshot` -> `catalog_diff` -> `listing_sync`, downstream of `master_catalog`. They are thin:
the work is `syncstore.sync.snapshot.pull`, `syncstore.plan.reconcile` and `syncstore.sync.engine.sync_planned`.
`catalog_diff` stores the plan it computes (`syncstore.plan.store`, keyed by the catalog and snapshot
versions it came from); `listing_sync` applies that plan while it is current (planning again only
the products edited since) and shows what it pushed: the plan's id and the sync log of its run.
"""

import json
from collections.abc import Sequence
from typing import Any, Final

import dagster as dg
import polars as pl
import sqlalchemy as sa

from assets.catalog import master_catalog
from assets.partitions import SHOPS, connection_id_for
from assets.resources import DatabaseResource, MarketplacesResource
from syncstore.db.engine import transaction
from syncstore.plan import build, store
from syncstore.plan import inputs as sync_inputs
from syncstore.plan.calls import estimate_calls
from syncstore.plan.changes import PlannedChange
from syncstore.publishing import logistics
from syncstore.sync import engine as sync
from syncstore.sync import logs as sync_logs
from syncstore.sync import snapshot

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
    connector = marketplaces.connectors()(connection_id)
    report = snapshot.pull(engine, connection_id, connector, full=full)
    # The plan downstream creates listings with the shop's logistics channels and location: known from here on.
    logistics.ensure_fetched(engine, connection_id, connector)
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


# A request is shown in its own key order (title and SKUs first), cut at this many characters.
REQUEST_WIDTH = 600


def _cell(value: Any, width: int = 60) -> str:
    return "" if value is None else str(value).replace("|", "\\|")[:width]


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
    at = store.versions(engine, connection_id)  # read first: an edit made while planning makes the plan stale
    planning = plan_for(engine, connection_id)
    planned = store.Planned(planning.shop, planning.changes, planning.conflicts,
                            build.agreed_baselines(planning.frame), planning.summary)  # fmt: skip
    plan_id = store.save(engine, planned, at, run_id=context.run.run_id)
    # `summary` is reconcile.summary of the plan frame: rows per listing action, fields per field action.
    metadata: dict[str, Any] = {key: dg.MetadataValue.int(value) for key, value in sorted(planning.summary.items())}
    metadata["changes"] = dg.MetadataValue.int(len(planning.changes))
    metadata["invalid_changes"] = dg.MetadataValue.int(sum(1 for change in planning.changes if not change.valid))
    metadata["conflicts"] = dg.MetadataValue.int(len(planning.conflicts))
    metadata["estimated_api_calls"] = dg.MetadataValue.int(estimate_calls(planning.shop.platform, planning.changes))
    metadata["largest_differences"] = dg.MetadataValue.md(largest_differences(planning.frame))
    metadata["plan_id"] = dg.MetadataValue.int(plan_id)
    metadata["catalog_version"] = dg.MetadataValue.text(at.catalog)
    metadata["snapshot_version"] = dg.MetadataValue.text(at.snapshot)
    metadata["planned_changes"] = dg.MetadataValue.md(changes_table(planning.changes))
    return dg.MaterializeResult(metadata=metadata)


def changes_table(changes: Sequence[PlannedChange], limit: int = PREVIEW_ROWS) -> str:
    """A markdown table of the first planned changes: what each would send, and why it would not."""
    if not changes:
        return "Nothing to send."
    lines = ["| operation | product | SKU | request | problems |", "|---|---|---|---|---|"]
    for change in changes[:limit]:
        problems = "; ".join(f"{i.field}: {i.message}" for i in change.issues)
        lines.append(
            f"| {change.operation} | {_cell(change.product_id)} | {_cell(change.sku)} "
            f"| {_cell(json.dumps(change.request()), REQUEST_WIDTH)} | {_cell(problems)} |"
        )
    if len(changes) > limit:
        lines.append(f"\n{len(changes) - limit} more changes.")
    return "\n".join(lines)


def pushed_table(engine: sa.Engine, connection_id: int, run_id: str, limit: int = 50) -> str:
    """A markdown table of what this run sent to the shop, from its sync log rows."""
    with transaction(engine) as session:
        logs, total = sync_logs.list_sync_logs(session, connection_id=connection_id, run_id=run_id, limit=limit)
    if not logs:
        return "Nothing was pushed."
    lines = ["| operation | product | variant | status | request | error |", "|---|---|---|---|---|---|"]
    for log in reversed(logs):
        lines.append(
            f"| {log.operation} | {_cell(log.product_id)} | {_cell(log.variant_id)} | {log.status} "
            f"| {_cell(json.dumps(log.request_data), REQUEST_WIDTH)} | {_cell(log.error_message)} |"
        )
    if total > limit:
        lines.append(f"\n{total - limit} more rows in Sync activity (run {run_id}).")
    return "\n".join(lines)


@dg.asset(partitions_def=SHOPS, group_name="shops", deps=[catalog_diff], kinds={"sql"})
def listing_sync(
    context: dg.AssetExecutionContext, database: DatabaseResource, marketplaces: MarketplacesResource
) -> dg.MaterializeResult[None]:
    """The shop's listings after the sync: drift pushed (batched to the platform's limits, rate limited, one
    sync log row per change with an idempotency key), concurrent edits recorded as conflicts, unbound SKUs adopted."""
    engine = database.get_engine()
    connection_id = connection_id_for(engine, context.partition_key)
    run_id = context.run.run_id
    applied = sync.sync_planned(engine, connection_id, marketplaces.connectors()(connection_id), run_id=run_id)
    report = applied.report
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
            "plan_id": dg.MetadataValue.int(applied.plan_id),
            # stored: catalog_diff's plan as it was; refreshed: its edited products planned again; planned: new.
            "plan_source": dg.MetadataValue.text(applied.source),
            "replanned_products": dg.MetadataValue.int(len(applied.replanned)),
            "pushed": dg.MetadataValue.md(pushed_table(engine, connection_id, run_id)),
        }
    )
