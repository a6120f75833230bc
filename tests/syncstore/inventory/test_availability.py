# Channel quantities: each shop's source locations, bundles from components, and what the stock push computes.
from __future__ import annotations

import polars as pl

from connectors.base import OrderStatus
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing, PlatformListingSku
from syncstore.inventory import availability, bundles, ledger, locations
from syncstore.plan import inputs as sync_inputs
from syncstore.sync import stock
from tests.syncstore.inventory.conftest import ADMIN, EDITOR, Store, apply, order


def bind_everything(store: Store) -> None:
    """Every variant listed in both shops (one listing per variant), showing stock 0."""
    with transaction(store.engine) as session:
        for connection_id, platform in ((store.shopee, "shopee"), (store.tiktok, "tiktokshop")):
            for sku, variant_id in store.variants.items():
                listing = PlatformListing(connection_id=connection_id, platform=platform, remote_item_id=sku,
                                          remote_status="NORMAL")  # fmt: skip
                session.add(listing)
                session.flush()
                session.add(PlatformListingSku(listing_id=listing.id, connection_id=connection_id,
                                               variant_id=variant_id, remote_sku_id=sku, remote_stock=0))  # fmt: skip


def two_locations(store: Store) -> tuple[int, int]:
    """Shopee sells the main warehouse, TikTok Shop the store; CUP 12 + 8, LID 9 + 0."""
    with transaction(store.engine) as session:
        main = ledger.default_location_id(session)
        shop_floor = locations.create_location(EDITOR, session, "Store").id
        locations.transfer_stock(EDITOR, session, store.variants["CUP"], from_location_id=main,
                                 to_location_id=shop_floor, quantity=8)  # fmt: skip
        locations.set_shop_sources(ADMIN, session, store.shopee, [main])
        locations.set_shop_sources(ADMIN, session, store.tiktok, [shop_floor])
        bundles.set_components(EDITOR, session, store.variants["KIT"], [("CUP", 2), ("LID", 1)])
    return main, shop_floor


def test_each_shop_sells_its_locations_and_bundles_follow(store: Store) -> None:
    two_locations(store)
    cup, lid, kit = store.variants["CUP"], store.variants["LID"], store.variants["KIT"]
    frame = availability.channel_available(store.engine, [cup, lid, kit], [store.shopee, store.tiktok])
    by_shop = {(c, v): a for c, v, a in frame.rows()}
    assert (by_shop[(store.shopee, cup)], by_shop[(store.shopee, lid)], by_shop[(store.shopee, kit)]) == (12, 9, 6)
    assert (by_shop[(store.tiktok, cup)], by_shop[(store.tiktok, lid)], by_shop[(store.tiktok, kit)]) == (8, 0, 0)
    with transaction(store.engine) as session:
        assert availability.available_totals(session, [cup, lid, kit]) == {cup: 20, lid: 9, kit: 9}


def test_the_push_of_a_component_recomputes_its_bundles_per_shop_and_nothing_else(store: Store) -> None:
    two_locations(store)
    bind_everything(store)
    cup, kit = store.variants["CUP"], store.variants["KIT"]
    apply(store.engine, store.shopee, order("A-1", OrderStatus.PAID, ("KIT", 2)))  # 4 cups, 2 lids at main
    computed = {shop.connection_id: rows for shop, rows in stock.channel_stock(store.engine, [cup])}
    assert {c: sorted(zip(r["variant_id"], r["desired_stock"], strict=True)) for c, r in computed.items()} == {
        store.shopee: [(cup, 8), (kit, 4)],
        store.tiktok: [(cup, 8), (kit, 0)],
    }
    # The full sync's plan input gives the same quantities (one code path).
    inputs = sync_inputs.load_inputs(store.engine)
    for shop in sync_inputs.shops(store.engine):
        desired = sync_inputs.desired(inputs, shop).filter(pl.col("variant_id") == kit)
        assert desired["desired_stock"].to_list() == [4 if shop.connection_id == store.shopee else 0]
