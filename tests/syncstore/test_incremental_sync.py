# Issue 15 item 5: a product's sync plans what a full sync would plan for it, reading rows in proportion to it.
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bench.rowcount import counting_engine
from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.db.engine import transaction
from syncstore.plan import reconcile
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from tests.syncstore.simulated_shops import EDITOR, SHOPEE_SHOP, MarketplaceWorld


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def _sync_all(world: MarketplaceWorld) -> None:
    for connection_id in world.connection_ids:
        connector = world.connector(connection_id)
        snapshot.pull(world.engine, connection_id, connector)
        report = sync.sync_shop(world.engine, connection_id, connector)
        assert report.failed == 0 and report.invalid == 0


def _keys(plans: list[sync.ShopPlan], product_ids: set[int]) -> dict[int, list[str]]:
    return {
        plan.connection_id: sorted(c.idempotency_key for c in plan.changes if c.product_id in product_ids)
        for plan in plans
    }


def _set_price(world: MarketplaceWorld, product_id: int, variant_id: int, price: str) -> None:
    with transaction(world.engine) as session:
        product = catalog_reads.get_product(session, product_id)
        catalog.update_product(EDITOR, session, product_id, expected_version=product.version,
                               changes={"variants": [{"id": variant_id, "price": price}]})  # fmt: skip


def test_a_product_plan_is_the_full_plan_of_that_product(world: MarketplaceWorld) -> None:
    shirt = world.product("LIN-1", variants=2)
    other = world.product("LIN-2", title="Other shirt")
    _sync_all(world)
    _set_price(world, shirt.id, shirt.variants[0].id, "61.90")
    _set_price(world, other.id, other.variants[0].id, "44.00")
    # A product new to the master that the Shopee shop already sells under another spelling of its SKU:
    # the scoped plan binds it (as the full plan does) instead of listing it a second time.
    world.shopee.add_item(SHOPEE_SHOP, name="Mug (old)", item_sku="mug-9", price="11.00", stock=1)
    snapshot.pull(world.engine, world.shopee_connection, world.connector(world.shopee_connection))
    mug = world.product("MUG-9", title="Mug", price="12.50", stock=4)

    scope = {shirt.id, mug.id}
    full = _keys(sync.dry_run(world.engine), scope)
    scoped = _keys(sync.dry_run(world.engine, product_ids=sorted(scope)), scope)
    assert scoped == full
    assert all(full.values()), "the edit and the new product are planned on both shops"
    shopee_plan = sync.dry_run(world.engine, product_ids=[mug.id], connection_ids=[world.shopee_connection])
    assert next(c.operation for c in shopee_plan[0].changes if c.product_id == mug.id) != "create"

    # The scoped snapshot holds the product's own SKUs and listings, nothing of the other product.
    skus, listings = reconcile.load_remote(world.engine, world.tiktok_connection, product_ids=[shirt.id])
    assert set(skus["variant_id"].to_list()) == {v.id for v in shirt.variants}
    assert set(listings["listing_product_id"].to_list()) == {shirt.id}


def test_a_product_sync_reads_as_many_rows_in_a_big_shop_as_in_a_small_one(world: MarketplaceWorld) -> None:
    shirt = world.product("LIN-1", variants=2)
    _sync_all(world)
    engine, counter = counting_engine(world.engine.url.render_as_string(hide_password=False))

    def rows_of_one_edit(price: str) -> int:
        before = counter.rows
        _set_price(world, shirt.id, shirt.variants[0].id, price)
        for plan in sync.dry_run(engine, product_ids=[shirt.id]):
            assert [c.operation for c in plan.changes] == ["update_price"]
        return counter.rows - before

    try:
        rows_of_one_edit("60.90")  # warm-up: connections and their first queries
        small = rows_of_one_edit("61.90")
        for index in range(12):  # more listed products, each with an override of its own
            big = world.product(f"BIG-{index}", title=f"Shirt {index}", variants=2)
            with transaction(world.engine) as session:
                catalog.set_override(EDITOR, session, big.id, platform="shopee", field="price",
                                     value=Decimal("70.00"), variant_id=big.variants[0].id)  # fmt: skip
        _sync_all(world)
        big = rows_of_one_edit("62.90")
    finally:
        engine.dispose()
    assert big == small, f"one product's plan read {small} rows beside 1 product and {big} beside 13"
