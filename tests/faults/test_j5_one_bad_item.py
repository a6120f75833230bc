# J5: one bad item never stops a shop; business refusals fail that item with the platform's words, no token refresh.
"""Promise J5 against both simulators.

A shop where some items are refused for business reasons (Shopee: promotion-reserved stock above
the written stock, a promotion price lock, holiday mode; TikTok Shop: a price lock 12019045, an
audit failure) still syncs every other item in the same `sync.sync_shop` run. The failed items'
sync logs carry the platform's message, the connection stays connected, and the access token is
not refreshed: the token stored on the connection is unchanged and no request reached the
simulator's refresh path.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors.shopee.simulator.codes import MSG_HOLIDAY, MSG_PRICE_LOCK, MSG_RESERVED
from connectors.tiktokshop.simulator.codes import TOKEN_REFRESH_PATH
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection, SyncLog
from syncstore.inventory import ledger as inventory
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from tests.syncstore.simulated_shops import EDITOR, SHOPEE_SHOP, TIKTOK_SHOP, MarketplaceWorld

SHOPEE_REFRESH_PATH = "/api/v2/auth/access_token/get"
NEW_PRICE = Decimal("64.90")


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def _variant_id(product: MasterProduct) -> int:
    return product.variants[0].id


def _set_stock(world: MarketplaceWorld, product: MasterProduct, quantity: int) -> None:
    with transaction(world.engine) as session:
        inventory.adjust_stock(EDITOR, session, _variant_id(product), set_to=quantity)


def _set_price(world: MarketplaceWorld, product: MasterProduct, price: Decimal) -> None:
    with transaction(world.engine) as session:
        current = session.get_one(MasterProduct, product.id)
        catalog.update_product(
            EDITOR, session, product.id, expected_version=current.version,
            changes={"variants": [{"id": _variant_id(product), "price": str(price)}]},
        )  # fmt: skip


def _stored_token(world: MarketplaceWorld, connection_id: int) -> tuple[str, str | None, str | None]:
    """(status, stored access token, stored refresh token): ciphertexts change whenever a token is replaced."""
    with transaction(world.engine) as session:
        row = session.get_one(PlatformConnection, connection_id)
        return row.status, row.access_token, row.refresh_token


def _failed_logs(world: MarketplaceWorld, connection_id: int, product: MasterProduct) -> list[SyncLog]:
    with transaction(world.engine) as session:
        rows = session.scalars(
            sa.select(SyncLog).where(
                SyncLog.connection_id == connection_id, SyncLog.product_id == product.id, SyncLog.status == "failed"
            )
        ).all()
        session.expunge_all()
        return list(rows)


def _messages(logs: list[SyncLog]) -> str:
    return " | ".join(log.error_message or "" for log in logs)


def test_shopee_promotion_stock_and_price_lock_fail_only_their_items(world: MarketplaceWorld) -> None:
    conn = world.shopee_connection
    fine = world.product("J5-FINE", stock=10)
    also_fine = world.product("J5-ALSO", title="Cotton shirt", stock=10)
    promoted = world.product("J5-PROMO", title="Promo shirt", stock=10)
    locked = world.product("J5-LOCK", title="Locked shirt", stock=10)
    first = sync.sync_shop(world.engine, conn, world.connector(conn))
    assert first.failed == 0 and first.succeeded >= 4, first

    promo_item, promo_model = map(int, world.remote_item(conn, _variant_id(promoted)))
    lock_item, _ = map(int, world.remote_item(conn, _variant_id(locked)))
    world.shopee.set_promotion_reserved(promo_item, promo_model, 8)  # a campaign holds 8 units
    world.shopee.lock_price(lock_item)
    _set_stock(world, fine, 4)
    _set_stock(world, promoted, 3)  # below the 8 the promotion reserved: refused
    _set_price(world, also_fine, NEW_PRICE)
    _set_price(world, locked, NEW_PRICE)  # under promotion: refused
    token_before = _stored_token(world, conn)
    refreshes_before = world.shopee.request_count(SHOPEE_REFRESH_PATH)

    report = sync.sync_shop(world.engine, conn, world.connector(conn))

    assert report.failed == 2 and report.succeeded >= 2, report
    assert world.shown(conn, _variant_id(fine))["stock"] == 4
    assert world.shown(conn, _variant_id(also_fine))["price"] == NEW_PRICE
    assert world.shown(conn, _variant_id(promoted))["stock"] == 10
    assert world.shown(conn, _variant_id(locked))["price"] == Decimal("59.90")
    assert MSG_RESERVED in _messages(_failed_logs(world, conn, promoted))
    assert MSG_PRICE_LOCK in _messages(_failed_logs(world, conn, locked))
    assert _failed_logs(world, conn, fine) == [] and _failed_logs(world, conn, also_fine) == []
    assert _stored_token(world, conn) == token_before and token_before[0] == "connected"
    assert world.shopee.request_count(SHOPEE_REFRESH_PATH) == refreshes_before


def test_shopee_holiday_mode_refuses_every_write_without_a_token_refresh(world: MarketplaceWorld) -> None:
    conn = world.shopee_connection
    products = [world.product(f"J5-HOL-{i}", title=f"Holiday shirt {i}", stock=10) for i in range(3)]
    assert sync.sync_shop(world.engine, conn, world.connector(conn)).failed == 0
    world.shopee.set_holiday_mode(SHOPEE_SHOP)
    for product in products:
        _set_stock(world, product, 6)
    token_before = _stored_token(world, conn)
    refreshes_before = world.shopee.request_count(SHOPEE_REFRESH_PATH)

    report = sync.sync_shop(world.engine, conn, world.connector(conn))

    assert report.failed == len(products), report  # each item failed on its own, none skipped
    for product in products:
        assert world.shown(conn, _variant_id(product))["stock"] == 10
        assert MSG_HOLIDAY in _messages(_failed_logs(world, conn, product))
    assert _stored_token(world, conn) == token_before and token_before[0] == "connected"
    assert world.shopee.request_count(SHOPEE_REFRESH_PATH) == refreshes_before

    world.shopee.set_holiday_mode(SHOPEE_SHOP, on=False)  # the shop is back: the next run catches up
    assert sync.sync_shop(world.engine, conn, world.connector(conn)).failed == 0
    assert all(world.shown(conn, _variant_id(p))["stock"] == 6 for p in products)


def test_tiktok_price_lock_and_audit_failure_fail_only_their_items(world: MarketplaceWorld) -> None:
    conn = world.tiktok_connection
    fine = world.product("J5-TT-FINE", title="A linen shirt for summer days", stock=10)
    locked = world.product("J5-TT-LOCK", title="A locked linen shirt for summer", stock=10)
    assert sync.sync_shop(world.engine, conn, world.connector(conn)).failed == 0
    world.tiktok.pump()  # audits end: the products go live
    snapshot.pull(world.engine, conn, world.connector(conn))

    lock_product, lock_sku = world.remote_item(conn, _variant_id(locked))
    world.tiktok.lock_price(lock_product, lock_sku)
    _set_price(world, fine, NEW_PRICE)
    _set_stock(world, fine, 7)
    _set_price(world, locked, NEW_PRICE)  # refused: 12019045
    world.tiktok.fail_next_audit("The product name contains a prohibited word.", shop_id=TIKTOK_SHOP)
    audited = world.product("J5-TT-AUDIT", title="A brand new shirt for the audit", stock=5)
    token_before = _stored_token(world, conn)
    refreshes_before = world.tiktok.requests(TOKEN_REFRESH_PATH)

    report = sync.sync_shop(world.engine, conn, world.connector(conn))

    assert report.failed == 1, report
    assert world.shown(conn, _variant_id(fine))["price"] == NEW_PRICE
    assert world.shown(conn, _variant_id(fine))["stock"] == 7
    assert world.shown(conn, _variant_id(locked))["price"] == Decimal("59.90")
    assert "price is locked" in _messages(_failed_logs(world, conn, locked)), _failed_logs(world, conn, locked)
    assert _failed_logs(world, conn, fine) == []

    world.tiktok.pump()  # the audit of the new product ends, refused
    snapshot.pull(world.engine, conn, world.connector(conn))
    review = [log for log in _failed_logs(world, conn, audited) if log.operation == "review"]
    assert review and "prohibited word" in _messages(review), _failed_logs(world, conn, audited)
    with transaction(world.engine) as session:
        statuses = (
            session.execute(
                sa.text("SELECT remote_status FROM platform_listings WHERE connection_id = :c AND product_id = :p"),
                {"c": conn, "p": audited.id},
            )
            .scalars()
            .all()
        )
    assert statuses == ["review_failed"], statuses
    assert _stored_token(world, conn) == token_before and token_before[0] == "connected"
    assert world.tiktok.requests(TOKEN_REFRESH_PATH) == refreshes_before


def test_shopee_multi_location_shop_gets_stock_written_with_its_location_ids(world: MarketplaceWorld) -> None:
    """A multi-location shop refuses a stock row without location_id (error_auth): the connector must send one."""
    world.shopee.state.shops[SHOPEE_SHOP].locations = ["MYZ01", "MYZ02"]
    conn = world.shopee_connection
    products = [world.product(f"J5-LOC-{i}", title=f"Located shirt {i}", stock=10) for i in range(2)]
    assert sync.sync_shop(world.engine, conn, world.connector(conn)).failed == 0
    _set_stock(world, products[0], 4)
    token_before = _stored_token(world, conn)

    report = sync.sync_shop(world.engine, conn, world.connector(conn))

    assert report.failed == 0, [_messages(_failed_logs(world, conn, p)) for p in products]
    item, model = map(int, world.remote_item(conn, _variant_id(products[0])))
    assert world.shopee.stock_of(item, model) == 4
    assert world.shopee.stock_of(item, model, "MYZ01") + world.shopee.stock_of(item, model, "MYZ02") == 4
    assert world.shown(conn, _variant_id(products[1]))["stock"] == 10
    assert _stored_token(world, conn) == token_before
