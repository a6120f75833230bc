# The reconcile schedules fan out one run per shop partition, tagged for the per-shop run limit; nightly runs are full.
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.resources import DatabaseResource
from pipelines import schedules, shops
from syncstore.db.engine import transaction
from syncstore.security.auth import Actor
from syncstore.shops import connections
from tests.pipelines.test_sensors import connect

TICK = datetime(2027, 1, 15, 3, 0, tzinfo=UTC)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # A schedule context rebuilds its instance from a reference, which an in-memory instance lacks.
    with dg.instance_for_test() as temporary:
        yield temporary


@pytest.fixture
def database(engine: sa.Engine) -> DatabaseResource:
    return DatabaseResource(url=engine.url.render_as_string(hide_password=False))


def requests(
    schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, database: DatabaseResource
) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=TICK, resources={"database": database}
    )
    result = schedule(context)
    if isinstance(result, dg.SkipReason):
        return []
    assert isinstance(result, list)
    return result


def test_no_shop_no_run(instance: dg.DagsterInstance, database: DatabaseResource) -> None:
    assert requests(schedules.reconcile_every_15_minutes, instance, database) == []


def test_every_shop_gets_its_own_reconcile_run(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(engine, "shopee", "7001")
    connect(engine, "tiktokshop", "7494")
    monkeypatch.setattr(shops, "LOADED_SHOPS", ("shopee-7001", "tiktokshop-7494"))
    incremental = requests(schedules.reconcile_every_15_minutes, instance, database)
    nightly = requests(schedules.full_reconcile_nightly, instance, database)

    assert [r.partition_key for r in incremental] == ["shopee-7001", "tiktokshop-7494"]
    assert [r.tags["syncstore/shop"] for r in incremental] == ["shopee-7001", "tiktokshop-7494"]
    assert all(r.tags["syncstore/full"] == "false" and not r.run_config for r in incremental)
    assert all(r.tags["syncstore/full"] == "true" for r in nightly)
    assert all(r.run_config == {"ops": {"shop_snapshot": {"config": {"full": True}}}} for r in nightly)
    assert len({r.run_key for r in incremental + nightly}) == 4


def test_only_shops_both_loaded_and_still_connected_are_reconciled(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loaded with shopee-7001 and shopee-9; since then shopee-9 was disconnected and lazada-1 connected: the
    # code location does not know lazada-1 until the reload (a run for it would fail the tick), and
    # shopee-9 has nothing to sync with.
    connect(engine, "shopee", "7001")
    gone = connect(engine, "shopee", "9")
    connect(engine, "lazada", "1")
    with transaction(engine) as session:
        connections.disconnect(Actor.command_line(), session, gone)
    monkeypatch.setattr(shops, "LOADED_SHOPS", ("shopee-7001", "shopee-9"))

    incremental = requests(schedules.reconcile_every_15_minutes, instance, database)
    assert [r.partition_key for r in incremental] == ["shopee-7001"]
