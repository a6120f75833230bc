# The jobs run their syncstore calls: an order through apply_events, an edit through push_changes, housekeeping.
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.resources import DatabaseResource
from pipelines.jobs import apply_events, push_changes, recover_orders, refresh_tokens, retention_job
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import ApiIdempotency, OutboxEvent, SyncLog
from syncstore.db.types import utcnow
from syncstore.events import platform_events
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.workers import heartbeats
from tests.assets.test_shop_assets import SimulatedMarketplaces
from tests.syncstore.simulated_shops import EDITOR, MarketplaceWorld
from tests.syncstore.test_dispatch import order_on_shopee


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def resources(world: MarketplaceWorld) -> dict[str, Any]:
    database = DatabaseResource(url=world.engine.url.render_as_string(hide_password=False))
    marketplaces = SimulatedMarketplaces(
        database=database, shopee_host=world.settings.shopee_host, tiktok_host=world.settings.tiktokshop_api_host
    )
    return {"database": database, "marketplaces": marketplaces}


def op_metadata(result: dg.ExecuteInProcessResult, step: str) -> dict[str, Any]:
    [output] = [e for e in result.all_node_events if e.step_key == step and e.is_successful_output]
    return {key: value.value for key, value in output.event_specific_data.metadata.items()}  # type: ignore[union-attr]


def test_an_order_runs_through_apply_events_and_an_edit_through_push_changes(world: MarketplaceWorld) -> None:
    mug = world.product("MUG-1", title="Mug", price="12.50", stock=10)
    for connection_id in world.connection_ids:
        snapshot.pull(world.engine, connection_id, world.connector(connection_id))
        sync.sync_shop(world.engine, connection_id, world.connector(connection_id))
    with transaction(world.engine) as session:
        session.execute(sa.update(OutboxEvent).values(status="done"))
    variant_id = mug.variants[0].id

    order_on_shopee(world, variant_id, 2)
    result = apply_events.execute_in_process(resources=resources(world))
    assert result.success and op_metadata(result, "process_events")["completed"] == 1
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 8
    with transaction(world.engine) as session:
        assert platform_events.backlog(session).pending == 0

    with transaction(world.engine) as session:
        catalog.update_product(EDITOR, session, mug.id, expected_version=1, changes={"title": "Big mug"})
    result = push_changes.execute_in_process(resources=resources(world))
    assert result.success and op_metadata(result, "push_outbox")["failed"] == 0
    world.tiktok.pump()  # TikTok Shop audits an edit before it shows (here at once)
    assert {world.shown(c, variant_id)["title"] for c in world.connection_ids} == {"Big mug"}


def test_housekeeping_jobs_run_on_an_empty_system(engine: sa.Engine) -> None:
    database = DatabaseResource(url=engine.url.render_as_string(hide_password=False))
    with transaction(engine) as session:
        session.add(SyncLog(platform="shopee", operation="update_stock", status="success",
                            created_at=utcnow() - timedelta(days=120)))  # fmt: skip
        session.add(ApiIdempotency(owner="key:1", key="k", request_hash="0" * 64, status_code=201, body={},
                                   created_at=utcnow() - timedelta(days=2)))  # fmt: skip
    retention = retention_job.execute_in_process(resources={"database": database})
    assert retention.success and op_metadata(retention, "apply_retention")["sync_logs_archived"] == 1
    assert op_metadata(retention, "apply_retention")["api_idempotency_pruned"] == 1
    refresh = refresh_tokens.execute_in_process(resources={"database": database})
    assert refresh.success and op_metadata(refresh, "refresh_expiring_tokens")["refreshed"] == 0


def test_recover_orders_leaves_the_recovery_to_a_running_events_worker(world: MarketplaceWorld) -> None:
    heartbeats.beat(world.engine, heartbeats.worker_id())
    result = recover_orders.execute_in_process(resources=resources(world))
    assert result.success and op_metadata(result, "recover_missed_orders") == {
        "skipped": "the events worker is running"
    }

    heartbeats.forget(world.engine, heartbeats.worker_id())  # no worker: the schedule's run is the recovery
    result = recover_orders.execute_in_process(resources=resources(world))
    assert result.success and op_metadata(result, "recover_missed_orders")["shops_polled"] == 2
