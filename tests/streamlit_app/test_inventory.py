# The Inventory page: levels, what each shop was sent, low stock, history, adjustments, locations, transfers, bundles.
from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from streamlit_app import stock_reasons
from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory, OutboxEvent, ProductVariant
from syncstore.inventory import bundles
from syncstore.inventory import ledger as inventory
from syncstore.inventory import locations as stock_locations
from syncstore.security import preferences
from syncstore.security.auth import Role
from syncstore.shops import connections
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with

NOTE = "Note (why; kept in the ledger; needed for “Other”)"


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


def keyed(widgets: Any, prefix: str) -> Any:
    """The one widget of a kind whose key starts with `prefix` (forms renew their keys after a save)."""
    found = [w for w in widgets if (w.key or "").startswith(prefix)]
    assert len(found) == 1, [w.key for w in widgets]
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
    assert any("may not adjust stock" in c.value for c in at.caption)


def test_an_editor_adjusts_with_a_reason_and_sets_a_threshold(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(seeded_db)
    at = show(app_as("editor", "inventory"), variant.sku)
    at.radio(key="adjust_mode").set_value("change").run()
    labelled(at.number_input, "Change by (negative removes)").set_value(-3)
    labelled(at.selectbox, "Reason").select("damaged")
    labelled(at.text_input, NOTE).input("dropped in the stockroom")
    labelled(at.number_input, "Low-stock threshold (empty: no alert)").set_value(variant.stock)
    at.button[[b.label for b in at.button].index("Apply")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        stored = session.get_one(ProductVariant, variant.id)
        assert (stored.stock, stored.low_stock_threshold) == (variant.stock - 3, variant.stock)
        entry = session.scalars(sa.select(InventoryHistory).order_by(InventoryHistory.id.desc())).first()
        assert entry is not None and (entry.change_reason, entry.note) == ("damaged", "dropped in the stockroom")
        assert session.scalars(sa.select(OutboxEvent).where(OutboxEvent.event_type == "inventory.changed")).first()
    engine.dispose()
    # Now under its threshold: the page says so.
    assert any("at or under the low-stock threshold" in w.value for w in at.warning)
    at.toggle(key="inventory_low_only").set_value(True).run()
    assert list(frame_with(at, "Low")["SKU"]) == [variant.sku]
    assert at.get("vega_lite_chart"), "the history chart is drawn"


def test_an_impossible_adjustment_is_an_error_on_the_page(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(seeded_db)
    at = show(app_as("editor", "inventory"), variant.sku)
    at.radio(key="adjust_mode").set_value("change").run()
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


# --- issue 17: locations, transfers, shop sources and bundles ------------------------------------


def add_location(db: SeededDatabase, name: str) -> int:
    engine = db.engine()
    with transaction(engine) as session:
        location = stock_locations.create_location(db.actors[Role.ADMIN], session, name)
    engine.dispose()
    return location.id


def location_id(db: SeededDatabase, name: str) -> int:
    engine = db.engine()
    with transaction(engine) as session:
        found = next(location.id for location in stock_locations.list_locations(session) if location.name == name)
    engine.dispose()
    return found


def levels_at(db: SeededDatabase, variant_id: int) -> dict[str, tuple[int, int]]:
    """Location name -> (on hand, reserved) of one variant."""
    engine = db.engine()
    with transaction(engine) as session:
        names = {location.id: location.name for location in stock_locations.list_locations(session)}
        levels = stock_locations.location_levels(session, [variant_id])
    engine.dispose()
    return {names[level.location_id]: (level.on_hand, level.reserved) for level in levels}


def click(at: AppTest, label: str) -> AppTest:
    return at.button[[b.label for b in at.button].index(label)].click().run()


def test_an_editor_adds_and_renames_a_location_and_a_viewer_only_sees_them(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    at = app_as("editor", "inventory")
    labelled(at.text_input, "New location name").input("Back room")
    click(at, "Add location")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert list(frame_with(at, "Default")["Location"]) == ["Main warehouse", "Back room"]
    assert labelled(at.text_input, "New location name").value == "", "the form is empty again after a save"
    keyed(at.selectbox, "location_rename_id").select(location_id(seeded_db, "Back room"))
    labelled(at.text_input, "Rename to").input("Shop floor")
    click(at, "Rename")
    assert not at.error, [e.value for e in at.error]
    assert list(frame_with(at, "Default")["Location"]) == ["Main warehouse", "Shop floor"]
    assert labelled(at.text_input, "Rename to").value == "", "the rename form is empty again after a save"
    # A duplicate name is refused with the field's message; nothing is added, and the name typed stays.
    labelled(at.text_input, "New location name").input("Shop floor")
    click(at, "Add location")
    assert any("name" in e.value for e in at.error), [e.value for e in at.error]
    assert labelled(at.text_input, "New location name").value == "Shop floor"
    viewer = app_as("viewer", "inventory")
    assert "Add location" not in [b.label for b in viewer.button]
    assert list(frame_with(viewer, "Default")["Location"]) == ["Main warehouse", "Shop floor"]


def test_a_transfer_moves_stock_between_locations_and_shows_the_result(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    variant = variant_by_sku(seeded_db, "KS-TEE00001-BLACK-L")  # 23 on hand
    back_room = add_location(seeded_db, "Back room")
    at = show(app_as("editor", "inventory"), variant.sku)
    levels = frame_with(at, "Available here")
    assert list(levels["Location"]) == ["Main warehouse (default)", "Back room"]
    assert list(levels["On hand"]) == [variant.stock, 0]
    labelled(at.selectbox, "To").select(back_room)
    labelled(at.number_input, "Quantity").set_value(5)
    labelled(at.text_input, "Transfer note (kept in the ledger)").input("restock the back room")
    click(at, "Transfer")
    assert not at.exception and not at.error, [e.value for e in at.error]
    said = " ".join(s.value for s in at.success).replace("\\", "")
    assert f"Moved 5 of {variant.sku} from Main warehouse to Back room" in said, said
    assert levels_at(seeded_db, variant.id) == {"Main warehouse": (variant.stock - 5, 0), "Back room": (5, 0)}
    assert variant_by_sku(seeded_db, variant.sku).stock == variant.stock, "the total is unchanged"
    assert list(frame_with(at, "Available here")["On hand"]) == [variant.stock - 5, 5]
    # More than the source holds: refused, nothing moves.
    labelled(at.selectbox, "From").select(back_room)
    labelled(at.selectbox, "To").select(location_id(seeded_db, "Main warehouse"))
    labelled(at.number_input, "Quantity").set_value(6)
    click(at, "Transfer")
    assert at.error, "an impossible transfer is an error on the page"
    assert levels_at(seeded_db, variant.id) == {"Main warehouse": (variant.stock - 5, 0), "Back room": (5, 0)}


def test_an_adjustment_at_a_chosen_location_changes_only_that_location(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    variant = variant_by_sku(seeded_db, "KS-TEE00002-BLACK-L")  # 9 on hand
    back_room = add_location(seeded_db, "Back room")
    at = show(app_as("editor", "inventory"), variant.sku)
    at.selectbox(key="adjust_location").select(back_room).run()
    assert on_hand_field(at).value == 0
    on_hand_field(at).set_value(7)
    apply(at)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert levels_at(seeded_db, variant.id) == {"Main warehouse": (variant.stock, 0), "Back room": (7, 0)}
    assert variant_by_sku(seeded_db, variant.sku).stock == variant.stock + 7
    said = " ".join(s.value for s in at.success).replace("\\", "")
    assert "at Back room 0 → 7" in said, said


def test_an_admin_chooses_the_locations_a_shop_sells(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    back_room = add_location(seeded_db, "Back room")
    editor = app_as("editor", "inventory")
    assert "Save sources" not in [b.label for b in editor.button]
    assert any("may not manage shop connections" in c.value for c in editor.caption)
    at = app_as("admin", "inventory")
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("Sells: all locations") == 2, captions
    engine = seeded_db.engine()
    with transaction(engine) as session:
        shopee = next(c.id for c in connections.list_connections(session) if c.platform == "shopee")
    engine.dispose()
    at.multiselect(key=f"sources_{shopee}").select(back_room)
    # The shops are listed by connection: Shopee's form first.
    next(b for b in at.button if b.label == "Save sources").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        assert stock_locations.shop_sources(session).get(shopee) == frozenset({back_room})
    engine.dispose()
    captions = " ".join(c.value for c in at.caption)
    assert "Sells: Back room" in captions and captions.count("Sells: all locations") == 1, captions
    assert "change it on Connections" in captions or "on Connections" in captions


def make_bundle(db: SeededDatabase, sku: str, components: list[tuple[str, int]]) -> int:
    bundle = variant_by_sku(db, sku)
    engine = db.engine()
    with transaction(engine) as session:
        bundles.set_components(db.actors[Role.ADMIN], session, bundle.id, components)
    engine.dispose()
    return bundle.id


def test_a_bundle_shows_its_computed_available_and_no_adjust_form(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    # KS-TEE00001-BLACK-M has 3, KS-TEE00001-BLACK-L 23: 2 of L and 1 of M make min(3, 11) = 3.
    make_bundle(seeded_db, "URB-TEE00012-SAND-M", [("KS-TEE00001-BLACK-M", 1), ("KS-TEE00001-BLACK-L", 2)])
    at = show(app_as("editor", "inventory"), "URB-TEE00012-SAND-M")
    assert not at.exception
    table = frame_with(at, "Bundle")
    row = table[table["SKU"] == "URB-TEE00012-SAND-M"].iloc[0]
    assert (row["Bundle"], row["Available"]) == ("bundle", 3)
    assert pd.isna(row["On hand"]) and pd.isna(row["Reserved"]), "a bundle shows no stock of its own"
    assert {m.label: m.value for m in at.metric}["Available as a bundle"] == "3"
    assert "Apply" not in [b.label for b in at.button], "a bundle has no stock of its own to adjust"


# --- issue 18 item 6: reasons a person uses, a history chart that draws, forms that clear ----------


def reason_box(at: AppTest) -> Any:
    return labelled(at.selectbox, "Reason")


def test_the_form_offers_the_reasons_a_person_uses_and_never_the_systems(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    variant = first_listed_variant(sqlite_seeded_db)
    at = show(sqlite_app_as("editor", "inventory"), variant.sku)
    box = reason_box(at)
    assert box.options == ["Stock count", "Damaged", "Returned", "Found", "Other (say why in the note)"]
    assert not {"order", "transfer", "import", "reconcile", "sync", "manual"} & set(box.options)
    # The form's own check refuses a system reason (Streamlit refuses an option not offered before it).
    for system in inventory.SYSTEM_REASONS:
        assert "Choose one of the reasons offered" in (stock_reasons.refused_reason(system, "a note") or "")
    assert stock_reasons.refused_reason("count", "") is None


def test_other_needs_a_note_and_found_stock_is_recorded_as_found(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    variant = first_listed_variant(sqlite_seeded_db)
    at = show(sqlite_app_as("editor", "inventory"), variant.sku)
    reason_box(at).select("other")
    on_hand_field(at).set_value(variant.stock + 1)
    apply(at)
    assert any("Say why in the note" in e.value for e in at.error), [e.value for e in at.error]
    assert variant_by_sku(sqlite_seeded_db, variant.sku).stock == variant.stock, "nothing was written"
    assert labelled(at.text_input, NOTE).value == "" and reason_box(at).value == "other", "what was chosen stays"
    labelled(at.text_input, NOTE).input("sample from the supplier")
    apply(at)
    assert not at.error, [e.value for e in at.error]
    reason_box(at).select("found")
    on_hand_field(at).set_value(variant.stock + 3)
    apply(at)
    assert not at.error, [e.value for e in at.error]
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        reasons = session.execute(
            sa.select(InventoryHistory.change_reason, InventoryHistory.note)
            .where(InventoryHistory.variant_id == variant.id)
            .order_by(InventoryHistory.id)
        ).all()
    engine.dispose()
    assert [tuple(r) for r in reasons[-2:]] == [("other", "sample from the supplier"), ("found", None)]
    ledger = frame_with(at, "Reason")
    assert list(ledger["Reason"][:2]) == ["found", "other reason"], "the ledger says the reason in words"


def test_the_form_is_empty_again_after_a_save(sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(sqlite_seeded_db)
    at = show(sqlite_app_as("editor", "inventory"), variant.sku)
    reason_box(at).select("damaged")
    labelled(at.text_input, NOTE).input("crushed box")
    on_hand_field(at).set_value(variant.stock - 1)
    apply(at)
    assert not at.error, [e.value for e in at.error]
    assert labelled(at.text_input, NOTE).value == "", "the note is cleared"
    assert reason_box(at).value == "count", "the reason is back to the first one"
    assert on_hand_field(at).value == variant.stock - 1, "the quantity shows the new on hand"


def test_a_transfer_form_is_empty_again_after_a_transfer(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    variant = variant_by_sku(sqlite_seeded_db, "KS-TEE00001-BLACK-L")  # 23 on hand
    back_room = add_location(sqlite_seeded_db, "Back room")
    at = show(sqlite_app_as("editor", "inventory"), variant.sku)
    labelled(at.selectbox, "To").select(back_room)
    labelled(at.number_input, "Quantity").set_value(5)
    labelled(at.text_input, "Transfer note (kept in the ledger)").input("restock the back room")
    click(at, "Transfer")
    assert not at.error, [e.value for e in at.error]
    assert labelled(at.text_input, "Transfer note (kept in the ledger)").value == ""
    assert labelled(at.number_input, "Quantity").value == 1


def chart_rows(at: AppTest) -> pd.DataFrame:
    import pyarrow as pa

    charts = at.get("vega_lite_chart")
    assert len(charts) == 1, "one history chart"
    proto = charts[0].proto
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets]
    assert len(frames) == 1
    return frames[0]


def test_the_history_chart_gets_on_hand_per_location_over_time_in_the_users_zone(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    variant = variant_by_sku(sqlite_seeded_db, "KS-TEE00001-BLACK-L")  # 23 on hand
    back_room = add_location(sqlite_seeded_db, "Back room")
    engine = sqlite_seeded_db.engine()
    admin = sqlite_seeded_db.actors[Role.ADMIN]
    main_warehouse = location_id(sqlite_seeded_db, "Main warehouse")
    with transaction(engine) as session:
        inventory.adjust_stock(admin, session, variant.id, set_to=20, reason="count")
        stock_locations.transfer_stock(admin, session, variant.id, from_location_id=main_warehouse,
                                       to_location_id=back_room, quantity=5)  # fmt: skip
        preferences.change(session, sqlite_seeded_db.actors[Role.EDITOR], None, "Asia/Kuala_Lumpur")
        times = list(session.scalars(sa.select(InventoryHistory.created_at).where(
            InventoryHistory.variant_id == variant.id).order_by(InventoryHistory.id)))  # fmt: skip
    engine.dispose()
    at = show(sqlite_app_as("editor", "inventory"), variant.sku)
    assert not at.exception
    rows = chart_rows(at)
    assert str(rows["on_hand"].dtype) == "int64" and str(rows["time"].dtype).startswith("datetime64")
    main = rows[rows["location"] == "Main warehouse"]
    back = rows[rows["location"] == "Back room"]
    assert list(main["on_hand"]) == [0, 23, 20, 15, 15], "before, the import, each change, then the level now"
    assert list(back["on_hand"]) == [0, 5, 5]
    assert main["time"].iloc[0] == back["time"].iloc[0], "every series starts at the same time"
    # Wall-clock times in Kuala Lumpur (UTC+8, no summer time), on a UTC scale so the browser never shifts them.
    first = times[0] if times[0].tzinfo else times[0].replace(tzinfo=UTC)
    kl = timedelta(hours=8)
    assert main["time"].iloc[1].to_pydatetime() == first.replace(tzinfo=None) + kl
    span = (main["time"].iloc[-1] - main["time"].iloc[0]).total_seconds()
    assert 86_000 < span < 87_000, "a recent history still spans a day"
    now_kl = datetime.now(UTC).replace(tzinfo=None) + kl
    assert abs((main["time"].iloc[-1].to_pydatetime() - now_kl).total_seconds()) < 120, "the last point is now"
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["encoding"]["x"]["scale"]["type"] == "utc" and spec["encoding"]["x"]["type"] == "temporal"
    assert spec["mark"]["interpolate"] == "step-after"


def test_a_single_change_still_draws_a_line(sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase) -> None:
    variant = first_listed_variant(sqlite_seeded_db)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        inventory.adjust_stock(sqlite_seeded_db.actors[Role.ADMIN], session, variant.id, set_to=7, reason="count")
    engine.dispose()
    rows = chart_rows(show(sqlite_app_as("viewer", "inventory"), variant.sku))
    # Before the import, the import, the count, and "now" closes the line: never a lone point.
    assert list(rows["on_hand"]) == [0, variant.stock, 7, 7] and rows["time"].is_monotonic_increasing


def test_a_malay_speaking_merchant_reads_the_page_and_its_reasons_in_malay(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    variant = first_listed_variant(sqlite_seeded_db)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        preferences.change(session, sqlite_seeded_db.actors[Role.EDITOR], "ms", None)
    engine.dispose()
    at = show(sqlite_app_as("editor", "inventory"), variant.sku)
    assert not at.exception
    assert [title.value for title in at.title] == ["Inventori"]
    box = labelled(at.selectbox, "Sebab")
    assert box.options == ["Kiraan stok", "Rosak", "Dipulangkan", "Ditemui", "Lain-lain (nyatakan sebab dalam catatan)"]
    assert any(c.value == "1 varian" or c.value.endswith(" varian") for c in at.caption)
    assert "Guna" in [b.label for b in at.button]
