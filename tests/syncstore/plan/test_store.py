# The stored plan: kept with its versions, current until the catalog or the shop changes, applied as stored.
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import SyncLog, SyncPlan
from syncstore.plan import inputs as sync_inputs
from syncstore.plan import store
from syncstore.plan.changes import UpdatePrice
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from tests.syncstore.simulated_shops import EDITOR, MarketplaceWorld


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def stored_plan(world: MarketplaceWorld, connection_id: int) -> int:
    """What catalog_diff does: the versions first, then the plan, stored."""
    [shop] = sync_inputs.shops(world.engine, [connection_id])
    at = store.versions(world.engine, connection_id)
    return store.save(world.engine, store.plan_now(world.engine, shop), at, run_id="diff-run")


def reprice(world: MarketplaceWorld, product_id: int, variant_id: int, version: int, price: str) -> None:
    with transaction(world.engine) as session:
        catalog.update_product(EDITOR, session, product_id, expected_version=version,
                               changes={"variants": [{"id": variant_id, "price": price}]})  # fmt: skip


def in_sync(world: MarketplaceWorld) -> MarketplaceWorld:
    for connection_id in world.connection_ids:
        connector = world.connector(connection_id)
        snapshot.pull(world.engine, connection_id, connector)
        sync.sync_shop(world.engine, connection_id, connector)
        snapshot.pull(world.engine, connection_id, connector)
    return world


def test_a_stored_plan_reads_back_and_is_current_until_the_catalog_or_the_shop_changes(world: MarketplaceWorld) -> None:
    shirt = world.product("LIN-1")
    in_sync(world)
    connection_id = world.shopee_connection
    [shop] = sync_inputs.shops(world.engine, [connection_id])
    reprice(world, shirt.id, shirt.variants[0].id, 1, "64.90")
    plan_id = stored_plan(world, connection_id)

    stored = store.current(world.engine, shop)
    assert stored is not None and stored.id == plan_id and stored.status == "planned"
    [change] = stored.planned.changes
    assert isinstance(change, UpdatePrice) and change.price == Decimal("64.90")
    assert change == store.plan_now(world.engine, shop).changes[0]  # the same change, the same key
    # The app's dry run shows that stored plan while it is current.
    [plan] = [p for p in sync.dry_run(world.engine) if p.connection_id == connection_id]
    assert plan.plan_id == plan_id and plan.changes == (change,)

    # Another edit: the plan is no longer current; the dry run plans again.
    reprice(world, shirt.id, shirt.variants[0].id, 2, "69.90")
    assert store.current(world.engine, shop) is None
    [plan] = [p for p in sync.dry_run(world.engine) if p.connection_id == connection_id]
    assert plan.plan_id is None and [c.request()["price"] for c in plan.changes] == ["69.90"]


def test_listing_sync_applies_the_stored_plan_and_records_it_applied(world: MarketplaceWorld) -> None:
    shirt = world.product("LIN-1")
    in_sync(world)
    connection_id = world.shopee_connection
    reprice(world, shirt.id, shirt.variants[0].id, 1, "64.90")
    plan_id = stored_plan(world, connection_id)

    applied = sync.sync_planned(world.engine, connection_id, world.connector(connection_id), run_id="sync-run")
    assert (applied.plan_id, applied.source, applied.replanned) == (plan_id, "stored", ())
    assert (applied.report.succeeded, applied.report.failed) == (1, 0)
    assert world.shown(connection_id, shirt.variants[0].id)["price"] == Decimal("64.90")
    with transaction(world.engine) as session:
        row = session.get_one(SyncPlan, plan_id)
        assert (row.status, row.applied_run_id) == ("applied", "sync-run")
        [log] = session.scalars(sa.select(SyncLog).where(SyncLog.run_id == "sync-run")).all()
        assert (log.operation, log.request_data["price"], log.status) == ("update_price", "64.90", "success")


def test_only_the_products_edited_since_the_plan_are_planned_again(world: MarketplaceWorld) -> None:
    shirt, mug, hat = world.product("LIN-1"), world.product("MUG-1", title="Mug"), world.product("HAT-1", title="Hat")
    in_sync(world)
    connection_id = world.shopee_connection
    reprice(world, shirt.id, shirt.variants[0].id, 1, "64.90")
    reprice(world, mug.id, mug.variants[0].id, 1, "12.00")
    plan_id = stored_plan(world, connection_id)
    reprice(world, mug.id, mug.variants[0].id, 2, "13.00")  # after catalog_diff ran

    applied = sync.sync_planned(world.engine, connection_id, world.connector(connection_id), run_id="sync-run")
    assert applied.source == "refreshed" and applied.replanned == (mug.id,) and applied.plan_id != plan_id
    assert applied.report.succeeded == 2
    shown = {p.id: world.shown(connection_id, p.variants[0].id)["price"] for p in (shirt, mug, hat)}
    assert shown == {shirt.id: Decimal("64.90"), mug.id: Decimal("13.00"), hat.id: Decimal("59.90")}
    with transaction(world.engine) as session:
        row = session.get_one(SyncPlan, applied.plan_id)
        assert row.status == "applied" and len(row.changes) == 2
    # Nothing left to do.
    snapshot.pull(world.engine, connection_id, world.connector(connection_id))
    assert world.pending_pushes()[connection_id] == []


def test_a_changed_snapshot_plans_the_whole_shop_again(world: MarketplaceWorld) -> None:
    shirt = world.product("LIN-1")
    in_sync(world)
    connection_id = world.shopee_connection
    reprice(world, shirt.id, shirt.variants[0].id, 1, "64.90")
    stored_plan(world, connection_id)
    world.product("MUG-1", title="Mug")  # a new product: only products changed, it is planned on its own
    snapshot.pull(world.engine, connection_id, world.connector(connection_id), full=True)
    with transaction(world.engine) as session:  # and the shop's row changed (e.g. its region)
        session.execute(sa.text("UPDATE platform_connections SET region = 'MY' WHERE id = :id"), {"id": connection_id})
    applied = sync.sync_planned(world.engine, connection_id, world.connector(connection_id), run_id="sync-run")
    assert applied.source == "planned" and applied.replanned == ()
    assert applied.report.succeeded == 2  # the price and the new listing


def test_plans_are_kept_per_shop_up_to_a_limit(world: MarketplaceWorld) -> None:
    for _ in range(store.KEEP + 3):
        stored_plan(world, world.shopee_connection)
    stored_plan(world, world.tiktok_connection)
    with transaction(world.engine) as session:
        counts = dict(
            session.execute(sa.select(SyncPlan.connection_id, sa.func.count()).group_by(SyncPlan.connection_id)).all()
        )
    assert counts == {world.shopee_connection: store.KEEP, world.tiktok_connection: 1}


def test_the_agreed_baselines_survive_storage(world: MarketplaceWorld) -> None:
    world.product("LIN-1")
    in_sync(world)
    [shop] = sync_inputs.shops(world.engine, [world.shopee_connection])
    planned = store.plan_now(world.engine, shop)
    planned = store.Planned(shop, planned.changes, planned.conflicts,
                            ({1: {"price": Decimal("1.50"), "stock": 3}}, {2: {"images": ["a.jpg"], "title": "T"}}),
                            planned.summary)  # fmt: skip
    store.save(world.engine, planned, store.versions(world.engine, shop.connection_id))
    stored = store.latest(world.engine, shop)
    assert stored is not None and stored.planned.baselines == planned.baselines
