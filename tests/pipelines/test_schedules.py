# The reconcile schedules fan out one run per shop partition, tagged for the per-shop run limit; nightly runs are full.
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest

from pipelines import schedules

TICK = datetime(2027, 1, 15, 3, 0, tzinfo=UTC)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # A schedule context rebuilds its instance from a reference, which an in-memory instance lacks.
    with dg.instance_for_test() as temporary:
        yield temporary


def requests(schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK)
    result = schedule(context)
    if isinstance(result, dg.SkipReason):
        return []
    assert isinstance(result, list)
    return result


def test_no_shop_no_run(instance: dg.DagsterInstance) -> None:
    assert requests(schedules.reconcile_every_15_minutes, instance) == []


def test_every_shop_gets_its_own_reconcile_run(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("shops", ["shopee-7001", "tiktokshop-7494"])
    incremental = requests(schedules.reconcile_every_15_minutes, instance)
    nightly = requests(schedules.full_reconcile_nightly, instance)

    assert [r.partition_key for r in incremental] == ["shopee-7001", "tiktokshop-7494"]
    assert [r.tags["syncstore/shop"] for r in incremental] == ["shopee-7001", "tiktokshop-7494"]
    assert all(r.tags["syncstore/full"] == "false" and not r.run_config for r in incremental)
    assert all(r.tags["syncstore/full"] == "true" for r in nightly)
    assert all(r.run_config == {"ops": {"shop_snapshot": {"config": {"full": True}}}} for r in nightly)
    assert len({r.run_key for r in incremental + nightly}) == 4
