# Snapshot pulls against both simulators: remote values stored, incremental by update time, full pulls find deletions.
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
import sqlalchemy as sa

from connectors.base import Connector, ItemChange
from connectors.retry import RetryPolicy
from connectors.simulator.common import FaultPlan
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing
from syncstore.sync import snapshot
from tests.syncstore.simulated_shops import SHOPEE_SHOP, TIKTOK_SHOP, MarketplaceWorld

SHOPEE_LIST, TIKTOK_LIST = "/api/v2/product/get_item_list", "/product/202309/products/search"
SHOPEE_DETAIL = "/api/v2/product/get_item_base_info"
AN_HOUR_AGO = int(time.time()) - 3600


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def listings(engine: sa.Engine, connection_id: int) -> dict[str, PlatformListing]:
    with transaction(engine) as session:
        rows = session.scalars(sa.select(PlatformListing).where(PlatformListing.connection_id == connection_id)).all()
        for row in rows:
            _ = row.skus
        session.expunge_all()
    return {row.remote_item_id: row for row in rows}


def cursor(engine: sa.Engine, connection_id: int) -> datetime | None:
    with transaction(engine) as session:
        return session.get_one(PlatformConnection, connection_id).snapshot_cursor


def test_a_first_pull_stores_every_remote_listing_without_touching_the_baseline(world: MarketplaceWorld) -> None:
    models = [("LIN-S", "59.90", 3), ("LIN-M", "61.00", 0)]
    shirt = world.shopee.add_item(SHOPEE_SHOP, name="Linen shirt", models=models, update_time=AN_HOUR_AGO)
    hidden = world.shopee.add_item(SHOPEE_SHOP, name="Old mug", item_sku="MUG", status="UNLIST", stock=2)
    mug = world.tiktok.add_product(
        TIKTOK_SHOP, title="Mug", skus=[{"seller_sku": "MUG-1", "price": "12.50", "stock": 7}]
    )

    reports = [snapshot.pull(world.engine, c, world.connector(c)) for c in world.connection_ids]
    assert [(r.full, r.listings, r.skus) for r in reports] == [(True, 2, 3), (True, 1, 1)]
    assert all(r.cursor is not None for r in reports)

    shopee = listings(world.engine, world.shopee_connection)
    assert {item: row.remote_status for item, row in shopee.items()} == {str(shirt): "active", str(hidden): "inactive"}
    stored = {sku.seller_sku: (sku.remote_price, sku.remote_stock, sku.base_price, sku.variant_id)
              for sku in shopee[str(shirt)].skus}  # fmt: skip
    assert stored == {"LIN-S": (Decimal("59.90"), 3, None, None), "LIN-M": (Decimal("61.00"), 0, None, None)}
    tiktok = listings(world.engine, world.tiktok_connection)[mug]
    assert (tiktok.remote_title, tiktok.base_title, tiktok.remote_status, tiktok.product_id) == (
        "Mug", None, "active", None,
    )  # fmt: skip
    assert [(s.seller_sku, s.remote_price, s.remote_stock) for s in tiktok.skus] == [("MUG-1", Decimal("12.50"), 7)]


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
def test_an_unchanged_shop_costs_one_list_call_and_no_detail(world: MarketplaceWorld, platform: str) -> None:
    connection_id = world.shopee_connection if platform == "shopee" else world.tiktok_connection
    for index in range(120):  # more than one page, all changed an hour ago
        if platform == "shopee":
            world.shopee.add_item(SHOPEE_SHOP, name=f"Item {index}", item_sku=f"S-{index}", update_time=AN_HOUR_AGO)
        else:
            world.tiktok.add_product(TIKTOK_SHOP, title=f"Item {index}", update_time=AN_HOUR_AGO)
    connector = world.connector(connection_id)
    first = snapshot.pull(world.engine, connection_id, connector)
    assert first.full and first.listings == 120

    requests_before = (
        world.shopee.request_count() if platform == "shopee" else sum(world.tiktok.request_counts.values())
    )
    second = snapshot.pull(world.engine, connection_id, connector)
    requests = (
        world.shopee.request_count() if platform == "shopee" else sum(world.tiktok.request_counts.values())
    ) - requests_before
    assert (second.full, second.listings, second.api_calls, requests) == (False, 0, 1, 1)
    assert second.cursor is not None and first.cursor is not None and second.cursor > first.cursor


def test_an_incremental_pull_fetches_only_what_changed(world: MarketplaceWorld) -> None:
    product_ids = [world.tiktok.add_product(TIKTOK_SHOP, title=f"P{i}", update_time=AN_HOUR_AGO) for i in range(5)]
    connector = world.connector(world.tiktok_connection)
    snapshot.pull(world.engine, world.tiktok_connection, connector)
    world.tiktok.edit_product(product_ids[2], title="P2 renamed")
    world.tiktok.reset_counts()

    report = snapshot.pull(world.engine, world.tiktok_connection, connector)
    assert (report.full, report.listings) == (False, 1)
    assert world.tiktok.requests(f"/product/202309/products/{product_ids[2]}") == 1
    assert listings(world.engine, world.tiktok_connection)[product_ids[2]].remote_title == "P2 renamed"


def test_the_cursor_moves_only_after_a_successful_pull(world: MarketplaceWorld) -> None:
    world.shopee.add_item(SHOPEE_SHOP, name="Item", item_sku="S-1")
    snapshot.pull(world.engine, world.shopee_connection, world.connector(world.shopee_connection))
    before = cursor(world.engine, world.shopee_connection)
    world.shopee.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
    world.policy = RetryPolicy(max_attempts=1)
    later = datetime.now(UTC) + timedelta(minutes=5)
    with pytest.raises(Exception, match="error_server"):
        snapshot.pull(world.engine, world.shopee_connection, world.connector(world.shopee_connection), now=later)
    assert cursor(world.engine, world.shopee_connection) == before


def test_a_full_pull_marks_listings_gone_from_the_shop_as_deleted(world: MarketplaceWorld) -> None:
    kept = world.shopee.add_item(SHOPEE_SHOP, name="Kept", item_sku="K-1")
    gone = world.shopee.add_item(SHOPEE_SHOP, name="Gone", item_sku="G-1")
    connector = world.connector(world.shopee_connection)
    snapshot.pull(world.engine, world.shopee_connection, connector)
    del world.shopee.state.items[gone]

    snapshot.pull(world.engine, world.shopee_connection, connector)  # incremental: cannot see a vanished item
    assert listings(world.engine, world.shopee_connection)[str(gone)].remote_status == "active"
    report = snapshot.pull(world.engine, world.shopee_connection, connector, full=True)
    assert report.full
    statuses = {item: row.remote_status for item, row in listings(world.engine, world.shopee_connection).items()}
    assert statuses == {str(kept): "active", str(gone): "deleted"}


def test_pull_items_refreshes_the_named_items_and_leaves_the_cursor(world: MarketplaceWorld) -> None:
    product_id = world.tiktok.add_product(
        TIKTOK_SHOP, title="Mug", skus=[{"seller_sku": "M", "price": "5.00", "stock": 1}]
    )
    connector = world.connector(world.tiktok_connection)
    snapshot.pull(world.engine, world.tiktok_connection, connector)
    before = cursor(world.engine, world.tiktok_connection)
    [sku_id] = world.tiktok.sku_ids(product_id)
    world.tiktok.edit_product(product_id, prices={sku_id: "6.50"}, status="SELLER_DEACTIVATED")

    report = snapshot.pull_items(world.engine, world.tiktok_connection, connector, [product_id, "999999"])
    assert (report.full, report.listings, report.cursor) == (False, 1, before)
    row = listings(world.engine, world.tiktok_connection)[product_id]
    assert row.remote_status == "inactive" and row.skus[0].remote_price == Decimal("6.50")


def test_a_full_pull_leaves_alone_a_listing_created_while_it_ran(world: MarketplaceWorld) -> None:
    connector = world.connector(world.shopee_connection)

    class CreatedMeanwhile:
        """The shop's connector, while a concurrent sync stores a listing it just created."""

        platform = "shopee"

        def __getattr__(self, name: str) -> Any:
            return getattr(connector, name)

        def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
            with transaction(world.engine) as session:
                session.add(PlatformListing(connection_id=world.shopee_connection, platform="shopee",
                                            remote_item_id="424242", remote_status="active"))  # fmt: skip
            return connector.list_changed_items(since, until)

    snapshot.pull(world.engine, world.shopee_connection, cast(Connector, CreatedMeanwhile()), full=True)
    assert listings(world.engine, world.shopee_connection)["424242"].remote_status == "active"


def test_a_pull_that_read_a_listing_before_a_push_keeps_what_the_push_wrote(world: MarketplaceWorld) -> None:
    # The e2e race: a reconcile's pull reads the seller's title, the events worker pushes the master's title
    # (resolving a conflict), then the pull stores what it read: the old title would come back as a seller
    # edit and reopen the conflict. The push's values stay; the next pull reads the item again.
    item = world.shopee.add_item(SHOPEE_SHOP, name="Seller's title", item_sku="MUG", update_time=AN_HOUR_AGO)
    connector = world.connector(world.shopee_connection)
    snapshot.pull(world.engine, world.shopee_connection, connector)

    class PushedMeanwhile:
        """The shop's connector, while the events worker pushes the master's title right after the read."""

        platform = "shopee"

        def __getattr__(self, name: str) -> Any:
            return getattr(connector, name)

        def get_listings(self, item_ids: list[str]) -> Any:
            read = connector.get_listings(item_ids)
            world.shopee.edit_item(item, name="Master title")  # the platform takes the push...
            with transaction(world.engine) as session:  # ...and the push writes the snapshot and the baseline
                row = session.scalars(
                    sa.select(PlatformListing).where(PlatformListing.remote_item_id == str(item))
                ).one()
                row.remote_title = row.base_title = "Master title"
                row.last_synced_at = datetime.now(UTC)
            return read

    world.shopee.edit_item(item, name="Seller's title (edited)")
    snapshot.pull(world.engine, world.shopee_connection, cast(Connector, PushedMeanwhile()))
    row = listings(world.engine, world.shopee_connection)[str(item)]
    assert (row.remote_title, row.base_title) == ("Master title", "Master title")

    # Nothing pushed during this one: what it reads is stored, the push's item included.
    world.shopee.edit_item(item, name="A later seller edit")
    # (Edits in one second move the simulator's update time a second on each: the window ends a little later.)
    snapshot.pull(world.engine, world.shopee_connection, connector, now=datetime.now(UTC) + timedelta(seconds=5))
    assert listings(world.engine, world.shopee_connection)[str(item)].remote_title == "A later seller edit"
