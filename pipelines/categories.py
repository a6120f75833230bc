# The daily category refresh: every connected shop's platform category tree (and categories in use) re-fetched.
"""`refresh_categories` job and `category_refresh_daily` schedule (04:00 UTC, RUNNING by default).

One op calls `syncstore.publishing.cache.refresh_every_shop`; a shop that fails (unreachable,
token expired) is reported in the run's metadata and fails the run after every other shop is done.
"""

from typing import Final

import dagster as dg

from assets.resources import DatabaseResource, MarketplacesResource
from syncstore.publishing import cache


@dg.op(out=dg.Out(dg.Nothing))
def refresh_shop_categories(
    context: dg.OpExecutionContext, database: DatabaseResource, marketplaces: MarketplacesResource
) -> dg.Output[None]:
    """Fetch every connected shop's category tree; the attributes of categories in use are fetched again."""
    summary = cache.refresh_every_shop(database.get_engine(), marketplaces.connectors())
    metadata = {
        "shops": dg.MetadataValue.int(len(summary.refreshed)),
        "categories": dg.MetadataValue.int(sum(r.categories for r in summary.refreshed)),
        "attributes": dg.MetadataValue.int(sum(r.attributes for r in summary.refreshed)),
        "failed": dg.MetadataValue.int(len(summary.failed)),
    }
    if summary.failed:
        detail = "; ".join(f"connection {cid}: {reason}" for cid, reason in summary.failed)
        raise dg.Failure(description=f"{len(summary.failed)} shop(s) not refreshed: {detail}", metadata=metadata)
    context.log.info("categories refreshed: %s", metadata)
    return dg.Output(None, metadata=metadata)


@dg.job(description="Refresh every connected shop's platform categories and the attributes of categories in use.")
def refresh_categories() -> None:
    refresh_shop_categories()


category_refresh_daily: Final = dg.ScheduleDefinition(
    name="category_refresh_daily", job=refresh_categories, cron_schedule="0 4 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)  # fmt: skip
