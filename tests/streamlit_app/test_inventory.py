# The Inventory page: levels and what each shop was sent, low-stock alerts, history, adjustments by role.
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory, OutboxEvent, ProductVariant
from syncstore.inventory import ledger as inventory
from syncstore.security.auth import Role
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


def labelled(widgets: Any, label: str) -> Any:
    """The one widget of a kind with this label (the adjust form keys its widgets by variant)."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, [w.label for w in widgets]
    return found[0]


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
    labelled(at.number_input, "Change by (negative removes)").set_value(-3)
    at.selectbox(key="adjust_reason").select("reconcile")
    labelled(at.text_input, "Note (why; kept in the ledger)").input("cycle count")
    labelled(at.number_input, "Low-stock threshold (empty: no alert)").set_value(variant.stock)
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
    labelled(at.number_input, "Change by (negative removes)").set_value(-(variant.stock + 1))
    at.button[[b.label for b in at.button].index("Apply")].click().run()
    assert not at.exception
    assert "on hand cannot go below 0" in " ".join(e.value for e in at.error)


# --- issue 14 item 1: the right variant, its own value, and no lost update (S2) -------------------


def variant_by_sku(db: SeededDatabase, sku: str) -> ProductVariant:
    engine = db.engine()
    with transaction(engine) as session:
        variant = session.scalars(sa.select(ProductVariant).where(ProductVariant.sku == sku)).one()
    engine.dispose()
    return variant


def on_hand_field(at: AppTest) -> Any:
    return labelled(at.number_input, "New on hand")


def apply(at: AppTest) -> AppTest:
    return at.button[[b.label for b in at.button].index("Apply")].click().run()


def test_an_exact_sku_search_preselects_that_variant_and_shows_its_on_hand(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    # Not the first variant of its product: the search lists the whole product.
    wanted = variant_by_sku(seeded_db, "KS-TEE00001-BLACK-M")
    at = show(app_as("editor", "inventory"), wanted.sku)
    assert not at.exception
    assert at.selectbox(key="inventory_variant").value == wanted.id
    assert on_hand_field(at).value == wanted.stock
    # A second exact search, of another product's variant: that one, with its own value.
    other = variant_by_sku(seeded_db, "KS-TEE00002-BLACK-L")
    show(at, other.sku.lower())
    assert at.selectbox(key="inventory_variant").value == other.id
    assert on_hand_field(at).value == other.stock


def test_choosing_another_variant_shows_its_own_on_hand(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    first, second = variant_by_sku(seeded_db, "KS-TEE00001-BLACK-S"), variant_by_sku(seeded_db, "KS-TEE00001-BLACK-M")
    at = show(app_as("editor", "inventory"), "KS-TEE00001-BLACK-S")
    assert on_hand_field(at).value == first.stock
    at.selectbox(key="inventory_variant").set_value(second.id).run()
    assert on_hand_field(at).value == second.stock
    on_hand_field(at).set_value(50)
    apply(at)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert variant_by_sku(seeded_db, first.sku).stock == first.stock, "the other variant is untouched"
    assert variant_by_sku(seeded_db, second.sku).stock == 50
    said = " ".join(s.value for s in at.success).replace("\\", "")
    assert f"{second.sku}" in said and f"{second.stock} → 50" in said, said
    assert on_hand_field(at).value == 50


def test_an_adjustment_over_a_change_made_since_is_refused(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    variant = variant_by_sku(seeded_db, "KS-TEE00002-BLACK-M")
    at = show(app_as("editor", "inventory"), variant.sku)
    assert on_hand_field(at).value == variant.stock
    engine = seeded_db.engine()
    with transaction(engine) as session:
        inventory.adjust_stock(seeded_db.actors[Role.ADMIN], session, variant.id, set_to=variant.stock + 7)
    engine.dispose()
    on_hand_field(at).set_value(50)
    apply(at)
    assert not at.exception
    said = " ".join(e.value for e in at.error)
    assert "changed by" in said and "since you opened it" in said, said
    assert seeded_db.actors[Role.ADMIN].label.split("@")[0] in said.replace("\\", ""), said
    assert variant_by_sku(seeded_db, variant.sku).stock == variant.stock + 7, "nothing was written"
    # The page now shows the current value, and a second Apply from it goes through.
    at.run()
    assert on_hand_field(at).value == variant.stock + 7
    on_hand_field(at).set_value(50)
    apply(at)
    assert not at.error, [e.value for e in at.error]
    assert variant_by_sku(seeded_db, variant.sku).stock == 50
