# CSV import with "update existing products": the preview's old -> new, one transaction, strict and stale refusals.
from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands
from syncstore.catalog.csv_update import ImportNotApplied, apply_csv_import, change_rows, preview_csv_import
from syncstore.catalog.importer import import_csv
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct, ProductVariant
from syncstore.errors import PermissionDenied
from tests.syncstore.test_importer import EDITOR, VIEWER, counts, csv_text, product


def _seed(engine: sa.Engine) -> None:
    text = csv_text(
        product("mug", "MUG-1", title="Blue mug", option1_name="Colour", option1_value="Blue"),
        {"handle": "mug", "sku": "MUG-2", "option1_name": "Colour", "option1_value": "Red", "stock": "2"},
        product("bowl", "BOWL-1", title="Bowl"),
    )
    report = import_csv(EDITOR, engine, io.StringIO(text), strict=True)
    assert report.committed, report.errors


def _variant(engine: sa.Engine, sku: str) -> ProductVariant:
    with transaction(engine) as session:
        variant = session.scalar(sa.select(ProductVariant).where(ProductVariant.sku == sku))
        assert variant is not None
        session.expunge(variant)
        return variant


def _product(engine: sa.Engine, handle: str) -> MasterProduct | None:
    with transaction(engine) as session:
        found = session.scalar(sa.select(MasterProduct).where(MasterProduct.handle == handle))
        if found is not None:
            session.expunge(found)
        return found


UPDATE = csv_text(
    product(
        "mug", "MUG-1", title="Big blue mug", base_price="24.50", stock="9", option1_name="Colour", option1_value="Blue"
    ),
    {"handle": "mug", "sku": "MUG-3", "option1_name": "Colour", "option1_value": "Green", "stock": "4"},
    product("plate", "PLATE-1", title="Plate"),
)


def test_the_preview_shows_old_and_new_and_writes_nothing(engine: sa.Engine) -> None:
    _seed(engine)
    before = counts(engine)
    with transaction(engine) as session:
        preview = preview_csv_import(session, UPDATE, "update.csv")
    assert preview.errors == []
    assert preview.creates == ["plate"]
    assert [u.handle for u in preview.updates] == ["mug"]
    rows = change_rows(preview.updates)
    assert {"product": "mug", "field": "title", "old": "Blue mug", "new": "Big blue mug"} in rows
    assert {"product": "mug", "field": "base_price", "old": "19.90", "new": "24.50"} in rows
    assert {"product": "mug", "field": "SKU MUG-1 stock", "old": "5", "new": "9"} in rows
    assert {"product": "mug", "field": "SKU MUG-3", "old": "", "new": "new variant"} in rows
    assert counts(engine) == before


def test_apply_updates_creates_and_leaves_unmentioned_variants(engine: sa.Engine) -> None:
    _seed(engine)
    with transaction(engine) as session:
        preview = preview_csv_import(session, UPDATE, "update.csv")
    done = apply_csv_import(EDITOR, engine, UPDATE, source="update.csv", expected_versions=preview.versions)
    assert len(done.updates) == 1 and done.creates == ["plate"]
    mug = _product(engine, "mug")
    assert mug is not None and mug.title == "Big blue mug" and mug.base_price == Decimal("24.50")
    assert _variant(engine, "MUG-1").stock == 9
    assert _variant(engine, "MUG-2").stock == 2  # not in the file: left as it was
    assert _variant(engine, "MUG-3").attributes == {"Colour": "Green"}
    assert _product(engine, "plate") is not None
    with transaction(engine) as session:
        actions = session.scalars(sa.select(AuditLog.action)).all()
    assert "catalog.import" in actions and "product.update" in actions


def test_strict_mode_with_a_bad_row_imports_nothing(engine: sa.Engine) -> None:
    _seed(engine)
    bad = UPDATE + "bowl,Bowl,,Kitchen,,abc,,,,,,,,,BOWL-1,,,,,,,,,\n"
    with transaction(engine) as session:
        preview = preview_csv_import(session, bad, "bad.csv")
    assert [(e.line, e.field) for e in preview.errors] == [(5, "base_price")]
    before = counts(engine)
    with pytest.raises(ImportNotApplied, match="nothing was imported"):
        apply_csv_import(EDITOR, engine, bad, source="bad.csv", strict=True)
    assert counts(engine) == before
    assert _product(engine, "plate") is None
    # Not strict: the bad product is skipped, the rest applied.
    done = apply_csv_import(EDITOR, engine, bad, source="bad.csv", strict=False)
    assert done.skipped == ["bowl"] and _product(engine, "plate") is not None


def test_a_sku_of_another_product_is_an_error_on_its_line(engine: sa.Engine) -> None:
    _seed(engine)
    text = csv_text(product("mug", "BOWL-1", title="Blue mug"))
    with transaction(engine) as session:
        preview = preview_csv_import(session, text, "steal.csv")
    assert [(e.line, e.field) for e in preview.errors] == [(2, "sku")]
    assert "belongs to product bowl" in preview.errors[0].message
    assert preview.skipped == ["mug"]


def test_a_product_changed_since_the_preview_is_not_overwritten(engine: sa.Engine) -> None:
    _seed(engine)
    with transaction(engine) as session:
        preview = preview_csv_import(session, UPDATE, "update.csv")
        mug = session.scalar(sa.select(MasterProduct).where(MasterProduct.handle == "mug"))
        assert mug is not None
        commands.update_product(EDITOR, session, mug.id, expected_version=mug.version, changes={"brand": "Other"})
    with pytest.raises(ImportNotApplied, match="changed since the preview"):
        apply_csv_import(EDITOR, engine, UPDATE, expected_versions=preview.versions)
    assert _product(engine, "plate") is None
    with pytest.raises(PermissionDenied):
        apply_csv_import(VIEWER, engine, UPDATE)
