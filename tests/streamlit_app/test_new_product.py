# The New product page: an editor creates a product with variants from options; errors per field; viewers cannot.
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from streamlit_app.product_form import Option, product_input, variant_rows
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct
from tests.streamlit_app.conftest import AppAs, SeededDatabase


def widget(at: AppTest, key: str):  # type: ignore[no-untyped-def]
    for element in (*at.text_input, *at.text_area, *at.selectbox, *at.number_input):
        if element.key == key:
            return element
    raise AssertionError(f"no widget {key}")


def click(at: AppTest, label: str) -> None:
    at.button[[b.label for b in at.button].index(label)].click().run()


def product_by_title(db: SeededDatabase, title: str) -> MasterProduct | None:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            product = session.scalar(sa.select(MasterProduct).where(MasterProduct.title == title))
            if product is not None:
                _ = list(product.variants)
            return product
    finally:
        engine.dispose()


def test_variants_are_the_combinations_of_the_options() -> None:
    rows = variant_rows([Option("Colour", ("Red", "Blue")), Option("Size", ("S", "M"))], sku_prefix="tee 1", stock=3)
    assert [row["sku"] for row in rows] == ["TEE-1-RED-S", "TEE-1-RED-M", "TEE-1-BLUE-S", "TEE-1-BLUE-M"]
    assert rows[0] == {"option:Colour": "Red", "option:Size": "S", "sku": "TEE-1-RED-S", "price": "", "stock": 3}
    images = ["https://x.example/a.jpg"]
    data = product_input({"title": " Tee ", "base_price": "10"}, rows[:1], images, ["Colour", "Size"])
    assert data["title"] == "Tee"
    assert data["variants"] == [
        {"sku": "TEE-1-RED-S", "name": "Red / S", "attributes": {"Colour": "Red", "Size": "S"}, "stock": 3}
    ]
    assert variant_rows([], sku_prefix="", stock=0) == [{"sku": "SKU", "price": "", "stock": 0}]
    assert Option.parse("Colour", " , ") is None


def test_an_editor_creates_a_product_with_two_variants(sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase) -> None:
    at = sqlite_app_as("editor", "new_product")
    assert not at.exception, at.exception
    widget(at, "new_title").input("Linen shirt for the summer")
    widget(at, "new_description").input("Light linen.")
    widget(at, "new_category_choice").select("New category…").run()
    widget(at, "new_category_name").input("Shirts")
    widget(at, "new_brand").input("Acme")
    widget(at, "new_base_price").input("59.90")
    widget(at, "new_weight_kg").input("0.3")
    widget(at, "new_option1_name").input("Colour")
    widget(at, "new_option1_values").input("White, Sand")
    widget(at, "new_sku_prefix").input("LINEN")
    widget(at, "new_default_stock").set_value(7)
    widget(at, "new_image_urls").input("https://images.example/linen.jpg")
    at.run()
    click(at, "Create product")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Created" in s.value for s in at.success)
    # The form is empty again for the next product.
    assert widget(at, "new_title").value == "" and widget(at, "new_base_price").value == ""
    assert widget(at, "new_option1_values").value == "" and widget(at, "new_image_urls").value == ""
    product = product_by_title(sqlite_seeded_db, "Linen shirt for the summer")
    assert product is not None
    assert product.category == "Shirts" and product.brand == "Acme" and product.base_price == Decimal("59.90")
    assert sorted(v.sku for v in product.variants) == ["LINEN-SAND", "LINEN-WHITE"]
    assert {v.stock for v in product.variants} == {7}
    assert product.images == ["https://images.example/linen.jpg"]
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        assert session.scalar(sa.select(AuditLog).where(AuditLog.action == "product.create")) is not None
    engine.dispose()


def test_a_bad_product_shows_each_problem_and_creates_nothing(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = sqlite_app_as("editor", "new_product")
    widget(at, "new_title").input("Broken product")
    widget(at, "new_base_price").input("-5")
    widget(at, "new_sku_prefix").input("BROKEN")
    at.run()
    click(at, "Create product")
    assert not at.exception
    messages = " ".join(e.value for e in at.error)
    assert "Not created" in messages
    assert "category" in messages.lower() or "required" in messages.lower()
    assert product_by_title(sqlite_seeded_db, "Broken product") is None


def test_a_viewer_cannot_open_the_page(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("viewer")
    from streamlit_app import app as app_module

    titles = [page.title for page in app_module.visible_pages(at.session_state["actor"])]
    assert "New product" not in titles
    assert "Import and export" in titles


def test_an_uploaded_image_is_stored_once_and_shown_as_a_thumbnail(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    import io

    from PIL import Image

    from tests.streamlit_app.conftest import frame_with

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buffer, format="PNG")
    at = sqlite_app_as("editor", "new_product")
    widget(at, "new_title").input("Red poster with an uploaded image")
    widget(at, "new_category_choice").select("New category…").run()
    widget(at, "new_category_name").input("Posters")
    widget(at, "new_base_price").input("15.00")
    widget(at, "new_sku_prefix").input("POSTER")
    at.file_uploader(key="new_image_files").set_value(("poster.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception, at.exception
    click(at, "Create product")
    assert not at.exception, at.exception
    product = product_by_title(sqlite_seeded_db, "Red poster with an uploaded image")
    assert product is not None and len(product.images) == 1 and product.images[0].startswith("media:")
    products = sqlite_app_as("viewer", "products")
    products.text_input(key="products_search").input("Red poster").run()
    thumbnail = frame_with(products, "image")["image"][0]
    assert thumbnail.startswith("data:image/") and len(thumbnail) < 40_000
