# The Inventory page: levels and what each shop was sent, low-stock alerts, history, adjustments by role.
from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory, OutboxEvent, ProductVariant
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with


def first_listed_variant(db: SeededDatabase) -> ProductVariant:
    engine = db.engine()
    with transaction(engine) as session:
        variant = session.scalars(
            sa.select(ProductVariant).where(ProductVariant.product_id == 1).order_by(ProductVariant.id)
        ).first()
    engine.dispose()
    assert variant is not None
    return variant


def show(at: AppTest, sku: str) -> AppTest:
    at.text_input(key="inventory_search").input(sku).run()
    return at


def test_levels_and_the_stock_each_shop_was_sent(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(seeded_db)
    at = show(app_as("viewer", "inventory"), variant.sku)
    assert not at.exception
    table = frame_with(at, "Low")
    row = table[table["SKU"] == variant.sku].iloc[0]
    assert (row["On hand"], row["Reserved"], row["Available"]) == (variant.stock, 0, variant.stock)
    assert row["Sent to Shopee · Demo Shopee MY"] == variant.stock
    assert row["Sent to TikTok Shop · Demo TikTok MY"] == variant.stock
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["On hand"] == str(variant.stock)
    shops = frame_with(at, "Shop shows")
    assert list(shops["Shop"]) == ["Shopee · Demo Shopee MY", "TikTok Shop · Demo TikTok MY"]


def test_a_viewer_cannot_adjust(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = show(app_as("viewer", "inventory"), first_listed_variant(seeded_db).sku)
    assert "Apply" not in [b.label for b in at.button]
    assert any("may not inventory.adjust" in c.value for c in at.caption)


def test_an_editor_adjusts_with_a_reason_and_sets_a_threshold(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(seeded_db)
    at = show(app_as("editor", "inventory"), variant.sku)
    at.radio(key="adjust_mode").set_value("Add or remove").run()
    at.number_input(key="adjust_quantity_False").set_value(-3)
    at.selectbox(key="adjust_reason").select("reconcile")
    at.text_input(key="adjust_note").input("cycle count")
    at.number_input(key="adjust_threshold").set_value(variant.stock)
    at.button[[b.label for b in at.button].index("Apply")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        stored = session.get_one(ProductVariant, variant.id)
        assert (stored.stock, stored.low_stock_threshold) == (variant.stock - 3, variant.stock)
        entry = session.scalars(sa.select(InventoryHistory).order_by(InventoryHistory.id.desc())).first()
        assert entry is not None and (entry.change_reason, entry.note) == ("reconcile", "cycle count")
        assert session.scalars(sa.select(OutboxEvent).where(OutboxEvent.event_type == "inventory.changed")).first()
    engine.dispose()
    # Now under its threshold: the page says so.
    assert any("at or under the low-stock threshold" in w.value for w in at.warning)
    at.toggle(key="inventory_low_only").set_value(True).run()
    assert list(frame_with(at, "Low")["SKU"]) == [variant.sku]
    assert at.get("arrow_line_chart") or at.get("vega_lite_chart"), "the history chart is drawn"


def test_an_impossible_adjustment_is_an_error_on_the_page(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(seeded_db)
    at = show(app_as("editor", "inventory"), variant.sku)
    at.radio(key="adjust_mode").set_value("Add or remove").run()
    at.number_input(key="adjust_quantity_False").set_value(-(variant.stock + 1))
    at.button[[b.label for b in at.button].index("Apply")].click().run()
    assert not at.exception
    assert "on hand cannot go below 0" in " ".join(e.value for e in at.error)
