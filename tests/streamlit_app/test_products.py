# The Products page: filters and pagination in SQL, listing status per shop, bulk actions by role.
from __future__ import annotations

from typing import Any, cast

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing
from tests.streamlit_app.conftest import AppAs, SeededDatabase


def rows(at: AppTest) -> list[dict[str, Any]]:
    if not at.dataframe:
        return []
    return cast(list[dict[str, Any]], at.dataframe(key="products_table").value.to_dict("records"))


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def select_rows(at: AppTest, *indexes: int) -> AppTest:
    at.session_state["products_table"] = {"selection": {"rows": list(indexes), "columns": [], "cells": []}}
    return at.run()


def test_one_page_of_the_catalog_with_status_per_platform(app_as: AppAs) -> None:
    at = app_as("viewer", "products")
    assert not at.exception
    assert at.title[0].value == "Products"
    page = rows(at)
    assert len(page) == 50  # one page of the 254 sample products, not the whole catalog
    assert "254 products · page 1 of 6" in captions(at)
    assert {"title", "price", "available", "channels", "last synced", "image"} <= set(page[0])
    assert all(str(row["image"]).startswith("https://") for row in page)
    assert all(list(row["channels"]) == ["not listed"] for row in page)

    at.selectbox(key="products_sync").select("synced").run()
    synced = rows(at)
    assert len(synced) == 4  # five products are listed; the fifth failed on both shops
    assert all(list(row["channels"]) == ["Demo Shopee MY: synced", "Demo TikTok MY: synced"] for row in synced)
    assert all("UTC" in str(row["last synced"]) for row in synced)

    at.selectbox(key="products_sync").select("failed").run()
    assert [list(row["channels"]) for row in rows(at)] == [["Demo Shopee MY: failed", "Demo TikTok MY: failed"]]


def test_filters_combine_and_pages_move(app_as: AppAs) -> None:
    at = app_as("editor", "products")
    at.pagination(key="products_page").select(6).run()
    assert "page 6 of 6" in captions(at) and len(rows(at)) == 4

    at.selectbox(key="products_platform").select("shopee").run()
    assert "5 products · page 1 of 1" in captions(at)  # new filters start at page 1
    at.selectbox(key="products_platform").select("All").run()

    at.selectbox(key="products_category").select("Fashion > T-Shirts").run()
    assert rows(at) and all(row["category"] == "Fashion > T-Shirts" for row in rows(at))
    at.number_input(key="products_min_price").set_value(60.0)
    at.number_input(key="products_max_price").set_value(70.0).run()
    prices = [float(str(row["price"]).split()[-1]) for row in rows(at)]
    assert prices and all(60 <= price <= 70 for price in prices)

    at.text_input(key="products_search").input("no product is called this").run()
    assert not at.exception
    assert "No product matches these filters." in [info.value for info in at.info]


def test_search_finds_a_product_by_sku(app_as: AppAs) -> None:
    at = app_as("viewer", "products")
    at.text_input(key="products_search").input("ks-tee00001-black-m").run()
    found = rows(at)
    assert [row["handle"] for row in found] == ["kain-studio-heavyweight-boxy-tee"]


def test_a_viewer_may_only_open_the_editor_from_a_selection(app_as: AppAs) -> None:
    at = select_rows(app_as("viewer", "products"), 0, 1)
    labels = [button.label for button in at.button]
    assert "Bulk edit" not in labels and "Sync now" not in labels
    at = select_rows(at, 0)
    assert "Open in editor" in [button.label for button in at.button]


def test_an_editor_selects_products_for_bulk_edit(app_as: AppAs) -> None:
    at = select_rows(app_as("editor", "products"), 0, 2)
    assert "2 selected" in " ".join(m.value for m in at.markdown)
    chosen = [rows(at)[0]["id"], rows(at)[2]["id"]]
    at.button(key="to_bulk").click().run()
    assert not at.exception
    assert at.session_state["bulk_product_ids"] == chosen
    assert at.title[0].value == "Bulk edit"


def test_open_in_editor_carries_the_product(app_as: AppAs) -> None:
    at = select_rows(app_as("viewer", "products"), 0)
    product_id = rows(at)[0]["id"]
    at.button(key="products_open").click().run()
    assert not at.exception
    assert at.session_state["product_id"] == product_id
    assert at.query_params.get("product") == str(product_id)
    assert at.title[0].value == "Product editor"


# --- issue 18 items 5 and 6: truthful channel status, found by the filter, coloured per shop --------------


def _set_status(db: SeededDatabase, product_id: int, platform: str, status: str) -> None:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            session.execute(
                sa.update(PlatformListing)
                .where(PlatformListing.product_id == product_id, PlatformListing.platform == platform)
                .values(sync_status=status)
            )
    finally:
        engine.dispose()


def test_pending_and_in_review_listings_are_shown_and_found(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    _set_status(sqlite_seeded_db, 2, "tiktokshop", "in_review")
    _set_status(sqlite_seeded_db, 3, "shopee", "pending")
    at = sqlite_app_as("viewer", "products")
    at.selectbox(key="products_sync").select("in_review").run()
    assert not at.exception
    assert [list(row["channels"]) for row in rows(at)] == [["Demo Shopee MY: synced", "Demo TikTok MY: in review"]]
    assert "1 product · page 1 of 1" in captions(at)
    at.selectbox(key="products_sync").select("pending").run()
    assert [list(row["channels"]) for row in rows(at)] == [["Demo Shopee MY: pending", "Demo TikTok MY: synced"]]
    at.selectbox(key="products_sync").select("not_listed").run()
    assert "249 products" in captions(at)
    # The failed and in-review listings of the page are counted.
    at.selectbox(key="products_sync").select("All").run()
    at.selectbox(key="products_platform").select("tiktokshop").run()
    labels = [e.label for e in at.expander]
    assert "Listings on this page: 2 failed and 1 in review" in labels


def test_the_table_shows_few_narrow_columns_with_coloured_status(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("viewer", "products")
    at.selectbox(key="products_platform").select("shopee").run()  # the five listed products: synced and failed
    table = at.dataframe(key="products_table")
    config = table.proto.columns  # the column configuration as sent to the browser (JSON)
    assert '"multiselect"' in config and '"red"' in config and '"green"' in config, "status pills are coloured"
    assert "🟢" not in config and "🔴" not in str(rows(at)), "no emoji for status"
    assert list(table.proto.column_order) == ["image", "title", "price", "available", "channels", "last synced"]


def test_products_and_the_editor_preview_read_in_bahasa_malaysia(
    sqlite_app_as: AppAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit_app import i18n

    monkeypatch.setattr(i18n, "_session_value", lambda key: "ms" if key == i18n.LANGUAGE_KEY else None)
    at = sqlite_app_as("viewer", "products")
    assert not at.exception, at.exception
    at.selectbox(key="products_platform").select("shopee").run()
    assert "5 produk · halaman 1 daripada 1 · ditapis" in captions(at)
    cells = [tuple(row["channels"]) for row in rows(at)]
    assert ("Demo Shopee MY: gagal", "Demo TikTok MY: gagal") in cells
    assert ("Demo Shopee MY: disegerakkan", "Demo TikTok MY: disegerakkan") in cells
    assert i18n.t("failed") != "failed"
    editor = sqlite_app_as("editor", "product_editor", query_params={"product": "1"})
    editor.button(key="editor_preview_button").click().run()
    assert not editor.exception, editor.exception
    assert "Pratonton penyegerakan" in [button.label for button in editor.button]
    assert any("perubahan" in label and "panggilan API" in label for label in (e.label for e in editor.expander))
