# Archive, restore and delete in the Product editor: explained per shop, confirmed, then done through syncstore.
from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct
from tests.streamlit_app.conftest import AppAs, SeededDatabase

LISTED = 1  # bound to both shops by the conftest


def status(db: SeededDatabase, product_id: int = LISTED) -> str:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            return str(session.scalar(sa.select(MasterProduct.status).where(MasterProduct.id == product_id)))
    finally:
        engine.dispose()


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return at.button[[b.label for b in at.button].index(label)]


def open_editor(app_as: AppAs, role: str) -> AppTest:
    return app_as(role, "product_editor", query_params={"product": str(LISTED)})


def test_archive_is_explained_per_shop_and_needs_a_confirmation(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    at = open_editor(app_as, "editor")
    assert not at.exception, at.exception
    shops = [m.value for m in at.markdown if "at the next sync" in m.value]
    assert any("Demo Shopee MY" in s and "deactivated (unlisted)" in s for s in shops)
    assert any("Demo TikTok MY" in s for s in shops)
    assert button(at, "Archive").disabled
    at.checkbox(key="editor_archive_sure").check().run()
    button(at, "Archive").click().run()
    assert not at.exception, at.exception
    assert status(seeded_db) == "inactive"
    button(at, "Restore (set active)").click().run()
    assert status(seeded_db) == "active"


def test_delete_needs_the_handle_typed(sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase) -> None:
    at = open_editor(sqlite_app_as, "editor")
    assert button(at, "Delete product").disabled
    at.text_input(key="editor_delete_confirm").input("not-the-handle").run()
    assert button(at, "Delete product").disabled
    handle = next(c.value for c in at.caption if "#1 ·" in c.value).split(" · ")[1].replace("\\", "")
    at.text_input(key="editor_delete_confirm").input(handle).run()
    button(at, "Delete product").click().run()
    assert not at.exception, at.exception
    assert status(sqlite_seeded_db) == "deleted"


def test_a_viewer_gets_no_archive_or_delete(sqlite_app_as: AppAs) -> None:
    at = open_editor(sqlite_app_as, "viewer")
    labels = [b.label for b in at.button]
    assert "Archive" not in labels and "Delete product" not in labels
