# The low-stock panel: the Inventory page and the Admin alerts list show low variants and their open alerts.
from __future__ import annotations

import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import Alert, ProductVariant
from syncstore.inventory import ledger as inventory
from syncstore.inventory import low_stock
from syncstore.security.auth import Role
from syncstore.settings import Settings
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with


def low_variants(db: SeededDatabase) -> tuple[str, str]:
    """Two variants made low: the first with its alert open, the second not evaluated yet; their SKUs."""
    engine = db.engine()
    with transaction(engine) as session:
        first, second = session.scalars(sa.select(ProductVariant).order_by(ProductVariant.sku).limit(2)).all()
        for variant in (first, second):
            inventory.set_low_stock_threshold(db.actors[Role.ADMIN], session, variant.id, variant.stock + 1)
        skus = (first.sku, second.sku)
        first_id = first.id
    low_stock.evaluate(engine, [first_id], settings=Settings())
    engine.dispose()
    return skus


def test_the_inventory_page_shows_low_variants_and_when_their_alert_opened(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    alerted, pending = low_variants(seeded_db)
    at = app_as("viewer", "inventory")
    assert not at.exception
    table = frame_with(at, "Alert since")
    rows = {row["SKU"]: row for _, row in table.iterrows()}
    assert set(rows) == {alerted, pending}
    assert rows[alerted]["Alert since"] != "—" and rows[pending]["Alert since"] == "—"
    assert rows[alerted]["Threshold"] == rows[alerted]["Available"] + 1
    assert any("2 variants are at or under the low-stock threshold (1 open low-stock alert)" in w.value
               for w in at.warning)  # fmt: skip


def test_the_alerts_list_shows_them_too(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    alerted, _ = low_variants(seeded_db)
    at = app_as("admin", "admin")
    assert not at.exception
    assert alerted in list(frame_with(at, "Alert since")["SKU"])
    assert any(f"{alerted}:" in w.value and "low_stock" in w.value for w in at.warning)


def test_nothing_low_says_so(app_as: AppAs) -> None:
    at = app_as("viewer", "inventory")
    assert any("No variant is at or under its low-stock threshold." in s.value for s in at.success)


def test_setting_a_threshold_over_the_stock_opens_the_alert_at_once(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    engine = seeded_db.engine()
    with transaction(engine) as session:
        variant = session.scalars(sa.select(ProductVariant).order_by(ProductVariant.id)).first()
        assert variant is not None
    at = app_as("editor", "inventory")
    at.text_input(key="inventory_search").input(variant.sku).run()
    [threshold] = [w for w in at.number_input if w.label == "Low-stock threshold (empty: no alert)"]
    threshold.set_value(variant.stock + 5)
    at.button[[b.label for b in at.button].index("Apply")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with transaction(engine) as session:
        [alert] = session.scalars(sa.select(Alert).where(Alert.kind == "low_stock")).all()
    engine.dispose()
    assert alert.status == "open" and alert.details["sku"] == variant.sku
    table = frame_with(at, "Alert since")
    assert table[table["SKU"] == variant.sku].iloc[0]["Alert since"] != "—"
