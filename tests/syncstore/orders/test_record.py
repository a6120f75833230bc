# Recording orders: one row per order and line however often it is seen, bound SKUs, and status in platform-time order.
from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from connectors.base import OrderStatus, RemoteOrder
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import Order, OrderLineRow
from tests.syncstore.orders.conftest import Shops
from tests.syncstore.orders.seen import T0, line, remote_order, see, stored

SHOPEE = ("shopee", "100001")


def test_an_order_seen_again_and_again_is_one_row_with_one_row_per_line(engine: sa.Engine, shops: Shops) -> None:
    placed = remote_order(SHOPEE, "2412A", OrderStatus.PAID, line("1", "tee-s", 2), line("2", "TEE-M", 1, sku_id="7"))
    see(engine, shops.shopee, placed)
    first = stored(engine, shops.shopee, "2412A")
    see(engine, shops.shopee, placed)
    see(engine, shops.shopee, placed)

    again = stored(engine, shops.shopee, "2412A")
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(OrderLineRow)) == 2
    assert (again.id, again.first_seen_at) == (first.id, first.first_seen_at)
    assert again.last_seen_at >= first.last_seen_at
    assert (again.status, again.line_count, again.units, again.platform, again.shop_id) == ("paid", 2, 3, *SHOPEE)
    assert {(row.line_id, row.variant_id) for row in again.lines} == {
        ("1", shops.variants["TEE-S"]),
        ("2", shops.variants["TEE-M"]),
    }


def test_a_line_binds_to_the_sku_bound_in_the_shop_before_its_seller_sku_and_unknown_lines_stay_unbound(
    engine: sa.Engine, shops: Shops
) -> None:
    effect = see(
        engine,
        shops.shopee,
        remote_order(
            SHOPEE,
            "2412B",
            OrderStatus.PAID,
            line("1", "OLD-MUG", 1, item_id="900", sku_id="901"),  # bound listing SKU (its seller SKU names no variant)
            line("2", "NOPE-9", 4),  # nothing is called that
        ),
    )

    row = stored(engine, shops.shopee, "2412B")
    assert effect.unknown_lines == ("2",)
    assert {r.line_id: r.variant_id for r in row.lines} == {"1": shops.variants["MUG-1"], "2": None}
    assert (row.line_count, row.units) == (2, 5)


def test_a_late_older_sighting_never_takes_the_status_back_but_a_newer_or_equal_one_replaces_it(
    engine: sa.Engine, shops: Shops
) -> None:
    lines = (line("1", "TEE-S", 3, cancelled=0),)
    see(
        engine,
        shops.shopee,
        remote_order(
            SHOPEE, "2412C", OrderStatus.SHIPPED, *lines, updated_at=T0 + timedelta(hours=2), raw_status="SHIPPED"
        ),
    )
    see(
        engine,
        shops.shopee,
        remote_order(
            SHOPEE,
            "2412C",
            OrderStatus.PAID,
            line("1", "TEE-S", 3, cancelled=1),
            updated_at=T0,
            raw_status="READY_TO_SHIP",
        ),
    )
    late = stored(engine, shops.shopee, "2412C")
    assert (late.status, late.raw_status, late.updated_at) == ("shipped", "SHIPPED", T0 + timedelta(hours=2))
    assert late.lines[0].cancelled_quantity == 0  # the older sighting's lines are not taken either

    see(
        engine,
        shops.shopee,
        remote_order(
            SHOPEE, "2412C", OrderStatus.COMPLETED, *lines, updated_at=T0 + timedelta(hours=2), raw_status="COMPLETED"
        ),
    )
    assert stored(engine, shops.shopee, "2412C").status == "completed"


def test_a_partial_cancellation_and_a_new_line_update_the_lines(engine: sa.Engine, shops: Shops) -> None:
    see(engine, shops.tiktok, remote_order(("tiktokshop", "7001"), "577", OrderStatus.PAID, line("1", "TEE-S", 3)))
    see(
        engine,
        shops.tiktok,
        remote_order(
            ("tiktokshop", "7001"),
            "577",
            OrderStatus.PAID,
            line("1", "TEE-S", 3, cancelled=2),
            line("2", "MUG-1", 1),
            updated_at=T0 + timedelta(minutes=5),
        ),
    )

    row = stored(engine, shops.tiktok, "577")
    assert [(r.line_id, r.quantity, r.cancelled_quantity, r.variant_id) for r in row.lines] == [
        ("1", 3, 2, shops.variants["TEE-S"]),
        ("2", 1, 0, shops.variants["MUG-1"]),
    ]
    assert (row.line_count, row.units) == (2, 4)


def test_the_same_order_number_in_two_shops_is_two_orders(engine: sa.Engine, shops: Shops) -> None:
    see(engine, shops.shopee, remote_order(SHOPEE, "42", OrderStatus.PAID, line("1", "TEE-S")))
    see(engine, shops.tiktok, remote_order(("tiktokshop", "7001"), "42", OrderStatus.CANCELLED, line("1", "TEE-S")))

    assert stored(engine, shops.shopee, "42").status == "paid"
    assert stored(engine, shops.tiktok, "42").status == "cancelled"


def test_a_webhook_and_polls_recording_one_new_order_at_once_all_land_and_the_newest_status_wins(
    db_url: str, engine: sa.Engine, shops: Shops
) -> None:
    # An unbound line: the ledger locks no variant, so nothing but the order row orders these transactions.
    sightings = [
        remote_order(SHOPEE, "RACE-1", status, line("1", "NOT-IN-CATALOG", 1), updated_at=T0 + timedelta(minutes=n))
        for n, status in enumerate((OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.PENDING, OrderStatus.PAID))
    ]
    barrier, errors = threading.Barrier(len(sightings)), []

    def deliver(sighting: RemoteOrder) -> None:
        own = create_engine(db_url)
        barrier.wait()
        try:
            see(own, shops.shopee, sighting)
        except Exception as error:  # shown by the assertion
            errors.append(repr(error))
        finally:
            own.dispose()

    threads = [threading.Thread(target=deliver, args=(sighting,)) for sighting in sightings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = stored(engine, shops.shopee, "RACE-1")
    assert (row.status, row.updated_at, row.line_count) == ("paid", T0 + timedelta(minutes=3), 1)
