# Jobs: push outbox changes, apply marketplace events, reconcile shops, refresh tokens, keep retention.
"""The jobs of the code location. Each op is one call into syncstore.

Every job runs in-process (one op, or the three per-shop assets in a row): a run process per step
would cost seconds, and `apply_events` is on the order-to-stock latency path. Runs carry a
`syncstore/queue` tag (push, events) or the shop's `syncstore/shop` tag, which
`deploy/dagster.yaml` limits to one run at a time each.

`push_changes`, `apply_events` and `recover_orders` are the fallback consumers: in production the
events worker (`syncstore worker events`) does their work, and the sensors start them only when no
worker heartbeat is fresh (`pipelines.sensors`); `recover_orders` skips itself while one is.
"""

from datetime import timedelta
from typing import Final

import dagster as dg

from assets.catalog import master_catalog
from assets.resources import DatabaseResource, MarketplacesResource
from assets.shops import catalog_diff, listing_sync, shop_snapshot
from syncstore.ops import retention
from syncstore.shops import marketplaces
from syncstore.workers import dispatch, heartbeats, recovery

QUEUE_TAG: Final = "syncstore/queue"
TOKEN_REFRESH_WINDOW: Final = timedelta(hours=2)


def _report_metadata(report: dispatch.DispatchReport) -> dict[str, dg.MetadataValue]:
    return {
        "claimed": dg.MetadataValue.int(report.claimed),
        "completed": dg.MetadataValue.int(report.completed),
        "failed": dg.MetadataValue.int(report.failed),
        "shops": dg.MetadataValue.int(report.shops),
        "variants": dg.MetadataValue.int(report.variants),
    }


@dg.op(out=dg.Out(dg.Nothing))
def push_outbox(
    context: dg.OpExecutionContext, database: DatabaseResource, marketplaces: MarketplacesResource
) -> dg.Output[None]:
    """Claim due outbox events (catalog edits, stock changes, resolved conflicts, bulk syncs) and push them per shop."""
    report = dispatch.push_outbox(database.get_engine(), marketplaces.connectors(), run_id=context.run.run_id)
    context.log.info("outbox: %s", report)
    return dg.Output(None, metadata=_report_metadata(report))


@dg.op(out=dg.Out(dg.Nothing))
def process_events(
    context: dg.OpExecutionContext, database: DatabaseResource, marketplaces: MarketplacesResource
) -> dg.Output[None]:
    """Apply pending marketplace events: orders move master stock and the new stock goes to every shop."""
    report = dispatch.process_events(database.get_engine(), marketplaces.connectors(), run_id=context.run.run_id)
    context.log.info("events: %s", report)
    return dg.Output(None, metadata=_report_metadata(report))


@dg.op(out=dg.Out(dg.Nothing))
def refresh_expiring_tokens(context: dg.OpExecutionContext, database: DatabaseResource) -> dg.Output[None]:
    """Refresh access tokens expiring within 2 hours (a TikTok Shop seller's shops share one refresh)."""
    summary = marketplaces.refresh_expiring(database.get_engine(), within=TOKEN_REFRESH_WINDOW)
    for connection_id in summary.revoked:
        context.log.warning("connection %s: the platform refused the refresh; the shop must be connected again",
                            connection_id)  # fmt: skip
    metadata = {
        "refreshed": dg.MetadataValue.int(len(summary.refreshed)),
        "already_fresh": dg.MetadataValue.int(len(summary.already_fresh)),
        "revoked": dg.MetadataValue.int(len(summary.revoked)),
        "failed": dg.MetadataValue.int(len(summary.failed)),
    }
    if summary.failed:
        detail = "; ".join(f"connection {cid}: {reason}" for cid, reason in summary.failed)
        raise dg.Failure(description=f"{len(summary.failed)} token refresh(es) failed: {detail}", metadata=metadata)
    return dg.Output(None, metadata=metadata)


@dg.op(out=dg.Out(dg.Nothing))
def apply_retention(context: dg.OpExecutionContext, database: DatabaseResource) -> dg.Output[None]:
    """Archive sync logs older than 90 days to Parquet (then delete them); prune old webhook events and API
    idempotency keys."""
    report = retention.run(database.get_engine())
    return dg.Output(
        None,
        metadata={
            "sync_logs_archived": dg.MetadataValue.int(report.sync_logs.archived),
            "sync_logs_deleted": dg.MetadataValue.int(report.sync_logs.deleted),
            "archive_files": dg.MetadataValue.json([str(path) for path in report.sync_logs.files]),
            "webhook_events_pruned": dg.MetadataValue.int(report.webhook_events_pruned),
            "api_idempotency_pruned": dg.MetadataValue.int(report.api_idempotency_pruned),
        },
    )


@dg.op(out=dg.Out(dg.Nothing))
def recover_missed_orders(
    context: dg.OpExecutionContext, database: DatabaseResource, marketplaces: MarketplacesResource
) -> dg.Output[None]:
    """Read lost pushes and poll every shop's orders by update time; apply them once and push the stock (W9).

    The fallback of the events worker's own recovery timer: while its heartbeat is fresh this does nothing.
    """
    engine = database.get_engine()
    heartbeat = heartbeats.fresh_heartbeat(engine)
    if heartbeat is not None:
        context.log.info("the events worker %s runs the recovery itself: nothing to do here", heartbeat.worker_id)
        return dg.Output(None, metadata={"skipped": dg.MetadataValue.text("the events worker is running")})
    report = recovery.recover(engine, marketplaces.connectors(), run_id=context.run.run_id)
    for poll in report.polls:
        if poll.error:
            context.log.warning("connection %s: order poll failed: %s", poll.connection_id, poll.error)
    metadata = {
        "lost_pushes_stored": dg.MetadataValue.int(report.lost_pushes_stored),
        "shops_polled": dg.MetadataValue.int(len(report.polls)),
        "orders_seen": dg.MetadataValue.int(sum(poll.orders for poll in report.polls)),
        "ledger_transitions": dg.MetadataValue.int(report.transitions),
        "failed_shops": dg.MetadataValue.json(report.failed_shops),
    }
    return dg.Output(None, metadata=metadata)


@dg.job(executor_def=dg.in_process_executor, tags={QUEUE_TAG: "push"})
def push_changes() -> None:
    """Push what outbox events announce (started by the outbox sensor)."""
    push_outbox()


@dg.job(executor_def=dg.in_process_executor, tags={QUEUE_TAG: "events"})
def apply_events() -> None:
    """Apply marketplace events (started by the events sensor); the order-to-stock latency path."""
    process_events()


@dg.job(executor_def=dg.in_process_executor, tags={QUEUE_TAG: "recovery"})
def recover_orders() -> None:
    """The polling backstop for lost webhooks: lost pushes and orders by update time (W9)."""
    recover_missed_orders()


@dg.job(executor_def=dg.in_process_executor)
def refresh_tokens() -> None:
    """Refresh platform access tokens before they expire (hourly)."""
    refresh_expiring_tokens()


@dg.job(executor_def=dg.in_process_executor, name="retention")
def retention_job() -> None:
    """Sync-log archiving and webhook-event pruning (daily)."""
    apply_retention()


reconcile = dg.define_asset_job(
    "reconcile",
    selection=dg.AssetSelection.assets(shop_snapshot, catalog_diff, listing_sync),
    executor_def=dg.in_process_executor,
    description="Per shop: pull the snapshot, diff it against the master catalog, sync the differences.",
)

catalog_overview = dg.define_asset_job(
    "catalog_overview",
    selection=dg.AssetSelection.assets(master_catalog),
    executor_def=dg.in_process_executor,
    description="The master catalog's counts, and the webhook backlog check.",
)

JOBS: Final["list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition]"] = [
    push_changes, apply_events, recover_orders, refresh_tokens, retention_job, reconcile, catalog_overview,
]  # fmt: skip
