# The sync preview of an unsaved product edit (syncstore.plan.edit_preview): old -> new per shop, nothing written.
from __future__ import annotations

from decimal import Decimal

from syncstore.catalog import reads as catalog_reads
from syncstore.db.engine import transaction
from syncstore.plan.edit_preview import FieldChange, preview_edit
from tests.streamlit_app.conftest import SeededDatabase

LISTED = 1  # bound to both seeded shops, in sync


def test_an_unsaved_price_and_title_show_old_and_new_per_shop(sqlite_seeded_db: SeededDatabase) -> None:
    engine = sqlite_seeded_db.engine()
    try:
        with transaction(engine) as session:
            product = catalog_reads.get_product(session, LISTED)
            title, base, version = product.title, product.base_price, product.version
            skus = [v.sku for v in product.variants if v.price is None]
        saved = preview_edit(engine, LISTED)
        assert [shop.in_sync for shop in saved.shops] == [True, True], "the seeded listings are in sync"
        preview = preview_edit(
            engine, LISTED, {"base_price": "12.90", "title": "A longer new title for the preview test"}
        )
        assert FieldChange("base price", f"{base:.2f}", "12.90") in preview.master
        assert {shop.shop_name for shop in preview.shops} == {"Demo Shopee MY", "Demo TikTok MY"}
        for shop in preview.shops:
            assert FieldChange("title", title, "A longer new title for the preview test") in shop.lines
            assert FieldChange("price", f"{base:.2f}", "12.90", skus[0]) in shop.lines
            assert shop.api_calls >= 2 and not shop.issues
        with transaction(engine) as session:
            again = catalog_reads.get_product(session, LISTED)
            assert (again.title, again.base_price, again.version) == (title, base, version), "nothing saved"
    finally:
        engine.dispose()


def test_a_stock_edit_and_a_bad_price_are_previewed_honestly(sqlite_seeded_db: SeededDatabase) -> None:
    engine = sqlite_seeded_db.engine()
    try:
        with transaction(engine) as session:
            variant = catalog_reads.get_product(session, LISTED).variants[0]
            variant_id, sku, stock, reserved = variant.id, variant.sku, variant.stock, variant.reserved
        preview = preview_edit(engine, LISTED, {"base_price": "abc", "variants": [
            {"id": variant_id, "stock": stock + 7}, {"sku": "BRAND-NEW", "name": "New"}]})  # fmt: skip
        assert FieldChange("on hand", str(stock), str(stock + 7), sku) in preview.master
        for shop in preview.shops:
            assert FieldChange("stock", str(stock - reserved), str(stock - reserved + 7), sku) in shop.lines
            assert not any(line.field == "price" for line in shop.lines)
        assert any("not a price" in note for note in preview.ignored)
        assert any("BRAND-NEW" in note for note in preview.ignored)
    finally:
        engine.dispose()


def test_an_unlisted_product_would_be_created_with_its_prices(sqlite_seeded_db: SeededDatabase) -> None:
    engine = sqlite_seeded_db.engine()
    try:
        preview = preview_edit(engine, 10, {"base_price": Decimal("55.00")})
        for shop in preview.shops:
            assert any(action == "create" for action, _ in shop.actions)
            assert any(line.field == "price" and line.after == "55.00" and line.before == "" for line in shop.lines)
    finally:
        engine.dispose()
