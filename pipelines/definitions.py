# The one Dagster Definitions object that workspace.yaml loads; assets, sensors and schedules join it later.
"""SyncStore's Dagster code location. Empty until the pipeline issue adds assets and sensors."""

import dagster as dg

defs = dg.Definitions()
