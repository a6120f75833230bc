# The Product editor: read-only for viewers, saves for editors, field errors, concurrent edits, the sync preview.
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct, PlatformOverride, ProductVariant
from syncstore.inventory import bundles
from syncstore.security.auth import Role
from tests.streamlit_app.conftest import AppAs, SeededDatabase

LISTED = 1  # the conftest binds products 1-5 to both shops


def product(db: SeededDatabase, product_id: int = LISTED) -> MasterProduct:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            return catalog_reads.get_product(session, product_id)
    finally:
        engine.dispose()


def open_editor(app_as: AppAs, role: str, product_id: int = LISTED) -> AppTest:
    return app_as(role, "product_editor", query_params={"product": str(product_id)})


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.success, *at.markdown, *at.caption)]
    return "\n".join(str(p) for p in parts)


def field(at: AppTest, name: str, product_id: int = LISTED, version: int = 1):  # type: ignore[no-untyped-def]
    key = f"{name}-{product_id}-{version}"
    for widget in (*at.text_input, *at.text_area):
        if widget.key == key:
            return widget
    raise AssertionError(f"no field {key}")


def test_a_viewer_sees_the_product_read_only(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = open_editor(app_as, "viewer")
    assert not at.exception
    assert at.title[0].value == "Product editor"
    assert at.subheader[0].value == product(seeded_db).title
    assert all(widget.disabled for widget in (*at.text_input, *at.text_area) if widget.key and "-1-" in widget.key)
    assert "Save" not in [button.label for button in at.button]
    assert "Set override" not in [button.label for button in at.button]
    editor = at.data_editor[0] if hasattr(at, "data_editor") else at.dataframe[0]
    assert editor.editing_mode == "fixed"
    assert "Read only: your role (viewer) may not edit the catalog" in texts(at)


def test_a_forced_save_by_a_viewer_is_refused_by_syncstore(
    app_as: AppAs, seeded_db: SeededDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit_app import ui

    # The page is tricked into showing the edit controls; the permission check in syncstore still holds.
    monkeypatch.setattr(ui, "can", lambda permission: True)
    at = open_editor(app_as, "viewer")
    field(at, "title").input("Hacked title")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    assert "viewer may not catalog.write" in " ".join(e.value for e in at.error)
    assert product(seeded_db).title != "Hacked title"


def test_an_editor_saves_a_price_and_sees_the_plan(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    before = product(seeded_db)
    at = open_editor(app_as, "editor")
    field(at, "base_price").input("71.50")
    field(at, "title").input(before.title + " v2")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception, at.exception
    after = product(seeded_db)
    assert (after.base_price, after.title, after.version) == (Decimal("71.50"), before.title + " v2", 2)
    # After a save the preview shows what each shop would receive, per shop.
    expanders = [e.label for e in at.expander]
    assert any("Demo Shopee MY" in label for label in expanders)
    assert any("Demo TikTok MY" in label for label in expanders)
    assert any("API call" in label for label in expanders)
    assert not at.json, "no collapsed JSON: each change is a readable line"
    # The refreshed preview names the saved price as what each shop would get.
    assert any("71.50" in list(frame.value["after"]) for frame in at.dataframe if "after" in frame.value)
    assert "version 2" in texts(at)


def test_field_errors_are_shown_next_to_the_field_and_nothing_is_saved(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    at = open_editor(app_as, "editor")
    field(at, "base_price").input("-5")
    field(at, "title").input("")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Not saved: 2 problems" in errors
    assert "greater than 0" in errors
    assert product(seeded_db).version == 1
    # The entered values survive, so the user can fix them.
    assert field(at, "base_price").value == "-5"


def test_a_concurrent_edit_is_explained_and_can_be_reloaded(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = open_editor(app_as, "editor")
    engine = seeded_db.engine()
    with transaction(engine) as session:
        catalog.update_product(seeded_db.actors[Role.ADMIN], session, LISTED, expected_version=1,
                               changes={"brand": "Someone else"})  # fmt: skip
    engine.dispose()
    field(at, "base_price").input("80.00")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert "changed by admin@example.com since you opened it" in said, said  # who, as S2 says
    assert product(seeded_db).base_price != Decimal("80.00")
    at.button(key="editor_reload").click().run()
    assert "since you opened it" not in " ".join(e.value for e in at.error).replace("\\", "")
    assert field(at, "brand", version=2).value == "Someone else"


def test_variants_are_added_edited_and_deactivated(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    before = product(seeded_db)
    first, second = before.variants[0], before.variants[1]
    at = open_editor(app_as, "editor")
    at.session_state[f"variants-{LISTED}-1"] = {
        "edited_rows": {0: {"price": "99.90", "stock": 42}, 1: {"active": False}},
        "added_rows": [
            {"sku": "KS-NEW-SKU-XL", "name": "Black / XL", "attr:Size": "XL", "attr:Colour": "Black", "stock": 3}
        ],
        "deleted_rows": [],
    }
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "Not saved" in e.value]
    # The plan adds the new SKU to the existing listings (a create of that variant), nothing refused for it.
    assert "not supported" not in " ".join(e.value for e in at.error)
    assert any("KS-NEW-SKU-XL" in m.value for m in at.markdown)
    engine = seeded_db.engine()
    with transaction(engine) as session:
        variants = {
            v.sku: v for v in session.scalars(sa.select(ProductVariant).where(ProductVariant.product_id == LISTED))
        }
    engine.dispose()
    assert (variants[first.sku].price, variants[first.sku].stock) == (Decimal("99.90"), 42)
    assert variants[second.sku].is_active is False
    assert variants["KS-NEW-SKU-XL"].attributes == {"Size": "XL", "Colour": "Black"}
    assert variants["KS-NEW-SKU-XL"].stock == 3


def test_a_bad_variant_row_names_the_row_and_field(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = open_editor(app_as, "editor")
    other_sku = product(seeded_db, 2).variants[0].sku
    at.session_state[f"variants-{LISTED}-1"] = {
        "edited_rows": {0: {"sku": other_sku}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Variant row 1" in errors and "already used by product #2" in errors
    assert product(seeded_db).version == 1


def test_an_editor_sets_and_removes_a_platform_override(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = open_editor(app_as, "editor")
    at.selectbox[[s.label for s in at.selectbox].index("Field")].select("price")
    at.text_area(key=f"override_value_{LISTED}").input("59.00")
    at.button[[b.label for b in at.button].index("Set override")].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "**price** (product) = `59.00`" in texts(at)
    assert at.text_area(key=f"override_value_{LISTED}").value == "", "the form is empty for the next override"
    engine = seeded_db.engine()
    with transaction(engine) as session:
        override = session.scalars(sa.select(PlatformOverride)).one()
        assert (override.platform, override.field, override.value) == ("shopee", "price", "59.00")
        assert session.scalars(sa.select(AuditLog.action).where(AuditLog.action == "product.override")).all()
    engine.dispose()
    at.button(key=f"override_delete_{override.id}").click().run()
    assert "No overrides" in texts(at)


def test_a_bad_override_value_is_an_error_not_a_crash(app_as: AppAs) -> None:
    at = open_editor(app_as, "editor")
    at.selectbox[[s.label for s in at.selectbox].index("Field")].select("price")
    at.text_area(key=f"override_value_{LISTED}").input("free")
    at.button[[b.label for b in at.button].index("Set override")].click().run()
    assert not at.exception
    assert "price" in " ".join(e.value for e in at.error)
    assert at.text_area(key=f"override_value_{LISTED}").value == "free", "a refused value stays to be fixed"


def test_preview_for_a_viewer_shows_the_plan_without_writing(app_as: AppAs) -> None:
    at = open_editor(app_as, "viewer", product_id=10)  # not listed yet: the plan creates it on both shops
    at.button(key="editor_preview_button").click().run()
    assert not at.exception
    labels = " ".join(e.label for e in at.expander)
    assert "Demo Shopee MY" in labels and "Demo TikTok MY" in labels
    assert "new listing" in texts(at)


def test_without_a_product_the_page_offers_a_picker(app_as: AppAs) -> None:
    at = app_as("editor", "product_editor")
    assert not at.exception
    at.text_input(key="editor_find").input("boxy tee").run()
    at.button(key="editor_open").click().run()
    assert not at.exception
    assert at.subheader and "Boxy Tee" in at.subheader[0].value


def test_an_unknown_product_is_reported(app_as: AppAs) -> None:
    at = open_editor(app_as, "editor", product_id=999_999)
    assert not at.exception
    assert "product 999999 not found" in " ".join(e.value for e in at.error)


# --- issue 17: bundles -----------------------------------------------------------------------------

BUNDLE_PRODUCT_HANDLE = "urbanloom-pocket-tee-2"  # three variants: URB-TEE00012-SAND-M, -L, -XL
BUNDLE_SKU = "URB-TEE00012-SAND-M"


def product_id_of(db: SeededDatabase, handle: str) -> int:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            found = session.scalar(sa.select(MasterProduct.id).where(MasterProduct.handle == handle))
            assert found is not None
            return found
    finally:
        engine.dispose()


def saved_components(db: SeededDatabase, sku: str) -> list[tuple[str, int]]:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            variant_id = session.scalar(sa.select(ProductVariant.id).where(ProductVariant.sku == sku))
            assert variant_id is not None
            return [(p.sku, p.quantity) for p in bundles.components(session, [variant_id]).get(variant_id, [])]
    finally:
        engine.dispose()


def add_component(at: AppTest, variant_id: int, sku: str, quantity: int) -> AppTest:
    at.text_input(key=f"bundle_sku_{variant_id}").input(sku)
    at.number_input(key=f"bundle_quantity_{variant_id}").set_value(quantity)
    return at.button[[b.label for b in at.button].index("Add component")].click().run()


def open_bundle(app_as: AppAs, db: SeededDatabase, role: str = "editor") -> tuple[AppTest, int]:
    at = open_editor(app_as, role, product_id_of(db, BUNDLE_PRODUCT_HANDLE))
    engine = db.engine()
    with transaction(engine) as session:
        variant_id = session.scalar(sa.select(ProductVariant.id).where(ProductVariant.sku == BUNDLE_SKU))
    engine.dispose()
    assert variant_id is not None
    at.selectbox(key="bundle_variant").select(variant_id).run()
    return at, variant_id


def test_an_editor_makes_a_variant_a_bundle_and_sees_what_limits_it(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at, variant_id = open_bundle(app_as, seeded_db)
    assert "is a plain variant" in texts(at)
    add_component(at, variant_id, "ks-tee00001-black-m", 1)  # 3 on hand
    add_component(at, variant_id, "KS-TEE00001-BLACK-L", 2)  # 23 on hand: 11 bundles
    add_component(at, variant_id, "KS-TEE00001-BLACK-S", 1)
    at.button(key=f"bundle_remove_{variant_id}_2").click().run()  # changed my mind: not the S
    at.button(key=f"bundle_save_{variant_id}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sorted(saved_components(seeded_db, BUNDLE_SKU)) == [("KS-TEE00001-BLACK-L", 2), ("KS-TEE00001-BLACK-M", 1)]
    shown = texts(at).replace("\\", "")
    assert "Available as a bundle: **3** (limited by KS-TEE00001-BLACK-M)" in shown, shown
    # The bundle's own On hand is explained, and not saved.
    assert f"Bundle {BUNDLE_SKU}: no stock of its own" in shown
    # The Products page marks the product and shows the computed available.
    products = app_as("viewer", "products")
    products.text_input(key="products_search").input(BUNDLE_SKU).run()
    (row,) = products.dataframe(key="products_table").value.to_dict("records")
    assert str(row["title"]).startswith("Bundle · ")
    others = [v for v in product(seeded_db, product_id_of(seeded_db, BUNDLE_PRODUCT_HANDLE)).variants
              if v.sku != BUNDLE_SKU and v.is_active]  # fmt: skip
    assert row["available"] == 3 + sum(v.stock - v.reserved for v in others)


def test_a_bad_component_is_refused_with_its_reason_and_nothing_is_saved(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    at, variant_id = open_bundle(app_as, seeded_db)
    add_component(at, variant_id, "NO-SUCH-SKU", 1)
    at.button(key=f"bundle_save_{variant_id}").click().run()
    assert not at.exception
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert "Not saved" in said and "NO-SUCH-SKU" in said, said
    assert saved_components(seeded_db, BUNDLE_SKU) == []
    # Itself as its own component: refused too.
    at.button(key=f"bundle_remove_{variant_id}_0").click().run()
    add_component(at, variant_id, BUNDLE_SKU, 1)
    at.button(key=f"bundle_save_{variant_id}").click().run()
    assert at.error and saved_components(seeded_db, BUNDLE_SKU) == []


def test_a_viewer_sees_a_bundle_read_only(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    engine = seeded_db.engine()
    with transaction(engine) as session:
        variant_id = session.scalar(sa.select(ProductVariant.id).where(ProductVariant.sku == BUNDLE_SKU))
        assert variant_id is not None
        bundles.set_components(seeded_db.actors[Role.ADMIN], session, variant_id, [("KS-TEE00001-BLACK-L", 2)])
    engine.dispose()
    at, _ = open_bundle(app_as, seeded_db, "viewer")
    assert not at.exception
    assert "Save bundle" not in [b.label for b in at.button]
    assert "Available as a bundle: **11** (limited by KS-TEE00001-BLACK-L)" in texts(at).replace("\\", "")


# --- issue 18 item 4: the preview of unsaved edits, the picker, previous and next ---------------------


def _click(at: AppTest, label: str) -> AppTest:
    return at.button[[b.label for b in at.button].index(label)].click().run()


def test_preview_shows_the_unsaved_edits_per_shop_and_saves_nothing(sqlite_app_as: AppAs) -> None:
    at = open_editor(sqlite_app_as, "editor")
    base = field(at, "base_price").value
    field(at, "base_price").input("12.90")
    _click(at, "Preview these edits")
    assert not at.exception, at.exception
    assert any("what a save would send" in h.value for h in at.subheader)
    frames = [frame.value for frame in at.dataframe if "after" in frame.value]
    mine = frames[0]
    assert ("base price", base, "12.90") in zip(mine["field"], mine["before"], mine["after"], strict=True)
    shops = [label for label in (e.label for e in at.expander) if "API call" in label]
    assert any("Demo Shopee MY" in label for label in shops) and any("Demo TikTok MY" in label for label in shops)
    per_shop = [frame for frame in frames[1:] if ("price", base, "12.90") in
                zip(frame["field"], frame["before"], frame["after"], strict=True)]  # fmt: skip
    assert len(per_shop) >= 2, "each shop says its price goes from the saved one to the entered one"
    # Not saved: the form still holds the entry, the product is unchanged.
    assert field(at, "base_price").value == "12.90"
    assert "version 1" in texts(at)


def test_the_picker_searches_by_sku_and_next_and_previous_move(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = open_editor(sqlite_app_as, "editor", product_id=2)
    assert at.button(key="editor_previous").disabled is False
    _click(at, "Next product")
    assert not at.exception
    assert at.subheader[0].value == product(sqlite_seeded_db, 3).title
    _click(at, "Previous product")
    _click(at, "Previous product")
    assert at.subheader[0].value == product(sqlite_seeded_db, 1).title
    assert at.button(key="editor_previous").disabled, "the first product has no previous one"
    sku = product(sqlite_seeded_db, 7).variants[0].sku
    at.text_input(key="editor_find").input(sku.lower()).run()
    options = at.selectbox(key="editor_pick").options
    assert len(options) == 1 and sku in options[0]
    at.button(key="editor_open").click().run()
    assert at.subheader[0].value == product(sqlite_seeded_db, 7).title


def test_the_preview_tab_shows_the_form_as_it_is_now_and_follows_a_save(sqlite_app_as: AppAs) -> None:
    at = open_editor(sqlite_app_as, "editor")
    base = field(at, "base_price").value
    field(at, "base_price").input("12.90").run()  # typed, not saved; then the Preview sync tab's button
    at.button(key="editor_preview_button").click().run()
    assert not at.exception, at.exception

    def prices(at: AppTest) -> set[tuple[str, str]]:
        return {(before, after) for frame in at.dataframe if "after" in frame.value
                for name, before, after in zip(frame.value["field"], frame.value["before"], frame.value["after"],
                                               strict=True) if name == "price"}  # fmt: skip

    assert (base, "12.90") in prices(at)
    field(at, "base_price").input("13.50").run()  # the preview follows the form
    assert (base, "13.50") in prices(at) and (base, "12.90") not in prices(at)
    _click(at, "Save")
    assert "version 2" in texts(at)
    assert "No edits yet: this is what the saved product would send." in texts(at)
