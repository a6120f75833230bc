# The stock ledger: orders reserve, cancellations release, shipments consume, each exactly once.
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from connectors.base import OrderLine, OrderStatus, RemoteOrder
from syncstore.catalog import commands as catalog
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import AuditLog, InventoryHistory, OutboxEvent, PlatformConnection
from syncstore.errors import InvalidInput, PermissionDenied, VersionConflict
from syncstore.inventory import ledger as inventory
from syncstore.security import crypto
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)
KEYRING = crypto.Keyring.parse(crypto.generate_key("inv"))


@pytest.fixture
def shop(engine: sa.Engine) -> tuple[int, int]:
    """(connection id, variant id): a shop and a variant LIN-S with 10 on hand."""
    with transaction(engine) as session:
        product = catalog.create_product(
            EDITOR, session,
            {"title": "Linen shirt", "category": "Fashion", "base_price": "59.90",
             "variants": [{"sku": "LIN-S", "name": "S", "stock": 10}]},
        )  # fmt: skip
        connection = connections.save_connection(
            Actor.command_line(), session, platform="shopee", shop_id="100001", access_token="a",
            refresh_token="r", access_token_expires_at=None, refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
    return connection.id, product.variants[0].id


def order(
    status: OrderStatus, *, order_id: str = "O-1", quantity: int = 2, sku: str = "lin-s", cancelled: int = 0
) -> RemoteOrder:
    line = OrderLine(
        line_id="1", item_id="555", sku_id="0", seller_sku=sku, quantity=quantity, cancelled_quantity=cancelled
    )
    return RemoteOrder(
        platform="shopee", shop_id="100001", order_id=order_id, status=status, lines=(line,),
        updated_at=datetime.now(UTC),
    )  # fmt: skip


def apply(engine: sa.Engine, connection_id: int, remote: RemoteOrder) -> inventory.OrderEffect:
    with transaction(engine) as session:
        return inventory.apply_order(session, session.get_one(PlatformConnection, connection_id), remote)


def level(engine: sa.Engine, variant_id: int) -> inventory.StockLevel:
    with transaction(engine) as session:
        [found] = inventory.levels(session, [variant_id])
        return found


def test_an_order_reserves_once_however_often_it_arrives(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    first = apply(engine, connection_id, order(OrderStatus.PAID))
    again = apply(engine, connection_id, order(OrderStatus.PAID))
    assert first.applied == ("shopee:100001:O-1:1:reserve",) and again.applied == ()
    assert again.already_applied == first.applied
    stock = level(engine, variant_id)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 2, 8)
    with transaction(engine) as session:
        [row] = inventory.history(session, variant_id, limit=1)
        events = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.event_type == "inventory.changed")).all()
    assert (row.change_reason, row.previous_reserved, row.new_reserved, row.platform) == ("order", 0, 2, "shopee")
    assert len(events) == 1 and events[0].payload["variant_ids"] == [variant_id]


def test_shipment_consumes_and_a_late_cancellation_releases_nothing(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    apply(engine, connection_id, order(OrderStatus.PAID))
    apply(engine, connection_id, order(OrderStatus.SHIPPED))
    apply(engine, connection_id, order(OrderStatus.CANCELLED))
    stock = level(engine, variant_id)
    assert (stock.on_hand, stock.reserved) == (8, 0)


def test_cancellation_releases_the_reservation(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    apply(engine, connection_id, order(OrderStatus.PENDING, quantity=3))
    apply(engine, connection_id, order(OrderStatus.CANCELLED, quantity=3))
    apply(engine, connection_id, order(OrderStatus.CANCELLED, quantity=3))
    stock = level(engine, variant_id)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 0, 10)
    with transaction(engine) as session:
        reasons = [r.change_reason for r in reversed(inventory.history(session, variant_id))]
    assert reasons == ["manual", "order", "cancellation"]


def test_a_partial_cancellation_releases_its_units_once_as_they_grow(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    apply(engine, connection_id, order(OrderStatus.PAID, quantity=5))
    first = apply(engine, connection_id, order(OrderStatus.PAID, quantity=5, cancelled=2))
    again = apply(engine, connection_id, order(OrderStatus.PAID, quantity=5, cancelled=2))
    assert first.applied == ("shopee:100001:O-1:1:cancel-units:2",) and again.applied == ()
    assert (level(engine, variant_id).reserved, level(engine, variant_id).available) == (3, 7)
    apply(engine, connection_id, order(OrderStatus.PAID, quantity=5, cancelled=3))
    assert level(engine, variant_id).reserved == 2
    # Shipping consumes only what was not cancelled; a late full cancellation changes nothing more.
    apply(engine, connection_id, order(OrderStatus.SHIPPED, quantity=5, cancelled=3))
    apply(engine, connection_id, order(OrderStatus.CANCELLED, quantity=5, cancelled=5))
    stock = level(engine, variant_id)
    assert (stock.on_hand, stock.reserved) == (8, 0)


def test_a_partial_then_full_cancellation_releases_everything_once(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    apply(engine, connection_id, order(OrderStatus.PAID, quantity=4, cancelled=1))
    assert level(engine, variant_id).reserved == 3
    apply(engine, connection_id, order(OrderStatus.CANCELLED, quantity=4, cancelled=4))
    apply(engine, connection_id, order(OrderStatus.CANCELLED, quantity=4, cancelled=4))
    stock = level(engine, variant_id)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 0, 10)


def test_an_order_first_seen_shipped_reserves_and_consumes(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    effect = apply(engine, connection_id, order(OrderStatus.COMPLETED, quantity=4))
    assert len(effect.applied) == 2
    assert (level(engine, variant_id).on_hand, level(engine, variant_id).reserved) == (6, 0)


def test_a_line_for_an_unknown_sku_is_reported_not_guessed(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    effect = apply(engine, connection_id, order(OrderStatus.PAID, sku="NOPE"))
    assert effect.unknown_lines == ("1",) and not effect.variant_changed
    assert level(engine, variant_id).reserved == 0


def test_concurrent_deliveries_of_one_order_have_one_effect(db_url: str, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    barrier, errors = threading.Barrier(4), []

    def deliver() -> None:
        own = create_engine(db_url)
        barrier.wait()
        try:
            apply(own, connection_id, order(OrderStatus.PAID))
        except Exception as error:  # shown by the assertion
            errors.append(repr(error))
        finally:
            own.dispose()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine = create_engine(db_url)
    assert errors == [] and level(engine, variant_id).reserved == 2
    engine.dispose()


def test_manual_adjustments_are_ledgered_audited_and_reserved_to_editors(
    engine: sa.Engine, shop: tuple[int, int]
) -> None:
    _, variant_id = shop
    with transaction(engine) as session:
        assert inventory.adjust_stock(EDITOR, session, variant_id, delta=-4, note="damaged").on_hand == 6
        assert inventory.adjust_stock(EDITOR, session, variant_id, set_to=20, reason="reconcile").on_hand == 20
    with pytest.raises(InvalidInput, match="below 0"), transaction(engine) as session:
        inventory.adjust_stock(EDITOR, session, variant_id, delta=-21)
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        inventory.adjust_stock(EDITOR, session, variant_id, set_to=1, delta=1, reason="gift")
    assert set(raised.value.errors) == {"quantity", "reason"}
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        inventory.adjust_stock(VIEWER, session, variant_id, delta=1)
    with transaction(engine) as session:
        rows = session.scalars(sa.select(InventoryHistory).order_by(InventoryHistory.id)).all()
        audits = session.scalars(sa.select(AuditLog).where(AuditLog.action == "inventory.adjust")).all()
    assert [(r.change_reason, r.new_quantity, r.note) for r in rows[-2:]] == [
        ("manual", 6, "damaged"),
        ("reconcile", 20, None),
    ]
    assert len(audits) == 2


def test_low_stock_lists_variants_at_or_under_their_threshold(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    with transaction(engine) as session:
        inventory.set_low_stock_threshold(EDITOR, session, variant_id, 8)
        assert inventory.low_stock(session) == []
    apply(engine, connection_id, order(OrderStatus.PAID, quantity=2))
    with transaction(engine) as session:
        [low] = inventory.low_stock(session)
    assert low.variant_id == variant_id and low.available == 8 and low.is_low


def test_an_adjustment_is_conditional_on_the_on_hand_the_person_saw(engine: sa.Engine, shop: tuple[int, int]) -> None:
    connection_id, variant_id = shop
    apply(engine, connection_id, order(OrderStatus.SHIPPED, quantity=2))  # an order took 2 since it was shown
    with transaction(engine) as session, pytest.raises(VersionConflict):
        inventory.adjust_stock(EDITOR, session, variant_id, set_to=50, expected_on_hand=10)
    assert level(engine, variant_id).on_hand == 8, "nothing was written"
    with transaction(engine) as session:
        assert inventory.last_changed_by(session, variant_id) == "system:shopee"
        inventory.adjust_stock(EDITOR, session, variant_id, delta=2, expected_on_hand=8)
        assert inventory.last_changed_by(session, variant_id) == EDITOR.label
    assert level(engine, variant_id).on_hand == 10
