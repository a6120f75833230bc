# The catalog CSV's bundle column: export writes it, both imports set it through the bundles module, errors by line.
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from syncstore.catalog.csv_format import export_csv, format_bundle, parse_bundle
from syncstore.catalog.csv_update import apply_csv_import, change_rows, preview_csv_import
from syncstore.catalog.importer import import_csv
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, ProductVariant
from syncstore.inventory import bundles
from tests.syncstore.test_importer import EDITOR, counts, csv_text, product


def _components(engine: sa.Engine, sku: str) -> list[tuple[str, int]]:
    with transaction(engine) as session:
        variant_id = session.scalar(sa.select(ProductVariant.id).where(ProductVariant.sku == sku))
        assert variant_id is not None
        return sorted(
            (part.sku, part.quantity) for part in bundles.components(session, [variant_id]).get(variant_id, [])
        )


def _seed(engine: sa.Engine) -> None:
    text = csv_text(product("cup", "CUP-1", title="Cup"), product("saucer", "SAUCER-1", title="Saucer"))
    assert import_csv(EDITOR, engine, io.StringIO(text), strict=True).committed


def test_the_bundle_cell_reads_and_writes() -> None:
    assert parse_bundle("SKU-A*2; SKU-B") == [("SKU-A", 2), ("SKU-B", 1)]
    assert parse_bundle("  ") == []
    assert format_bundle([("SKU-A", 2), ("SKU-B", 1)]) == "SKU-A*2;SKU-B"
    for bad, said in (("SKU-A*0", "at least 1"), ("SKU-A*x", "whole number"), ("*2", "names no SKU"),
                      ("A;a*2", "given twice")):  # fmt: skip
        with pytest.raises(ValueError, match=said):
            parse_bundle(bad)


def test_an_import_makes_bundles_of_catalog_and_file_skus_and_the_export_writes_them(engine: sa.Engine) -> None:
    _seed(engine)
    text = csv_text(
        product("spoon", "SPOON-1", title="Spoon"),
        product("tea-set", "TEA-SET", title="Tea set", bundle="CUP-1*2;saucer-1;SPOON-1*2", stock="99"),
    )
    report = import_csv(EDITOR, engine, io.StringIO(text), strict=True)
    assert report.committed and not report.errors, report.errors
    assert _components(engine, "TEA-SET") == [("CUP-1", 2), ("SAUCER-1", 1), ("SPOON-1", 2)]
    out = io.StringIO()
    with transaction(engine) as session:
        export_csv(session, out)
    rows = {line.split(",")[14]: line for line in out.getvalue().splitlines()[1:]}
    assert out.getvalue().splitlines()[0].endswith(",bundle")
    assert rows["TEA-SET"].endswith(",CUP-1*2;SAUCER-1;SPOON-1*2")
    assert rows["CUP-1"].endswith(",")  # a plain variant: blank


def test_bad_bundle_cells_are_reported_by_line_and_skip_only_their_product(engine: sa.Engine) -> None:
    _seed(engine)
    text = csv_text(
        product("set-a", "SET-A", bundle="CUP-1*2"),  # line 2: fine
        product("set-b", "SET-B", bundle="NOPE-1"),  # line 3: unknown SKU
        product("set-c", "SET-C", bundle="SET-C"),  # line 4: itself
        product("set-d", "SET-D", bundle="SET-A"),  # line 5: a bundle in a bundle
        product("set-e", "SET-E", bundle="CUP-1*none"),  # line 6: not a quantity
    )
    report = import_csv(EDITOR, engine, io.StringIO(text))
    found = {(error.line, error.field) for error in report.errors}
    assert found == {(3, "bundle"), (4, "bundle"), (5, "bundle"), (6, "bundle")}, report.errors
    said = " ".join(str(error) for error in report.errors)
    assert "unknown SKU NOPE-1" in said and "component of itself" in said and "bundles cannot contain" in said
    assert report.committed and sorted(report.skipped_products) == ["set-b", "set-c", "set-d", "set-e"]
    assert _components(engine, "SET-A") == [("CUP-1", 2)]
    before = counts(engine)
    strict = import_csv(EDITOR, engine, io.StringIO(text.replace("set-a,", "set-x,").replace("SET-A", "SET-X")),
                        strict=True)  # fmt: skip
    assert not strict.committed and counts(engine) == before


def test_an_update_import_previews_and_sets_a_bundle_and_a_blank_cell_keeps_it(engine: sa.Engine) -> None:
    _seed(engine)
    assert import_csv(EDITOR, engine, io.StringIO(csv_text(product("pair", "PAIR", bundle="CUP-1")))).committed
    text = csv_text(product("pair", "PAIR", bundle="CUP-1*2;SAUCER-1"))
    with transaction(engine) as session:
        preview = preview_csv_import(session, text)
    assert not preview.errors, preview.errors
    assert {"product": "pair", "field": "SKU PAIR bundle", "old": "CUP-1", "new": "CUP-1*2;SAUCER-1"} in change_rows(
        preview.updates
    )
    apply_csv_import(EDITOR, engine, text)
    assert _components(engine, "PAIR") == [("CUP-1", 2), ("SAUCER-1", 1)]
    # A blank bundle cell leaves the components as they are.
    apply_csv_import(EDITOR, engine, csv_text(product("pair", "PAIR", title="Pair of cups")))
    assert _components(engine, "PAIR") == [("CUP-1", 2), ("SAUCER-1", 1)]
    with transaction(engine) as session:
        title = session.scalar(sa.select(MasterProduct.title).where(MasterProduct.handle == "pair"))
    assert title == "Pair of cups"


def test_an_update_import_refuses_making_a_component_a_bundle(engine: sa.Engine) -> None:
    _seed(engine)
    assert import_csv(EDITOR, engine, io.StringIO(csv_text(product("pair", "PAIR", bundle="CUP-1")))).committed
    with transaction(engine) as session:
        preview = preview_csv_import(session, csv_text(product("cup", "CUP-1", bundle="SAUCER-1")))
    assert [(e.line, e.field) for e in preview.errors] == [(2, "bundle")], preview.errors
    assert "component of another bundle" in preview.errors[0].message
    assert preview.skipped == ["cup"]


def test_a_dash_in_the_bundle_cell_makes_a_bundle_a_plain_variant_again(engine: sa.Engine) -> None:
    _seed(engine)
    assert parse_bundle(" - ") == [] and parse_bundle("-*1") == [("-", 1)]  # "-*1": a SKU named "-"
    assert import_csv(EDITOR, engine, io.StringIO(csv_text(product("pair", "PAIR", bundle="CUP-1*2")))).committed
    text = csv_text(product("pair", "PAIR", bundle="-"))
    with transaction(engine) as session:
        preview = preview_csv_import(session, text)
    assert not preview.errors, preview.errors
    assert {"product": "pair", "field": "SKU PAIR bundle", "old": "CUP-1*2", "new": "-"} in change_rows(preview.updates)
    apply_csv_import(EDITOR, engine, text)
    assert _components(engine, "PAIR") == []
    # A dash on a new product's row is a plain variant, as a blank cell.
    report = import_csv(EDITOR, engine, io.StringIO(csv_text(product("mug", "MUG-9", bundle="-"))), strict=True)
    assert report.committed and not report.errors and _components(engine, "MUG-9") == []
