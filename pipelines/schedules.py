# Schedules: reconcile every shop every 15 minutes (full pass nightly), refresh tokens hourly, retention daily.
"""Schedules (RUNNING by default); `catalog_overview_hourly` refreshes `master_catalog` and its backlog check.

The reconcile schedules fan out: one `reconcile` run per `shops` partition still connected, tagged with the shop so
`deploy/dagster.yaml` keeps one run per shop at a time; run keys carry the tick time.
"""

from collections.abc import Collection
from typing import Final

import dagster as dg
import sqlalchemy as sa

from assets.partitions import SHOP_TAG, connected_shops
from assets.resources import DatabaseResource
from assets.shops import FULL_PULL_TAG
from pipelines import shops
from pipelines.jobs import catalog_overview, reconcile, recover_orders, refresh_tokens, retention_job
from syncstore.settings import get_settings
from syncstore.workers import heartbeats

RUNNING: Final = dg.DefaultScheduleStatus.RUNNING


def shop_runs(
    context: dg.ScheduleEvaluationContext, engine: sa.Engine, loaded: Collection[str], *, full: bool
) -> list[dg.RunRequest] | dg.SkipReason:
    """One reconcile run request per shop partition that is still connected (a full snapshot pull when `full`).

    `loaded` are the code location's partitions: a shop connected since it loaded waits for the reload the
    `shop_partitions` sensor asks for (Dagster refuses a run for a key it does not know)."""
    connected = connected_shops(engine)
    keys = sorted(key for key in loaded if key in connected)
    if not keys:
        return dg.SkipReason("no shop is connected")
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "now"
    run_config = {"ops": {"shop_snapshot": {"config": {"full": True}}}} if full else {}
    return [
        dg.RunRequest(
            run_key=f"{'full' if full else 'incremental'}:{key}:{tick}",
            partition_key=key,
            run_config=run_config,
            tags={SHOP_TAG: key, FULL_PULL_TAG: str(full).lower()},
        )
        for key in keys
    ]


@dg.schedule(job=reconcile, cron_schedule="*/15 * * * *", default_status=RUNNING)
def reconcile_every_15_minutes(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    """Incremental reconcile of every shop: items changed since the last pull, diffed and synced."""
    return shop_runs(context, database.get_engine(), shops.LOADED_SHOPS, full=False)


@dg.schedule(job=reconcile, cron_schedule="0 3 * * *", execution_timezone="UTC", default_status=RUNNING)
def full_reconcile_nightly(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    """Full reconcile of every shop at 03:00 UTC: every item pulled, vanished listings marked deleted."""
    return shop_runs(context, database.get_engine(), shops.LOADED_SHOPS, full=True)


token_refresh_hourly = dg.ScheduleDefinition(
    name="token_refresh_hourly", job=refresh_tokens, cron_schedule="5 * * * *", default_status=RUNNING
)
retention_daily = dg.ScheduleDefinition(
    name="retention_daily", job=retention_job, cron_schedule="30 2 * * *", execution_timezone="UTC",
    default_status=RUNNING,
)  # fmt: skip


def _every_minutes(seconds: float) -> str:
    """A cron for "every N minutes", N = seconds rounded to whole minutes (at least 1)."""
    minutes = max(1, min(59, round(seconds / 60)))
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


@dg.schedule(
    name="recover_orders_schedule",
    job=recover_orders,
    cron_schedule=_every_minutes(get_settings().order_poll_seconds),
    default_status=RUNNING,
)
def recover_orders_schedule(
    context: dg.ScheduleEvaluationContext, database: DatabaseResource
) -> dg.RunRequest | dg.SkipReason:
    """Lost pushes and order polls every SYNCSTORE_ORDER_POLL_SECONDS (W9), unless the events worker runs them."""
    heartbeat = heartbeats.fresh_heartbeat(database.get_engine())
    if heartbeat is not None:
        return dg.SkipReason("the events worker runs the recovery itself (its heartbeat is fresh)")
    return dg.RunRequest()


catalog_overview_hourly = dg.ScheduleDefinition(
    name="catalog_overview_hourly", job=catalog_overview, cron_schedule="10 * * * *", default_status=RUNNING
)

SCHEDULES: Final = [
    reconcile_every_15_minutes, full_reconcile_nightly, token_refresh_hourly, retention_daily, catalog_overview_hourly,
    recover_orders_schedule,
]  # fmt: skip
