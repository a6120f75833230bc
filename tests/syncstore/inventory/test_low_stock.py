# Low-stock alerts: open at the threshold, notified once, resolved above it, swept and summarised daily.
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.base import Connector
from connectors.simulator.common import free_port
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import Alert, ProductVariant
from syncstore.inventory import bundles, low_stock
from syncstore.inventory import ledger as inventory
from syncstore.ops import alerts
from syncstore.security.auth import Actor, Role
from syncstore.settings import Settings
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.workers import dispatch, recovery
from tests.syncstore.inventory.conftest import Store
from tests.syncstore.simulated_shops import SHOPEE_SHOP, MarketplaceWorld
from tests.syncstore.test_dispatch import order_on_shopee

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
Hook = tuple[str, list[dict[str, Any]]]  # the `hook` fixture (tests/conftest.py): URL, bodies received


def variant(engine: sa.Engine, sku: str, stock: int, threshold: int | None) -> int:
    with transaction(engine) as session:
        product = catalog.create_product(
            EDITOR, session,
            {"title": f"Product {sku}", "category": "Home", "base_price": "10.00",
             "variants": [{"sku": sku, "name": "One", "stock": stock}]},
        )  # fmt: skip
        variant_id = product.variants[0].id
        if threshold is not None:
            inventory.set_low_stock_threshold(EDITOR, session, variant_id, threshold)
    return variant_id


def set_stock(engine: sa.Engine, variant_id: int, on_hand: int, reserved: int = 0) -> None:
    with transaction(engine) as session:
        row = session.get_one(ProductVariant, variant_id)
        row.stock, row.reserved = on_hand, reserved


def low_alerts(engine: sa.Engine) -> list[Alert]:
    with transaction(engine) as session:
        return list(session.scalars(sa.select(Alert).where(Alert.kind == "low_stock").order_by(Alert.id)))


def test_crossing_the_threshold_opens_once_notifies_once_and_resolves(engine: sa.Engine, hook: Hook) -> None:
    url, received = hook
    settings = Settings(alert_webhook_url=url)
    lin = variant(engine, "LIN-S", 10, threshold=3)
    assert low_stock.evaluate(engine, [lin], settings=settings).opened == []
    set_stock(engine, lin, 5, reserved=2)  # available 3: at the threshold
    first = low_stock.evaluate(engine, [lin], settings=settings)
    assert (first.opened, first.notified) == (["LIN-S"], 1)
    # Further orders while it is open refresh it with the current quantities, never notify again.
    set_stock(engine, lin, 5, reserved=4)
    assert low_stock.evaluate(engine, [lin], settings=settings).refreshed == ["LIN-S"]
    assert low_stock.evaluate(engine, [lin], settings=settings).notified == 0
    assert len(received) == 1
    assert received[0]["kind"] == "low_stock" and received[0]["subject"] == f"variant-{lin}"
    assert received[0]["details"] == {"variant_id": lin, "sku": "LIN-S", "available": 3, "threshold": 3}
    [alert] = low_alerts(engine)
    assert alert.status == "open" and alert.details["available"] == 1 and alert.notified_at is not None
    set_stock(engine, lin, 9, reserved=4)  # available 5: above again
    assert low_stock.evaluate(engine, [lin], settings=settings).resolved == ["LIN-S"]
    [alert] = low_alerts(engine)
    assert alert.status == "resolved"
    # Crossing again is a new opening, notified again.
    set_stock(engine, lin, 2)
    assert low_stock.evaluate(engine, [lin], settings=settings).opened == ["LIN-S"]
    assert len(received) == 2


def test_only_the_variants_named_are_read(engine: sa.Engine) -> None:
    low = variant(engine, "LOW-1", 1, threshold=5)
    other = variant(engine, "LOW-2", 0, threshold=5)
    variant(engine, "NONE-1", 0, threshold=None)
    assert low_stock.evaluate(engine, [low], settings=Settings()).opened == ["LOW-1"]
    assert [a.subject for a in low_alerts(engine)] == [f"variant-{low}"]
    # The sweep judges every variant; one without a threshold never alerts.
    assert low_stock.evaluate(engine, None, settings=Settings()).opened == ["LOW-2"]
    assert {a.subject for a in low_alerts(engine)} == {f"variant-{low}", f"variant-{other}"}
    assert low_stock.evaluate(engine, [], settings=Settings()) == low_stock.Evaluation()


def test_removing_the_threshold_deactivating_or_deleting_resolves(engine: sa.Engine) -> None:
    a, b, c = (variant(engine, f"V-{i}", 0, threshold=2) for i in range(3))
    low_stock.evaluate(engine, None, settings=Settings())
    with transaction(engine) as session:
        inventory.set_low_stock_threshold(EDITOR, session, a, None)
        session.get_one(ProductVariant, b).is_active = False
        session.execute(sa.delete(ProductVariant).where(ProductVariant.id == c))
    result = low_stock.evaluate(engine, [a, b, c], settings=Settings())
    assert sorted(result.resolved) == ["V-0", "V-1", "V-2"]
    assert all(alert.status == "resolved" for alert in low_alerts(engine))


def test_in_a_callers_session_the_hook_hears_only_after_commit(engine: sa.Engine, hook: Hook) -> None:
    url, received = hook
    lin = variant(engine, "LIN-S", 1, threshold=3)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        assert low_stock.evaluate(session, [lin], settings=Settings(alert_webhook_url=url)).opened == ["LIN-S"]
        raise RuntimeError("the caller's transaction fails")
    assert received == [] and low_alerts(engine) == []
    with transaction(engine) as session:
        low_stock.evaluate(session, [lin], settings=Settings(alert_webhook_url=url))
        assert received == []  # not before the commit
    assert [body["subject"] for body in received] == [f"variant-{lin}"]


def test_the_worker_evaluates_after_a_stock_change(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manual adjustment announces `inventory.changed`; the outbox pass that pushes it judges low stock."""
    lin = variant(engine, "LIN-S", 10, threshold=4)
    with transaction(engine) as session:
        inventory.adjust_stock(EDITOR, session, lin, delta=-6, reason="manual")

    def no_shop(connection_id: int) -> Connector:
        raise AssertionError("no shop is connected")

    report = dispatch.push_outbox(engine, no_shop)
    assert report.claimed >= 1
    [alert] = low_alerts(engine)
    assert alert.status == "open" and alert.details["available"] == 4
    with transaction(engine) as session:
        inventory.adjust_stock(EDITOR, session, lin, delta=+1, reason="manual")
    dispatch.push_outbox(engine, no_shop)
    [alert] = low_alerts(engine)
    assert alert.status == "resolved"


def test_the_overview_lists_low_variants_and_their_alerts(engine: sa.Engine) -> None:
    alerted = variant(engine, "A-1", 1, threshold=2)
    variant(engine, "B-1", 0, threshold=0)
    variant(engine, "C-1", 9, threshold=2)
    low_stock.evaluate(engine, [alerted], settings=Settings())
    with transaction(engine) as session:
        rows = low_stock.overview(session)
    assert [(r.sku, r.available, r.threshold, r.since is not None) for r in rows] == [
        ("A-1", 1, 2, True),
        ("B-1", 0, 0, False),  # low, its alert opens on its next evaluation
    ]


def test_the_digest_posts_one_summary_a_day_and_records_it(engine: sa.Engine, hook: Hook) -> None:
    url, received = hook
    settings = Settings(alert_webhook_url=url)
    day = datetime(2026, 12, 7, 8, tzinfo=UTC)
    assert low_stock.digest(engine, settings=settings, now=day).posted is False  # nothing open: nothing sent
    assert received == []
    for sku in ("X-1", "X-2"):
        variant(engine, sku, 0, threshold=1)
    low_stock.evaluate(engine, None, settings=settings)
    received.clear()  # the two openings
    next_day = datetime(2026, 12, 8, 8, tzinfo=UTC)
    sent = low_stock.digest(engine, settings=settings, now=next_day)
    assert sent.posted and sent.message == "2 variants at or under their low-stock threshold"
    [body] = received
    assert body["kind"] == "low_stock_digest" and body["subject"] == "2026-12-08"
    assert [v["sku"] for v in body["details"]["variants"]] == ["X-1", "X-2"]
    again = low_stock.digest(engine, settings=settings, now=next_day)
    assert again.already_sent and len(received) == 1  # a second run the same day sends nothing
    with transaction(engine) as session:
        record = session.scalars(
            sa.select(Alert).where(Alert.kind == "low_stock_digest", Alert.subject == "2026-12-08")
        ).one()
        assert record.status == "resolved" and record.notified_at is not None
        assert [a for a in alerts.open_alerts(session) if a.kind == "low_stock_digest"] == []


def test_an_unreachable_hook_leaves_the_digest_to_the_next_run(engine: sa.Engine, hook: Hook) -> None:
    variant(engine, "X-1", 0, threshold=1)
    low_stock.evaluate(engine, None, settings=Settings())
    day = datetime(2026, 12, 7, 8, tzinfo=UTC)
    down = Settings(alert_webhook_url=f"http://127.0.0.1:{free_port()}/hook")
    assert low_stock.digest(engine, settings=down, now=day).posted is False
    url, received = hook
    assert low_stock.digest(engine, settings=Settings(alert_webhook_url=url), now=day).posted
    assert len(received) == 1


def listed_mug(engine: sa.Engine, threshold: int) -> tuple[MarketplaceWorld, int]:
    """Both simulated shops with a mug listed and in sync (10 on hand, this threshold): the world and its variant."""
    world = MarketplaceWorld.start(engine)
    product = world.product("MUG-1", title="Mug", price="12.50", stock=10)
    for connection_id in world.connection_ids:
        snapshot.pull(engine, connection_id, world.connector(connection_id))
        sync.sync_shop(engine, connection_id, world.connector(connection_id))
    mug = product.variants[0].id
    with transaction(engine) as session:
        inventory.set_low_stock_threshold(EDITOR, session, mug, threshold)
    return world, mug


def test_orders_open_the_alert_once_through_the_events_worker(
    engine: sa.Engine, hook_in_settings: list[dict[str, Any]]
) -> None:
    """Orders on Shopee lower the stock past the threshold: one alert, one notification, however many orders."""
    world, mug = listed_mug(engine, 5)
    try:
        for quantity in (3, 3, 1):  # available 7 (above), then 4 (opens), then 3 (still open)
            order_on_shopee(world, mug, quantity)
            dispatch.process_events(engine, world.connector)
    finally:
        world.stop()
    [alert] = low_alerts(engine)
    assert alert.status == "open" and alert.details["available"] == 3
    assert [(body["kind"], body["details"]["available"]) for body in hook_in_settings] == [("low_stock", 4)]


def test_an_order_found_by_the_order_poll_opens_the_alert(
    engine: sa.Engine, hook_in_settings: list[dict[str, Any]]
) -> None:
    world, mug = listed_mug(engine, 8)
    try:
        item_id, model_id = world.remote_item(world.shopee_connection, mug)
        world.shopee.place_order(SHOPEE_SHOP, int(item_id), int(model_id), 2)  # its webhook is lost
        recovery.recover(engine, world.connector, run_id="poll")
    finally:
        world.stop()
    [alert] = low_alerts(engine)
    assert alert.status == "open" and alert.details["available"] == 8
    assert [body["kind"] for body in hook_in_settings] == ["low_stock"]


def test_a_bundle_is_judged_by_what_its_components_make_and_a_component_change_judges_it(
    store: Store, hook: Hook
) -> None:
    """KIT = 2 CUP + 1 LID has no stock of its own: its alert follows min(CUP // 2, LID), not its own row."""
    engine, url = store.engine, hook[0]
    settings = Settings(alert_webhook_url=url)
    kit, cup = store.variants["KIT"], store.variants["CUP"]
    with transaction(engine) as session:
        bundles.set_components(EDITOR, session, kit, [("CUP", 2), ("LID", 1)])
        inventory.set_low_stock_threshold(EDITOR, session, kit, 3)
    set_stock(engine, kit, 0)  # its own row says 0: ignored for a bundle
    assert low_stock.evaluate(engine, [kit], settings=settings).opened == []  # it makes min(20 // 2, 9) = 9
    with transaction(engine) as session:
        assert low_stock.overview(session) == []
    set_stock(engine, kit, 50)
    set_stock(engine, cup, 7)  # 7 // 2 = 3 kits: at the threshold; the worker names only CUP
    assert low_stock.evaluate(engine, [cup], settings=settings).opened == ["KIT"]
    assert [(body["details"]["sku"], body["details"]["available"]) for body in hook[1]] == [("KIT", 3)]
    with transaction(engine) as session:
        assert [(r.sku, r.available, r.threshold) for r in low_stock.overview(session)] == [("KIT", 3, 3)]
    set_stock(engine, cup, 20)
    assert low_stock.evaluate(engine, [cup], settings=settings).resolved == ["KIT"]
    assert [a.status for a in low_alerts(engine)] == ["resolved"]
