# The Import and export page: errors by line, strict imports nothing, updates previewed old -> new, export.
from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with
from tests.syncstore.test_importer import csv_text, product

GOOD = product("app-lamp", "APP-LAMP-1", title="Desk lamp")
BAD_PRICE = product("app-chair", "APP-CHAIR-1", title="Chair", base_price="free")
BAD_SKU = product("app-table", "APP TABLE", title="Table")


def handles(db: SeededDatabase, *wanted: str) -> set[str]:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            return set(session.scalars(sa.select(MasterProduct.handle).where(MasterProduct.handle.in_(wanted))))
    finally:
        engine.dispose()


def click(at: AppTest, label: str) -> AppTest:
    return at.button[[b.label for b in at.button].index(label)].click().run()


def upload(at: AppTest, text: str, name: str = "catalog.csv") -> AppTest:
    at.file_uploader(key="csv_upload").set_value((name, text.encode("utf-8"), "text/csv")).run()
    return at


def page_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in (*at.error, *at.warning, *at.info, *at.success, *at.markdown))


def test_strict_import_with_bad_rows_reports_them_by_line_and_imports_nothing(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    at = upload(app_as("editor", "catalog_csv"), csv_text(GOOD, BAD_PRICE, BAD_SKU))
    click(at, "Check the file")
    assert not at.exception, at.exception
    text = page_text(at)
    assert "line 3, base_price" in text
    assert "line 4, sku" in text
    assert "strict mode imports nothing" in text
    assert "Import" not in [b.label for b in at.button]
    assert handles(seeded_db, "app-lamp", "app-chair", "app-table") == set()


def test_a_lenient_import_skips_the_bad_products_and_imports_the_rest(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = upload(sqlite_app_as("editor", "catalog_csv"), csv_text(GOOD, BAD_PRICE))
    at.toggle(key="csv_strict").set_value(False).run()
    click(at, "Check the file")
    assert "would import 1 product (1 variant)" in page_text(at)
    click(at, "Import")
    assert not at.exception, at.exception
    assert "imported 1 product (1 variant)" in page_text(at)
    assert handles(sqlite_seeded_db, "app-lamp", "app-chair") == {"app-lamp"}


def test_updating_existing_products_shows_old_and_new_first(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        first = session.scalars(sa.select(MasterProduct).order_by(MasterProduct.id).limit(1)).one()
        old_title, handle, sku = first.title, first.handle, first.variants[0].sku
        category, price = first.category, str(first.base_price)
    engine.dispose()
    row = {"handle": handle, "title": "Renamed by CSV", "category": category, "base_price": price, "sku": sku}
    at = upload(sqlite_app_as("editor", "catalog_csv"), csv_text(row))
    at.toggle(key="csv_update").set_value(True).run()
    click(at, "Check the file")
    assert not at.exception, at.exception
    changes = frame_with(at, "old")
    assert list(changes["old"]) == [old_title] and list(changes["new"]) == ["Renamed by CSV"]
    click(at, "Import")
    assert "1 updated" in page_text(at)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        assert session.scalar(sa.select(MasterProduct.title).where(MasterProduct.handle == handle)) == "Renamed by CSV"
    engine.dispose()


def test_everyone_can_export_and_a_viewer_cannot_import(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("viewer", "catalog_csv")
    assert not at.exception
    assert not at.file_uploader
    assert "Read only" in " ".join(c.value for c in at.caption)
    click(at, "Prepare the export")
    assert not at.exception, at.exception
    assert any("Download catalog.csv" in str(b.proto.label) for b in at.get("download_button"))
