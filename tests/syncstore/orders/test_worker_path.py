# Orders reach the Orders rows through the real worker paths: a Shopee webhook and a lost webhook's order poll.
from __future__ import annotations

import time

from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct
from syncstore.orders import reads
from syncstore.orders.reads import OrderFilters
from syncstore.workers import dispatch, recovery
from tests.syncstore.simulated_shops import SHOPEE_SHOP, MarketplaceWorld
from tests.syncstore.test_dispatch import order_on_shopee, shopee_push


def detail_of(world: MarketplaceWorld, order_sn: str) -> reads.OrderDetail:
    with transaction(world.engine) as session:
        [order] = reads.list_orders(session, OrderFilters(order_id=order_sn)).orders
        return reads.get_order(session, order.id)


def test_a_webhook_order_appears_with_its_bound_sku_and_effects_then_its_cancellation(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    order_sn = order_on_shopee(world, variant_id, 3)
    dispatch.process_events(world.engine, world.connector)

    placed = detail_of(world, order_sn)
    assert (placed.order.platform, placed.order.shop_name, placed.order.status) == (
        "shopee",
        "Shopee demo shop",
        "pending",
    )
    assert [(ln.master_sku, ln.quantity) for ln in placed.order.lines] == [("MUG-1", 3)]
    assert [(e.transition, e.sku, e.reserved_change) for e in placed.effects] == [("reserve", "MUG-1", 3)]

    world.shopee.set_order_status(order_sn, "CANCELLED")
    shopee_push(world.engine, 3, {"ordersn": order_sn, "status": "CANCELLED", "update_time": int(time.time()) + 1})
    dispatch.process_events(world.engine, world.connector)

    cancelled = detail_of(world, order_sn)
    assert (cancelled.order.id, cancelled.order.status, cancelled.order.raw_status) == (
        placed.order.id,
        "cancelled",
        "CANCELLED",
    )
    assert [(e.transition, e.reserved_change) for e in cancelled.effects] == [("reserve", 3), ("release", -3)]


def test_an_order_whose_webhook_was_lost_appears_through_the_order_poll(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    item_id, model_id = world.remote_item(world.shopee_connection, variant_id)
    order_sn = world.shopee.place_order(SHOPEE_SHOP, int(item_id), int(model_id), 2)  # no webhook

    recovery.recover(world.engine, world.connector, run_id="poll")

    found = detail_of(world, order_sn)
    assert [(ln.master_sku, ln.quantity) for ln in found.order.lines] == [("MUG-1", 2)]
    assert [(e.transition, e.reserved_change) for e in found.effects] == [("reserve", 2)]
