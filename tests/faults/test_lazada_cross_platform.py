# The order promise across three marketplaces: an order on Lazada lowers stock on Shopee and TikTok Shop, and back.
"""Shopee, TikTok Shop and Lazada shops of one merchant, each on its simulator, connected to one SyncStore; orders
are read by the polling backstop (`recovery.recover`) and the stock that moved is pushed to every channel."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from connectors.lazada.simulator.server import LazadaSimulator
from syncstore.db.engine import transaction
from syncstore.inventory import ledger as inventory
from syncstore.shops import connections
from syncstore.sync import engine as sync
from syncstore.workers import recovery
from tests.faults.test_lazada_sync import APP_KEY, APP_SECRET, LEAF, SELLER
from tests.syncstore.simulated_shops import ADMIN, EDITOR, KEYRING, TIKTOK_SHOP, MarketplaceWorld

STOCK = 10


@pytest.fixture
def three(engine: sa.Engine) -> Iterator[tuple[MarketplaceWorld, LazadaSimulator, int]]:
    world = MarketplaceWorld.start(engine)
    lazada = LazadaSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
    url = lazada.start()
    lazada.add_seller(SELLER, "Lazada demo shop", country="my")
    world.settings = world.settings.model_copy(
        update={
            "lazada_app_key": APP_KEY,
            "lazada_app_secret": SecretStr(APP_SECRET),
            "lazada_api_host": url,
            "lazada_auth_host": url,
            "lazada_authorize_host": url,
        }
    )
    access, refresh = lazada.token_for(SELLER)
    with transaction(engine) as session:
        row = connections.save_connection(
            ADMIN, session, platform="lazada", shop_id=SELLER, shop_name="Lazada demo shop", region="MY",
            access_token=access, refresh_token=refresh, access_token_expires_at=datetime.now(UTC) + timedelta(hours=3),
            refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
        sync.set_category_mapping(EDITOR, session, "lazada", "Fashion", LEAF)
        lazada_connection = row.id
    yield world, lazada, lazada_connection
    lazada.stop()
    world.stop()


def _reserved(engine: sa.Engine, variant_id: int) -> int:
    with transaction(engine) as session:
        (level,) = inventory.levels(session, [variant_id])
        return level.reserved


def test_an_order_on_lazada_lowers_stock_on_shopee_and_tiktok_and_back(
    three: tuple[MarketplaceWorld, LazadaSimulator, int],
) -> None:
    world, lazada, lazada_connection = three
    shirt = world.product("X3-SHIRT", stock=STOCK)
    variant = shirt.variants[0].id
    for connection_id in (*world.connection_ids, lazada_connection):
        assert not sync.sync_shop(world.engine, connection_id, world.connector(connection_id)).failed

    def lazada_stock() -> int:
        item_id, sku_id = world.remote_item(lazada_connection, variant)
        sku = lazada.state.products[item_id].sku(sku_id)
        assert sku is not None
        return sku.total_sellable

    assert lazada_stock() == STOCK

    item_id, sku_id = world.remote_item(lazada_connection, variant)
    lazada.place_order(SELLER, [(item_id, sku_id, 2)])  # two unit rows
    recovery.recover(
        world.engine, world.connector, now=datetime.now(UTC) + timedelta(seconds=5), settings=world.settings
    )
    assert _reserved(world.engine, variant) == 2
    assert world.shown(world.shopee_connection, variant)["stock"] == STOCK - 2
    assert world.shown(world.tiktok_connection, variant)["stock"] == STOCK - 2
    assert lazada_stock() == STOCK - 2

    product_id, tiktok_sku = world.remote_item(world.tiktok_connection, variant)
    world.tiktok.place_order(TIKTOK_SHOP, product_id, tiktok_sku, qty=3)
    recovery.recover(
        world.engine, world.connector, now=datetime.now(UTC) + timedelta(seconds=10), settings=world.settings
    )
    assert _reserved(world.engine, variant) == 5
    assert lazada_stock() == STOCK - 5
    assert world.shown(world.shopee_connection, variant)["stock"] == STOCK - 5


def test_j4_random_orders_on_lazada_and_tiktok_never_oversell(
    three: tuple[MarketplaceWorld, LazadaSimulator, int],
) -> None:
    """Seeded random buyers on Lazada (one row per unit) and TikTok Shop, cancellations of single units and
    whole orders, shipments; each step is followed by a poll (`recovery.recover`) that pushes the stock."""
    world, lazada, lazada_connection = three
    stock = 6
    shirt = world.product("J4-LZ", stock=stock)
    variant = shirt.variants[0].id
    for connection_id in (*world.connection_ids, lazada_connection):
        assert not sync.sync_shop(world.engine, connection_id, world.connector(connection_id)).failed
    lz_item, lz_sku = world.remote_item(lazada_connection, variant)
    tt_product, tt_sku = world.remote_item(world.tiktok_connection, variant)
    rng = random.Random(20)
    step_time = datetime.now(UTC)

    def sold() -> int:
        """Units sold and not cancelled on both channels (open or shipped)."""
        on_lazada = sum(
            1 for order in lazada.state.orders.values() for unit in order.items if unit.status != "canceled"
        )
        on_tiktok = sum(
            1
            for order in world.tiktok.state.orders.values()
            for line in order.line_items
            if line.display_status != "CANCELLED"
        )
        return on_lazada + on_tiktok

    for _ in range(30):
        action = rng.choice(("lazada", "tiktok", "cancel_unit", "cancel_tiktok", "ship"))
        with contextlib.suppress(ValueError):  # the channel refuses more than it shows
            if action == "lazada":
                lazada.place_order(SELLER, [(lz_item, lz_sku, rng.randint(1, 2))])
            elif action == "tiktok":
                world.tiktok.place_order(TIKTOK_SHOP, tt_product, tt_sku, qty=rng.randint(1, 2))
            elif action == "cancel_unit" and lazada.state.orders:
                order = rng.choice(list(lazada.state.orders.values()))
                open_units = [unit.order_item_id for unit in order.items if unit.status == "pending"]
                if open_units:
                    lazada.set_item_status(order.order_id, "canceled", [rng.choice(open_units)])
            elif action == "cancel_tiktok" and world.tiktok.state.orders:
                order_id = rng.choice(list(world.tiktok.state.orders))
                if world.tiktok.state.orders[order_id].status == "AWAITING_SHIPMENT":
                    world.tiktok.set_order_status(order_id, "CANCELLED")
            elif action == "ship" and lazada.state.orders:
                order = rng.choice(list(lazada.state.orders.values()))
                lazada.set_item_status(
                    order.order_id, "ready_to_ship", [u.order_item_id for u in order.items if u.status == "pending"]
                )
        step_time += timedelta(seconds=2)
        recovery.recover(world.engine, world.connector, now=step_time, settings=world.settings)
        assert sold() <= stock, "a unit was sold twice"

    with transaction(world.engine) as session:
        (level,) = inventory.levels(session, [variant])
    shipped = sum(1 for order in lazada.state.orders.values() for unit in order.items if unit.status == "ready_to_ship")
    open_lazada = sum(1 for order in lazada.state.orders.values() for unit in order.items if unit.status == "pending")
    open_tiktok = sum(
        1
        for order in world.tiktok.state.orders.values()
        for line in order.line_items
        if line.display_status == "AWAITING_SHIPMENT"
    )
    assert level.reserved == open_lazada + open_tiktok
    assert level.on_hand == stock - shipped
    sellable = level.on_hand - level.reserved
    item_id, sku_id = lz_item, lz_sku
    sku = lazada.state.products[item_id].sku(sku_id)
    assert sku is not None and sku.total_sellable == sellable
    assert world.shown(world.tiktok_connection, variant)["stock"] == sellable
    assert world.shown(world.shopee_connection, variant)["stock"] == sellable
