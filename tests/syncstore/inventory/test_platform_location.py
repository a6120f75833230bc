# The platform location a shop maps to (the Admin's choice on Connections) is where its stock is pushed.
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connectors.tiktokshop.simulator.codes import SALES_WAREHOUSE
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.inventory import ledger as inventory
from syncstore.publishing import logistics
from syncstore.shops import connections
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.sync import stock as stock_push
from tests.syncstore.simulated_shops import ADMIN, EDITOR, KEYRING, MarketplaceWorld

SHOP = 7002
SOON = datetime.now(UTC) + timedelta(hours=3)


def test_stock_goes_to_the_chosen_shopee_location_and_zero_to_the_others(engine: sa.Engine) -> None:
    world = MarketplaceWorld.start(engine)
    try:
        world.shopee.add_shop(SHOP, "Two-location shop", locations=("MYA", "MYB"))
        access, refresh = world.shopee.issue_tokens(SHOP)
        item_id = world.shopee.add_item(SHOP, name="Mug", item_sku="MUG-1", price="12.50", stock={"MYA": 4})
        with transaction(engine) as session:
            shop = connections.save_connection(
                ADMIN, session, platform="shopee", shop_id=str(SHOP), shop_name="Two locations",
                access_token=access, refresh_token=refresh, access_token_expires_at=SOON,
                refresh_token_expires_at=None, keyring=KEYRING,
            ).id  # fmt: skip
            mug = catalog.create_product(
                EDITOR, session, {"title": "Mug", "category": "Home", "base_price": "12.50",
                                  "variants": [{"sku": "MUG-1", "name": "One", "stock": 9}]},
            ).variants[0].id  # fmt: skip
        snapshot.pull(engine, shop, world.connector(shop), full=True)
        logistics.refresh_shop_logistics(ADMIN, engine, shop, world.connector(shop))
        with transaction(engine) as session:
            assert [loc.location_id for loc in logistics.shop_logistics(session, shop).locations] == ["MYA", "MYB"]
            logistics.set_shop_logistics(ADMIN, session, shop, location_id="MYB")
        assert sync.sync_shop(engine, shop, world.connector(shop)).failed == 0  # binds MUG-1 and sends its stock
        assert (world.shopee.stock_of(item_id, 0, "MYB"), world.shopee.stock_of(item_id, 0, "MYA")) == (9, 0)
        with transaction(engine) as session:
            inventory.adjust_stock(EDITOR, session, mug, delta=-2, reason="damaged")
        [report] = [r for r in stock_push.push_stock(engine, [mug], world.connector) if r.connection_id == shop]
        assert report.failed == 0
        assert (world.shopee.stock_of(item_id, 0, "MYB"), world.shopee.stock_of(item_id, 0, "MYA")) == (7, 0)
    finally:
        world.stop()


def test_stock_goes_to_the_chosen_tiktok_shop_warehouse(engine: sa.Engine) -> None:
    world = MarketplaceWorld.start(engine)
    try:
        cipher = world.tiktok.add_shop("7494000000000000999", "Two warehouses", currency="MYR", warehouses=2)
        first, second = [w.id for w in world.tiktok.warehouses("7494000000000000999") if w.type == SALES_WAREHOUSE]
        access, refresh = world.tiktok.issue_tokens("7494000000000000999")
        product_id = world.tiktok.add_product(
            "7494000000000000999", title="Mug", skus=[{"seller_sku": "MUG-1", "price": "12.50", "stock": 4}]
        )
        with transaction(engine) as session:
            shop = connections.save_connection(
                ADMIN, session, platform="tiktokshop", shop_id="7494000000000000999", shop_name="Two warehouses",
                access_token=access, refresh_token=refresh, access_token_expires_at=SOON,
                refresh_token_expires_at=None, shop_cipher=cipher, keyring=KEYRING,
            ).id  # fmt: skip
            catalog.create_product(
                EDITOR, session, {"title": "Mug", "category": "Home", "base_price": "12.50",
                                  "variants": [{"sku": "MUG-1", "name": "One", "stock": 9}]},
            )  # fmt: skip
        snapshot.pull(engine, shop, world.connector(shop), full=True)
        logistics.refresh_shop_logistics(ADMIN, engine, shop, world.connector(shop))
        with transaction(engine) as session:
            logistics.set_shop_logistics(ADMIN, session, shop, location_id=second)
        assert sync.sync_shop(engine, shop, world.connector(shop)).failed == 0
        [sku] = world.tiktok.product(product_id).skus
        assert (sku.inventory.get(second), sku.inventory.get(first, 0)) == (9, 0)
    finally:
        world.stop()
