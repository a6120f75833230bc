# The daily low-stock digest: a job materializing `low_stock_digest` and its schedule at the configured hour.
"""`low_stock_digest_job` and `low_stock_digest_daily` (RUNNING by default).

The schedule fires at SYNCSTORE_LOW_STOCK_DIGEST_HOUR (08 by default) in
SYNCSTORE_LOW_STOCK_DIGEST_TIMEZONE (UTC by default).
"""

from typing import Final

import dagster as dg

from assets.inventory import low_stock_digest
from syncstore.settings import get_settings

low_stock_digest_job: Final = dg.define_asset_job(
    "low_stock_digest_job",
    selection=dg.AssetSelection.assets(low_stock_digest),
    executor_def=dg.in_process_executor,
    description="Sweep every variant for low stock and POST the day's digest of open low-stock alerts.",
)


def digest_cron(hour: int) -> str:
    """The cron of a daily run at `hour` o'clock."""
    return f"0 {hour} * * *"


low_stock_digest_daily: Final = dg.ScheduleDefinition(
    name="low_stock_digest_daily",
    job=low_stock_digest_job,
    cron_schedule=digest_cron(get_settings().low_stock_digest_hour),
    execution_timezone=get_settings().low_stock_digest_timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
