# Dispatch against both simulators: orders move stock across marketplaces once, edits and outbox events reach the shops.
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.base import Connector, ConnectorError, MarketplaceEvent, WriteResult
from connectors.shopee.webhooks import parse_push
from connectors.tiktokshop.webhooks import parse_webhook
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory, MasterProduct, OutboxEvent, PlatformConnection, PlatformEvent
from syncstore.events import platform_events
from syncstore.events.webhooks import StoreOutcome, record_for, store_batch
from syncstore.inventory import ledger as inventory
from syncstore.plan import conflicts
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.workers import dispatch, recovery
from tests.syncstore.simulated_shops import EDITOR, SHOPEE_SHOP, TIKTOK_SHOP, MarketplaceWorld


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


@pytest.fixture
def mug(world: MarketplaceWorld) -> MasterProduct:
    """A product listed and in sync on both shops, 10 on hand; the outbox starts empty."""
    product = world.product("MUG-1", title="Mug", price="12.50", stock=10)
    for connection_id in world.connection_ids:
        snapshot.pull(world.engine, connection_id, world.connector(connection_id))
        sync.sync_shop(world.engine, connection_id, world.connector(connection_id))
    drain_outbox(world)
    return product


def drain_outbox(world: MarketplaceWorld) -> None:
    with transaction(world.engine) as session:
        session.execute(sa.update(OutboxEvent).values(status="done"))


def store(engine: sa.Engine, event: MarketplaceEvent, body: bytes) -> None:
    """What the receiver does with a verified webhook."""
    assert store_batch(engine, [record_for(event, body, received_at=datetime.now(UTC))]) == [StoreOutcome.STORED]


def shopee_push(engine: sa.Engine, code: int, data: dict[str, object], *, shop_id: int = SHOPEE_SHOP) -> None:
    body = json.dumps({"code": code, "shop_id": shop_id, "timestamp": int(time.time()), "data": data}).encode()
    store(engine, parse_push(body), body)


def tiktok_webhook(engine: sa.Engine, type_: int, data: dict[str, object]) -> None:
    body = json.dumps(
        {"type": type_, "tts_notification_id": uuid.uuid4().hex, "shop_id": TIKTOK_SHOP,
         "timestamp": int(time.time()), "data": data}
    ).encode()  # fmt: skip
    store(engine, parse_webhook(body), body)


def order_on_shopee(world: MarketplaceWorld, variant_id: int, quantity: int) -> str:
    item_id, model_id = world.remote_item(world.shopee_connection, variant_id)
    order_sn = world.shopee.place_order(SHOPEE_SHOP, int(item_id), int(model_id), quantity)
    shopee_push(world.engine, 3, {"ordersn": order_sn, "status": "UNPAID", "update_time": int(time.time())})
    return order_sn


def level(world: MarketplaceWorld, variant_id: int) -> inventory.StockLevel:
    with transaction(world.engine) as session:
        [found] = inventory.levels(session, [variant_id])
        return found


def test_an_order_on_shopee_lowers_stock_on_tiktok_and_a_cancellation_restores_it(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    order_sn = order_on_shopee(world, variant_id, 3)

    report = dispatch.process_events(world.engine, world.connector, run_id="run-1")

    assert (report.claimed, report.completed, report.failed, report.variants) == (1, 1, 0, 1)
    assert (level(world, variant_id).on_hand, level(world, variant_id).available) == (10, 7)
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 7

    world.shopee.set_order_status(order_sn, "CANCELLED")
    shopee_push(world.engine, 3, {"ordersn": order_sn, "status": "CANCELLED", "update_time": int(time.time()) + 1})
    report = dispatch.process_events(world.engine, world.connector)

    assert (report.completed, report.failed) == (1, 0)
    assert level(world, variant_id).available == 10
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 10


def test_an_order_delivered_twice_and_processed_twice_has_one_effect(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    order_sn = order_on_shopee(world, variant_id, 2)
    dispatch.process_events(world.engine, world.connector)
    # The platform pushes the same status again (another delivery, another event id); and a second run finds nothing.
    shopee_push(world.engine, 3, {"ordersn": order_sn, "status": "UNPAID", "update_time": int(time.time()) + 5})
    again = dispatch.process_events(world.engine, world.connector)
    idle = dispatch.process_events(world.engine, world.connector)

    assert (again.completed, again.variants) == (1, 0)
    assert idle == dispatch.DispatchReport(claimed=0, completed=0, failed=0, shops=0, variants=0)
    assert level(world, variant_id).reserved == 2
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 8
    with transaction(world.engine) as session:
        reservations = session.scalars(
            sa.select(InventoryHistory).where(InventoryHistory.change_reason == "order")
        ).all()
    assert len(reservations) == 1


def test_a_failing_event_is_recorded_and_does_not_block_the_others(world: MarketplaceWorld, mug: MasterProduct) -> None:
    variant_id = mug.variants[0].id
    shopee_push(world.engine, 3, {"ordersn": "NO-SUCH-ORDER", "status": "UNPAID"})
    order_on_shopee(world, variant_id, 1)
    shopee_push(world.engine, 3, {"ordersn": "ELSEWHERE", "status": "UNPAID"}, shop_id=9999)  # not our shop

    report = dispatch.process_events(world.engine, world.connector)

    assert (report.claimed, report.completed, report.failed) == (3, 2, 1)
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 9
    with transaction(world.engine) as session:
        [left] = platform_events.pending(session)
        rows = session.scalars(sa.select(PlatformEvent).order_by(PlatformEvent.id)).all()
    assert left.order_id == "NO-SUCH-ORDER" and left.attempts == 1
    assert [row.status for row in rows] == ["pending", "processed", "ignored"]
    assert "NO-SUCH-ORDER" in (rows[0].error_message or "")
    # It stays pending until its attempts are used up, then it is failed.
    dispatch.process_events(world.engine, world.connector)
    dispatch.process_events(world.engine, world.connector)
    with transaction(world.engine) as session:
        assert session.get_one(PlatformEvent, rows[0].id).status == "failed"


def test_a_title_edited_on_tiktok_becomes_a_conflict(world: MarketplaceWorld, mug: MasterProduct) -> None:
    item_id, _ = world.remote_item(world.tiktok_connection, mug.variants[0].id)
    world.tiktok.edit_product(item_id, title="Mug (best seller)")
    tiktok_webhook(world.engine, 15, {"product_id": item_id, "changed_fields": ["title"]})

    report = dispatch.process_events(world.engine, world.connector)

    assert (report.completed, report.failed, report.shops) == (1, 0, 1)
    with transaction(world.engine) as session:
        [conflict] = conflicts.list_conflicts(session, connection_id=world.tiktok_connection)
    assert (conflict.field, conflict.platform_value, conflict.master_value) == ("title", "Mug (best seller)", "Mug")
    assert world.shown(world.tiktok_connection, mug.variants[0].id)["title"] == "Mug (best seller)"


def test_a_deauthorization_marks_the_shop_expired(world: MarketplaceWorld) -> None:
    tiktok_webhook(world.engine, 6, {"shop_id": TIKTOK_SHOP, "reason": "seller deauthorized"})
    report = dispatch.process_events(world.engine, world.connector)
    assert report.completed == 1
    with transaction(world.engine) as session:
        tiktok = session.get_one(PlatformConnection, world.tiktok_connection)
        shopee = session.get_one(PlatformConnection, world.shopee_connection)
    assert tiktok.status == "expired" and "connect the shop again" in (tiktok.last_error or "")
    assert shopee.status == "connected"


def test_a_master_price_change_reaches_both_shops_through_the_outbox(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    assert dispatch.outbox_work(world.engine).count == 0
    with transaction(world.engine) as session:
        catalog.update_product(EDITOR, session, mug.id, expected_version=1,
                               changes={"variants": [{"id": variant_id, "price": "14.90"}]})  # fmt: skip
    assert dispatch.outbox_work(world.engine).count == 1

    report = dispatch.push_outbox(world.engine, world.connector, run_id="run-2")

    assert (report.claimed, report.completed, report.failed, report.shops) == (1, 1, 0, 2)
    assert {world.shown(c, variant_id)["price"] for c in world.connection_ids} == {Decimal("14.90")}
    assert dispatch.outbox_work(world.engine).count == 0
    assert dispatch.push_outbox(world.engine, world.connector).claimed == 0


def test_an_outbox_push_that_fails_backs_off_and_keeps_the_event(world: MarketplaceWorld, mug: MasterProduct) -> None:
    with transaction(world.engine) as session:
        inventory.adjust_stock(EDITOR, session, mug.variants[0].id, set_to=4)
    world.tiktok.stop()  # the platform is unreachable

    report = dispatch.push_outbox(world.engine, world.connector)

    assert (report.claimed, report.completed, report.failed) == (1, 0, 1)
    with transaction(world.engine) as session:
        [event] = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.status == "pending")).all()
    assert event.event_type == "inventory.changed" and event.attempts == 1 and event.last_error
    assert dispatch.outbox_work(world.engine).count == 0  # backing off: not due yet
    assert world.shown(world.shopee_connection, mug.variants[0].id)["stock"] == 4


def test_the_events_worker_moves_stock_as_orders_arrive_until_stopped(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    stop = threading.Event()
    handled: list[int] = []
    worker = threading.Thread(
        target=lambda: handled.append(
            dispatch.serve_events(world.engine, world.connector, stop=stop, poll_interval_s=0.05)
        )
    )
    worker.start()
    try:
        order_on_shopee(world, variant_id, 4)
        deadline = time.monotonic() + 60
        while world.shown(world.tiktok_connection, variant_id)["stock"] != 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive() and handled == [1]
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 6
    assert level(world, variant_id).reserved == 4


# --- one push per order per shop (issue 15 item 6) -------------------------------------------------


class _Hooked:
    """A connector whose first `update_stock` call runs `before` first (a concurrent consumer, an outage...)."""

    def __init__(self, inner: Connector, before: Callable[[], None]) -> None:
        self._inner, self._before = inner, before

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        before, self._before = self._before, lambda: None
        before()
        return self._inner.update_stock(item_id, stock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def stock_writes(world: MarketplaceWorld) -> tuple[int, int]:
    """Every stock write each simulator received (effective or not): (Shopee, TikTok Shop)."""
    return (len(world.shopee.write_log.entries(field_name="stock")),
            len(world.tiktok.write_log.entries(field_name="stock")))  # fmt: skip


def announcements(world: MarketplaceWorld) -> list[OutboxEvent]:
    with transaction(world.engine) as session:
        query = sa.select(OutboxEvent).where(OutboxEvent.event_type == "inventory.changed").order_by(OutboxEvent.id)
        return list(session.scalars(query))


def test_an_order_pushes_its_stock_once_per_shop_even_with_the_outbox_consumer_running_meanwhile(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    world.shopee.write_log.clear()
    world.tiktok.write_log.clear()
    order_on_shopee(world, variant_id, 3)
    outbox_runs: list[dispatch.DispatchReport] = []

    def connectors(connection_id: int) -> Connector:
        # While the events path pushes, the outbox consumer runs too (a fallback run, or the worker's next pass).
        connector = world.connector(connection_id)
        if connection_id != world.shopee_connection:
            return connector
        return _Hooked(connector, lambda: outbox_runs.append(dispatch.push_outbox(world.engine, world.connector)))  # type: ignore[return-value]

    report = dispatch.process_events(world.engine, connectors)
    after = dispatch.push_outbox(world.engine, world.connector)

    assert (report.completed, report.failed) == (1, 0)
    # The order's announcement was held by the events path and completed by its push: nobody pushed it again.
    assert [run.claimed for run in outbox_runs] == [0] and after.claimed == 0
    assert [(event.status, event.attempts) for event in announcements(world)] == [("done", 1)]
    assert stock_writes(world) == (1, 1)  # exactly one stock write per shop for one order
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 7


def test_a_failed_stock_push_of_an_order_is_retried_through_the_outbox_once(
    world: MarketplaceWorld, mug: MasterProduct
) -> None:
    variant_id = mug.variants[0].id
    world.shopee.write_log.clear()
    world.tiktok.write_log.clear()
    order_on_shopee(world, variant_id, 2)

    def down() -> None:
        raise ConnectorError("the platform is unreachable", platform="tiktokshop")

    def connectors(connection_id: int) -> Connector:
        connector = world.connector(connection_id)
        return _Hooked(connector, down) if connection_id == world.tiktok_connection else connector  # type: ignore[return-value]

    report = dispatch.process_events(world.engine, connectors)

    assert (report.completed, report.failed) == (1, 0)  # the order is applied: the master is right
    [event] = announcements(world)
    assert (event.status, event.attempts, event.locked_by) == ("pending", 1, None) and event.last_error
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 10
    assert dispatch.outbox_work(world.engine).count == 0  # backing off

    # The back-off is over: the outbox consumer pushes the stock, once.
    with transaction(world.engine) as session:
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=datetime.now(UTC)))
    retried = dispatch.push_outbox(world.engine, world.connector)

    assert (retried.claimed, retried.completed, retried.failed) == (1, 1, 0)
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 8
    assert stock_writes(world) == (1, 1)  # Shopee already had it: no second write there


def test_orders_found_by_the_order_poll_push_their_stock_once(world: MarketplaceWorld, mug: MasterProduct) -> None:
    variant_id = mug.variants[0].id
    item_id, model_id = world.remote_item(world.shopee_connection, variant_id)
    world.shopee.write_log.clear()
    world.tiktok.write_log.clear()
    world.shopee.place_order(SHOPEE_SHOP, int(item_id), int(model_id), 1)  # its webhook is lost

    report = recovery.recover(world.engine, world.connector, run_id="poll")
    after = dispatch.push_outbox(world.engine, world.connector)

    assert report.transitions == 1 and after.claimed == 0
    assert [event.status for event in announcements(world)] == ["done"]
    assert world.shown(world.tiktok_connection, variant_id)["stock"] == 9
    assert stock_writes(world) == (1, 1)
