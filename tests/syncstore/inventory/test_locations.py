# Locations: create/rename/deactivate, per-location levels, transfers, reservation location, shop sources.
from __future__ import annotations

import pytest
import sqlalchemy as sa

from connectors.base import OrderStatus
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, InventoryHistory, OutboxEvent
from syncstore.errors import InvalidInput, PermissionDenied
from syncstore.inventory import availability, ledger, locations
from tests.syncstore.inventory.conftest import ADMIN, EDITOR, VIEWER, Store, apply, order, totals


def add_location(store: Store, name: str = "Shop floor") -> int:
    with transaction(store.engine) as session:
        return locations.create_location(EDITOR, session, name).id


def transfer(store: Store, sku: str, source: int, target: int, quantity: int) -> list[locations.LocationLevel]:
    with transaction(store.engine) as session:
        return locations.transfer_stock(EDITOR, session, store.variants[sku], from_location_id=source,
                                        to_location_id=target, quantity=quantity)  # fmt: skip


def default_id(store: Store) -> int:
    with transaction(store.engine) as session:
        return ledger.default_location_id(session)


def at(store: Store, sku: str) -> dict[int, tuple[int, int]]:
    with transaction(store.engine) as session:
        return {
            lv.location_id: (lv.on_hand, lv.reserved)
            for lv in locations.location_levels(session, [store.variants[sku]])
        }


def test_one_default_location_and_named_others(store: Store) -> None:
    floor = add_location(store)
    with transaction(store.engine) as session:
        listed = locations.list_locations(session)
        assert [(x.name, x.is_default) for x in listed] == [("Main warehouse", True), ("Shop floor", False)]
        with pytest.raises(InvalidInput) as taken:
            locations.create_location(EDITOR, session, "shop FLOOR")
        assert "already exists" in taken.value.errors["name"]
        renamed = locations.rename_location(EDITOR, session, floor, "Back room")
        assert renamed.name == "Back room"
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity_type == "location"))
            == 2
        )
    with pytest.raises(PermissionDenied), transaction(store.engine) as session:
        locations.create_location(VIEWER, session, "Nope")


def test_a_transfer_moves_stock_with_two_ledger_rows_and_keeps_the_totals(store: Store) -> None:
    main, floor = default_id(store), add_location(store)
    levels = transfer(store, "CUP", main, floor, 7)
    assert {(lv.location_id, lv.on_hand, lv.available) for lv in levels} == {(main, 13, 13), (floor, 7, 7)}
    assert totals(store.engine, store.variants["CUP"]) == (20, 0)
    with transaction(store.engine) as session:
        rows = session.scalars(
            sa.select(InventoryHistory)
            .where(InventoryHistory.change_reason == "transfer")
            .order_by(InventoryHistory.id)
        ).all()
        event = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    assert [(r.location_id, r.previous_quantity, r.new_quantity) for r in rows] == [(main, 20, 13), (floor, 0, 7)]
    assert event is not None and event.payload == {"variant_ids": [store.variants["CUP"]], "cause": "transfer"}


@pytest.mark.parametrize(("quantity", "field", "message"), [
    (0, "quantity", "must be 1 or more"), (21, "quantity", "has 20 available of CUP, fewer than 21"),
])  # fmt: skip
def test_a_transfer_beyond_what_is_available_is_refused(store: Store, quantity: int, field: str, message: str) -> None:
    main, floor = default_id(store), add_location(store)
    with pytest.raises(InvalidInput) as refused:
        transfer(store, "CUP", main, floor, quantity)
    assert message in refused.value.errors[field]
    with pytest.raises(InvalidInput):
        transfer(store, "CUP", main, main, 1)
    assert at(store, "CUP") == {main: (20, 0), floor: (0, 0)}


def test_a_location_holding_stock_or_the_default_cannot_be_deactivated(store: Store) -> None:
    main, floor = default_id(store), add_location(store)
    transfer(store, "LID", main, floor, 2)
    for location_id, message in ((main, "default location"), (floor, "still holds 2 on hand")):
        with pytest.raises(InvalidInput) as refused, transaction(store.engine) as session:
            locations.deactivate_location(EDITOR, session, location_id)
        assert message in refused.value.errors["location_id"]
    transfer(store, "LID", floor, main, 2)
    with transaction(store.engine) as session:
        assert not locations.deactivate_location(EDITOR, session, floor).is_active
    assert at(store, "LID") == {main: (9, 0)}


def test_a_reservation_takes_the_shop_source_with_most_available_and_later_moves_use_it(store: Store) -> None:
    main, floor = default_id(store), add_location(store)
    transfer(store, "CUP", main, floor, 15)  # main 5, floor 15
    apply(store.engine, store.shopee, order("R-1", OrderStatus.PAID, ("CUP", 4)))
    assert at(store, "CUP") == {main: (5, 0), floor: (15, 4)}
    apply(store.engine, store.shopee, order("R-1", OrderStatus.SHIPPED, ("CUP", 4)))
    assert at(store, "CUP") == {main: (5, 0), floor: (11, 0)}
    # Shopee sells the main warehouse only: its reservation stays there, whatever the floor holds.
    with transaction(store.engine) as session:
        locations.set_shop_sources(ADMIN, session, store.shopee, [main])
    apply(store.engine, store.shopee, order("R-2", OrderStatus.PAID, ("CUP", 2)))
    apply(store.engine, store.shopee, order("R-2", OrderStatus.CANCELLED, ("CUP", 2)))
    apply(store.engine, store.shopee, order("R-3", OrderStatus.PAID, ("CUP", 3)))
    assert at(store, "CUP") == {main: (5, 3), floor: (11, 0)}
    with transaction(store.engine) as session:
        rows = session.scalars(sa.select(InventoryHistory).where(InventoryHistory.idempotency_key.like("%R-%"))).all()
    assert [r.location_id for r in rows] == [floor, floor, main, main, main]


def test_shop_sources_set_each_shops_quantity(store: Store) -> None:
    main, floor = default_id(store), add_location(store)
    transfer(store, "CUP", main, floor, 8)
    with transaction(store.engine) as session:
        locations.set_shop_sources(ADMIN, session, store.shopee, [main])
        locations.set_shop_sources(ADMIN, session, store.tiktok, [floor])
        assert locations.shop_sources(session) == {store.shopee: frozenset({main}), store.tiktok: frozenset({floor})}
    frame = availability.channel_available(store.engine, [store.variants["CUP"]], [store.shopee, store.tiktok])
    assert frame["available"].to_list() == [12, 8]
    with transaction(store.engine) as session:
        locations.set_shop_sources(ADMIN, session, store.tiktok, [])  # every location again
        assert locations.shop_sources(session) == {store.shopee: frozenset({main})}
    frame = availability.channel_available(store.engine, [store.variants["CUP"]], [store.shopee, store.tiktok])
    assert frame["available"].to_list() == [12, 20]
    with pytest.raises(PermissionDenied), transaction(store.engine) as session:
        locations.set_shop_sources(VIEWER, session, store.tiktok, [main])


def test_an_adjustment_at_a_location_checks_that_locations_quantity(store: Store) -> None:
    main, floor = default_id(store), add_location(store)
    with transaction(store.engine) as session:
        ledger.adjust_stock(EDITOR, session, store.variants["STRAW"], set_to=4, location_id=floor)
    assert at(store, "STRAW") == {main: (50, 0), floor: (4, 0)}
    assert totals(store.engine, store.variants["STRAW"]) == (54, 0)
    with pytest.raises(InvalidInput), transaction(store.engine) as session:
        ledger.adjust_stock(EDITOR, session, store.variants["STRAW"], delta=-5, location_id=floor)


def test_the_editor_sets_the_default_location_and_cannot_go_below_the_others(store: Store) -> None:
    main, floor = default_id(store), add_location(store)
    transfer(store, "LID", main, floor, 6)  # main 3, floor 6
    with transaction(store.engine) as session:
        product_id = session.scalar(sa.text("select product_id from product_variants where sku = 'LID'"))
        version = session.scalar(sa.text(f"select version from master_products where id = {product_id}"))
    with pytest.raises(InvalidInput) as refused, transaction(store.engine) as session:
        catalog.update_product(EDITOR, session, product_id, expected_version=version,
                               changes={"variants": [{"id": store.variants["LID"], "stock": 5}]})  # fmt: skip
    assert "5 is below the 6 held at other locations" in refused.value.errors["stock"]
    with transaction(store.engine) as session:
        catalog.update_product(EDITOR, session, product_id, expected_version=version,
                               changes={"variants": [{"id": store.variants["LID"], "stock": 10}]})  # fmt: skip
    assert at(store, "LID") == {main: (4, 0), floor: (6, 0)}
    with transaction(store.engine) as session:
        [row] = ledger.history(session, store.variants["LID"], limit=1)
    assert (row.location_id, row.previous_quantity, row.new_quantity) == (main, 3, 4)
