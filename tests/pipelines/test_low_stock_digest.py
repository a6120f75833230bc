# The daily low-stock digest: the schedule fires at the configured hour; the asset sweeps, posts once and records.
from __future__ import annotations

from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.inventory import low_stock_digest
from assets.resources import DatabaseResource
from pipelines import low_stock as pipeline
from pipelines.definitions import defs
from syncstore.db.engine import transaction
from syncstore.db.models import Alert
from syncstore.settings import Settings
from tests.syncstore.inventory.test_low_stock import variant


def materialize(engine: sa.Engine) -> dict[str, Any]:
    database = DatabaseResource(url=engine.url.render_as_string(hide_password=False))
    result = dg.materialize([low_stock_digest], resources={"database": database})
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    return {key: value.value for key, value in metadata.items()}


def test_the_daily_run_sweeps_every_variant_and_posts_one_digest(
    engine: sa.Engine, hook_in_settings: list[dict[str, Any]]
) -> None:
    # Low since before the worker evaluated anything (a threshold set, no stock change since): the sweep finds it.
    variant(engine, "LOW-1", 1, threshold=2)
    variant(engine, "OK-1", 9, threshold=2)
    first = materialize(engine)
    assert (first["open_low_stock"], first["opened_by_sweep"], first["posted"]) == (1, 1, True)
    assert "LOW-1" in first["variants"] and "OK-1" not in first["variants"]
    kinds = [body["kind"] for body in hook_in_settings]
    assert kinds == ["low_stock", "low_stock_digest"]  # the opening, then the day's summary
    again = materialize(engine)
    assert again["already_sent_today"] and len(hook_in_settings) == 2
    with transaction(engine) as session:
        assert session.scalars(sa.select(Alert.kind).where(Alert.kind == "low_stock_digest")).all() == [
            "low_stock_digest"
        ]


def test_the_schedule_runs_at_the_configured_hour() -> None:
    schedule = defs.get_repository_def().get_schedule_def("low_stock_digest_daily")
    assert schedule.cron_schedule == "0 8 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.job_name == pipeline.low_stock_digest_job.name
    assert pipeline.digest_cron(Settings(low_stock_digest_hour=21).low_stock_digest_hour) == "0 21 * * *"
    with pytest.raises(ValueError, match="not a time zone"):
        Settings(low_stock_digest_timezone="Mars/Olympus")
