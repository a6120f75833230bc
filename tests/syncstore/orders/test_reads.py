# Order reads: filters, both kinds of paging, one order with its lines, its ledger effects and its seller-centre link.
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from connectors.base import OrderStatus
from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory, Order
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.orders import reads
from syncstore.orders.reads import OrderFilters
from tests.syncstore.orders.conftest import Shops
from tests.syncstore.orders.seen import T0, line, remote_order, see, stored

SHOPEE = ("shopee", "100001")
TIKTOK = ("tiktokshop", "7001")


@pytest.fixture
def seen(engine: sa.Engine, shops: Shops) -> None:
    """Five orders, seen in this order: S-1 paid, S-2 cancelled (unbound line), T-1 shipped, S-3 paid, T-2 pending."""
    see(engine, shops.shopee, remote_order(SHOPEE, "S-1", OrderStatus.PAID, line("1", "TEE-S", 2)))
    see(engine, shops.shopee, remote_order(SHOPEE, "S-2", OrderStatus.CANCELLED, line("1", "phantom9", 1)))
    see(
        engine,
        shops.tiktok,
        remote_order(TIKTOK, "T-1", OrderStatus.SHIPPED, line("1", "MUG-1", 1), line("2", "TEE-M", 2)),
    )
    see(engine, shops.shopee, remote_order(SHOPEE, "S-3", OrderStatus.PAID, line("1", "TEE-M", 1)))
    see(engine, shops.tiktok, remote_order(TIKTOK, "T-2", OrderStatus.PENDING, line("1", "TEE-S", 4)))


def numbers(engine: sa.Engine, filters: OrderFilters | None = None, **paging: object) -> list[str]:
    with transaction(engine) as session:
        return [order.order_id for order in reads.list_orders(session, filters, **paging).orders]  # type: ignore[arg-type]


def test_every_shop_s_orders_newest_first_with_shop_names_and_bound_skus(engine: sa.Engine, seen: None) -> None:
    with transaction(engine) as session:
        page = reads.list_orders(session)
    assert [o.order_id for o in page.orders] == ["T-2", "S-3", "T-1", "S-2", "S-1"]
    assert (page.total, page.next_after_id) == (5, None)
    by_number = {o.order_id: o for o in page.orders}
    assert (by_number["T-1"].shop_name, by_number["T-1"].platform, by_number["S-1"].shop_name) == (
        "Toko B",
        "tiktokshop",
        "Kedai A",
    )
    assert [(ln.seller_sku, ln.master_sku) for ln in by_number["T-1"].lines] == [("MUG-1", "MUG-1"), ("TEE-M", "TEE-M")]
    assert [(ln.seller_sku, ln.master_sku) for ln in by_number["S-2"].lines] == [("phantom9", None)]


def test_filters_by_shop_status_search_and_time(engine: sa.Engine, shops: Shops, seen: None) -> None:
    assert numbers(engine, OrderFilters(connection_id=shops.tiktok)) == ["T-2", "T-1"]
    assert numbers(engine, OrderFilters(status="paid")) == ["S-3", "S-1"]
    assert numbers(engine, OrderFilters(connection_id=shops.shopee, status="paid")) == ["S-3", "S-1"]
    assert numbers(engine, OrderFilters(search="t-")) == ["T-2", "T-1"]  # part of the number, any case
    assert numbers(engine, OrderFilters(search="tee-m")) == ["S-3", "T-1"]  # a master / seller SKU
    assert numbers(engine, OrderFilters(search="PHANTOM")) == ["S-2"]  # an unbound line's seller SKU
    assert numbers(engine, OrderFilters(search="%")) == []  # LIKE wildcards are matched literally
    assert numbers(engine, OrderFilters(platform="tiktokshop", order_id="T-1")) == ["T-1"]
    now = utcnow()
    assert len(numbers(engine, OrderFilters(since=now - timedelta(hours=1)))) == 5
    assert numbers(engine, OrderFilters(until=now - timedelta(hours=1))) == []


def test_offset_and_keyset_pages_never_skip_or_repeat(engine: sa.Engine, seen: None) -> None:
    assert numbers(engine, limit=2, offset=2) == ["T-1", "S-2"]
    with transaction(engine) as session:
        first = reads.list_orders(session, limit=2)
        second = reads.list_orders(session, limit=2, after_id=first.next_after_id)
        third = reads.list_orders(session, limit=2, after_id=second.next_after_id)
        oldest = reads.list_orders(session, limit=3, oldest_first=True)
    assert [[o.order_id for o in p.orders] for p in (first, second, third)] == [["T-2", "S-3"], ["T-1", "S-2"], ["S-1"]]
    assert third.next_after_id is None
    assert [o.order_id for o in oldest.orders] == ["S-1", "S-2", "T-1"]


def test_bad_filters_are_refused_with_the_field_named(engine: sa.Engine) -> None:
    with transaction(engine) as session, pytest.raises(InvalidInput) as refused:
        reads.list_orders(session, OrderFilters(status="lost", since=T0, until=T0), limit=0)
    assert set(refused.value.errors) == {"status", "until", "limit"}


def test_an_order_s_detail_has_its_ledger_effects_per_line_and_its_seller_centre_link(
    engine: sa.Engine, shops: Shops
) -> None:
    see(engine, shops.shopee, remote_order(SHOPEE, "S_9", OrderStatus.PAID, line("1", "TEE-S", 2), line("2", "x", 1)))
    see(
        engine,
        shops.shopee,
        remote_order(
            SHOPEE,
            "S_9",
            OrderStatus.SHIPPED,
            line("1", "TEE-S", 2),
            line("2", "x", 1),
            updated_at=T0 + timedelta(hours=1),
        ),
    )
    # Neighbours whose keys share the text: another order number LIKE would match unescaped, and a longer number.
    see(engine, shops.shopee, remote_order(SHOPEE, "SX9", OrderStatus.PAID, line("1", "TEE-S", 5)))
    see(engine, shops.shopee, remote_order(SHOPEE, "S_90", OrderStatus.PAID, line("1", "TEE-S", 7)))
    row = stored(engine, shops.shopee, "S_9")

    with transaction(engine) as session:
        detail = reads.get_order(session, row.id)
    assert detail.order.status == "shipped"
    assert [
        (e.line_id, e.transition, e.reason, e.sku, e.on_hand_change, e.reserved_change) for e in detail.effects
    ] == [("1", "reserve", "order", "TEE-S", 0, 2), ("1", "consume", "shipment", "TEE-S", -2, -2)]
    assert [(ln.line_id, ln.master_sku) for ln in detail.order.lines] == [("1", "TEE-S"), ("2", None)]
    assert detail.seller_url is not None and detail.seller_url.startswith("https://seller.shopee.com.my/")
    assert "S_9" in detail.seller_url


def test_a_bundle_line_s_component_rows_are_its_effects_too(engine: sa.Engine, shops: Shops) -> None:
    see(engine, shops.tiktok, remote_order(TIKTOK, "B-1", OrderStatus.PAID, line("1", "NO-SUCH-BUNDLE", 1)))
    component = shops.variants["MUG-1"]
    with transaction(engine) as session:  # what the ledger writes for a bundle line's component
        session.add(
            InventoryHistory(
                variant_id=component,
                previous_quantity=5,
                new_quantity=5,
                previous_reserved=0,
                new_reserved=2,
                change_reason="order",
                idempotency_key=f"tiktokshop:7001:B-1:1:reserve:v{component}",
            )
        )
        order_id = session.scalars(sa.select(Order.id).where(Order.order_id == "B-1")).one()
        detail = reads.get_order(session, order_id)
    assert [(e.line_id, e.transition, e.sku, e.reserved_change, e.component) for e in detail.effects] == [
        ("1", "reserve", "MUG-1", 2, True)
    ]
    assert detail.seller_url is not None and "seller-id.tiktok.com" in detail.seller_url


def test_a_missing_order_is_not_found_and_a_platform_without_a_link_has_none(engine: sa.Engine) -> None:
    with transaction(engine) as session, pytest.raises(NotFoundError):
        reads.get_order(session, 999_999)
    assert reads.seller_url("no-such-platform", "MY", "1") is None
    assert (
        reads.seller_url("lazada", "TH", "77") == "https://sellercenter.lazada.co.th/apps/order/detail?tradeOrderId=77"
    )
