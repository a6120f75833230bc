# The daily low-stock asset: every variant judged against its threshold, then one digest POSTed to the alert webhook.
"""`low_stock_digest` (unpartitioned, group "alerts").

The events worker evaluates low stock after every stock change it handles; this asset is the
daily safety sweep over every variant (`syncstore.inventory.low_stock.evaluate` with no ids),
then `low_stock.digest` POSTs one summary of the open low-stock alerts to the alert webhook and
records it (once per UTC day). The materialization's metadata is the digest as sent.
"""

import dagster as dg

from assets.resources import DatabaseResource
from syncstore.inventory import low_stock


@dg.asset(group_name="alerts")
def low_stock_digest(context: dg.AssetExecutionContext, database: DatabaseResource) -> dg.MaterializeResult[None]:
    """Open low-stock alerts after a sweep of every variant, summarised once a day to the alert webhook."""
    engine = database.get_engine()
    sweep = low_stock.evaluate(engine, None)
    digest = low_stock.digest(engine)
    table = "\n".join(
        ["| SKU | available | threshold | since |", "|---|---|---|---|"]
        + [f"| {v['sku']} | {v['available']} | {v['threshold']} | {v['since']} |" for v in digest.variants[:50]]
    )
    context.log.info("low stock: %s; digest posted: %s", digest.message, digest.posted)
    return dg.MaterializeResult(
        metadata={
            "day": dg.MetadataValue.text(digest.day),
            "open_low_stock": dg.MetadataValue.int(len(digest.variants)),
            "opened_by_sweep": dg.MetadataValue.int(len(sweep.opened)),
            "resolved_by_sweep": dg.MetadataValue.int(len(sweep.resolved)),
            "posted": dg.MetadataValue.bool(digest.posted),
            "already_sent_today": dg.MetadataValue.bool(digest.already_sent),
            "variants": dg.MetadataValue.md(table),
        }
    )
