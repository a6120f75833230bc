# The one Dagster Definitions object that workspace.yaml loads: assets, checks, jobs, schedules, sensors, resources.
"""SyncStore's Dagster code location (see ARCHITECTURE.md, "Dagster shape")."""

import warnings

import dagster as dg

from assets.catalog import master_catalog
from assets.checks import CHECKS
from assets.inventory import low_stock_digest
from assets.partitions import with_shop_partitions
from assets.resources import default_resources
from assets.shops import catalog_diff, listing_sync, shop_snapshot
from pipelines.categories import category_refresh_daily, refresh_categories
from pipelines.jobs import JOBS
from pipelines.low_stock import low_stock_digest_daily, low_stock_digest_job
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS
from pipelines.shops import SHOP_PARTITIONS
from syncstore.ops.logging_setup import configure_logging

configure_logging()
# Dagster itself passes its beta `owners` parameter when it attaches resources to a sensor's jobs
# (SensorDefinition.with_attributes), whatever the sensor declares: silenced by its exact message only.
warnings.filterwarnings(
    "ignore", message=r"Parameter `owners` of initializer `SensorDefinition", category=dg.BetaWarning
)

# The per-shop assets are partitioned by the shops connected when the code location loaded (pipelines.shops).
SHOP_ASSETS = with_shop_partitions([shop_snapshot, catalog_diff, listing_sync], SHOP_PARTITIONS)

defs = dg.Definitions(
    assets=[master_catalog, *SHOP_ASSETS, low_stock_digest],
    asset_checks=CHECKS,
    jobs=[*JOBS, refresh_categories, low_stock_digest_job],
    schedules=[*SCHEDULES, category_refresh_daily, low_stock_digest_daily],
    sensors=SENSORS,
    resources=default_resources(),
    executor=dg.in_process_executor,
)
