# Catalog CSV import and export on SQLite and PostgreSQL: what a merchant sees in the report and catalog.
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from syncstore.catalog import csv_format as catalog_csv
from syncstore.catalog import importer
from syncstore.catalog.csv_format import CSV_COLUMNS, export_csv
from syncstore.catalog.importer import ImportReport, import_csv
from syncstore.data import sample_catalog_path
from syncstore.data.generate_sample import render, synthetic_rows
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, InventoryHistory, MasterProduct, OutboxEvent, ProductVariant
from syncstore.errors import PermissionDenied
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@shop.example", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@shop.example", role=Role.VIEWER)


def csv_text(*rows: dict[str, str], columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    lines = [",".join(columns)]
    for row in rows:
        assert set(row) <= set(columns), set(row) - set(columns)
        lines.append(",".join(_cell(row.get(column, "")) for column in columns))
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def product(handle: str, sku: str, **cells: str) -> dict[str, str]:
    """A valid first row of a product; `cells` override or add columns."""
    row = {
        "handle": handle,
        "title": f"Title of {handle}",
        "category": "Home & Living > Kitchen",
        "base_price": "19.90",
        "sku": sku,
        "stock": "5",
    }
    row.update(cells)
    return row


def counts(engine: sa.Engine) -> dict[str, int]:
    tables = {
        "products": MasterProduct,
        "variants": ProductVariant,
        "ledger": InventoryHistory,
        "outbox": OutboxEvent,
        "audit": AuditLog,
    }
    with engine.connect() as conn:
        return {name: conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0 for name, model in tables.items()}


def catalog(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every product and its variants as plain data, without ids or timestamps, ordered by handle/SKU."""
    with Session(engine) as session:
        products = session.scalars(
            sa.select(MasterProduct).options(selectinload(MasterProduct.variants)).order_by(MasterProduct.handle)
        ).all()
        return [
            {
                **{field: getattr(p, field) for field in CSV_COLUMNS[:14]},
                "variants": sorted(
                    (
                        {
                            "sku": v.sku,
                            "name": v.name,
                            "price": v.price,
                            "stock": v.stock,
                            "attributes": v.attributes,
                            "barcode": v.barcode,
                            "image_url": v.image_url,
                        }
                        for v in p.variants
                    ),
                    key=lambda v: v["sku"],
                ),
            }
            for p in products
        ]


def wipe_catalog(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for model in (InventoryHistory, OutboxEvent, AuditLog, ProductVariant, MasterProduct):
            conn.execute(sa.delete(model))


def where(report: ImportReport) -> set[tuple[int, str]]:
    return {(error.line, error.field) for error in report.errors}


# --- a file with bad rows ---------------------------------------------------------------------

EXISTING = csv_text(product("existing-tee", "EXIST-1", title="Existing Tee"))

# Line numbers as a spreadsheet shows them (header = line 1).
BAD_FILE = csv_text(
    product("good-mug", "MUG-1", option1_name="Colour", option1_value="Ivory"),  # 2
    {"handle": "good-mug", "sku": "MUG-2", "option1_name": "Colour", "option1_value": "Sage",
     "variant_price": "21.90", "stock": "0"},  # 3
    product("zero-price", "ZERO-1", base_price="0"),  # 4: price 0
    product("three-decimals", "DEC-1", variant_price="1.234"),  # 5: 3 decimals
    product("negative-stock", "NEG-1", stock="-3"),  # 6: negative stock
    product("repeats-a-sku", "mug-1"),  # 7: SKU of line 2 (case-insensitive)
    product("clashes", "exist-1"),  # 8: SKU already in the catalog
    product("no-title", "NOTITLE-1", title=""),  # 9: title missing
    product("half-box", "BOX-1", length_cm="20", width_cm="10"),  # 10: dimensions partly given
    product("bad-image", "IMG-1", images="images.example.com/lamp.jpg"),  # 11: not a URL
    product("two-rows", "TWO-1", title="Rattan Basket"),  # 12
    {"handle": "two-rows", "sku": "TWO-2", "title": "Rattan Basket Large"},  # 13: disagrees with line 12
    product("good-lamp", "LAMP-1", status="inactive", currency="sgd", base_price="120",
            length_cm="30", width_cm="30", height_cm="45.5"),  # 14
    product("existing-tee", "EXIST-2"),  # 15: handle already in the catalog
)  # fmt: skip
BAD_PRODUCTS = [
    "zero-price", "three-decimals", "negative-stock", "repeats-a-sku", "clashes", "no-title",
    "half-box", "bad-image", "two-rows", "existing-tee",
]  # fmt: skip


def test_every_bad_row_is_reported_by_line_and_column_and_good_products_import(engine: sa.Engine) -> None:
    assert import_csv(EDITOR, engine, io.StringIO(EXISTING)).committed
    before = counts(engine)

    report = import_csv(EDITOR, engine, io.StringIO(BAD_FILE))

    found = where(report)
    expected = {
        (4, "base_price"),
        (5, "variant_price"),
        (6, "stock"),
        (7, "sku"),
        (8, "sku"),
        (9, "title"),
        (11, "images"),
        (13, "title"),
        (15, "handle"),
    }
    assert expected <= found
    assert any(line == 10 and field in {"length_cm", "width_cm", "height_cm"} for line, field in found)
    assert {line for line, _ in found} == {4, 5, 6, 7, 8, 9, 10, 11, 13, 15}, "good rows have no error"
    messages = {(e.line, e.field): e.message for e in report.errors}
    assert "1.234" in messages[(5, "variant_price")]
    assert "line 2" in messages[(7, "sku")]
    assert "EXIST-1" in messages[(8, "sku")] and "existing-tee" in messages[(8, "sku")]
    assert "line 12" in messages[(13, "title")]
    assert [e.line for e in report.errors] == sorted(e.line for e in report.errors)

    assert sorted(report.skipped_products) == sorted(BAD_PRODUCTS)
    assert report.committed and not report.strict
    assert (report.rows, report.products_created, report.variants_created) == (14, 2, 3)
    after = counts(engine)
    assert after["products"] - before["products"] == 2
    assert after["variants"] - before["variants"] == 3
    with engine.connect() as conn:
        handles = set(conn.scalars(sa.select(MasterProduct.handle)))
        lamp = conn.execute(
            sa.select(MasterProduct.status, MasterProduct.currency, MasterProduct.height_cm).where(
                MasterProduct.handle == "good-lamp"
            )
        ).one()
        existing_skus = set(conn.scalars(sa.select(ProductVariant.sku)))
    assert handles == {"existing-tee", "good-mug", "good-lamp"}
    assert tuple(lamp) == ("inactive", "SGD", pytest.approx(45.5))
    # The clash did not touch the existing product's SKU.
    assert existing_skus == {"EXIST-1", "MUG-1", "MUG-2", "LAMP-1"}


def test_strict_import_with_any_error_writes_nothing(engine: sa.Engine) -> None:
    assert import_csv(EDITOR, engine, io.StringIO(EXISTING)).committed
    before = counts(engine)
    calls: list[tuple[int, int]] = []

    report = import_csv(EDITOR, engine, io.StringIO(BAD_FILE), strict=True, progress=lambda *a: calls.append(a))

    assert report.strict and not report.committed
    assert (report.products_created, report.variants_created) == (0, 0)
    assert {line for line, _ in where(report)} == {4, 5, 6, 7, 8, 9, 10, 11, 13, 15}
    assert counts(engine) == before
    assert "nothing" in report.summary()


def test_a_clean_file_imports_the_same_in_strict_mode(engine: sa.Engine) -> None:
    text = csv_text(product("a", "A-1"), product("b", "B-1"), {"handle": "a", "sku": "A-2"})
    report = import_csv(EDITOR, engine, io.StringIO(text), strict=True)
    assert report.ok and report.committed
    assert (report.products_created, report.variants_created) == (2, 3)


def test_dry_run_reports_but_writes_nothing(engine: sa.Engine) -> None:
    assert import_csv(EDITOR, engine, io.StringIO(EXISTING)).committed
    before = counts(engine)
    report = import_csv(EDITOR, engine, io.StringIO(BAD_FILE), dry_run=True)
    assert report.dry_run and not report.committed
    assert (report.products_created, report.variants_created) == (2, 3)  # would be imported
    assert {line for line, _ in where(report)} == {4, 5, 6, 7, 8, 9, 10, 11, 13, 15}
    assert counts(engine) == before


# --- product rows: inheritance, agreement, options ---------------------------------------------


def test_later_rows_inherit_or_repeat_product_columns_and_need_not_be_adjacent(engine: sa.Engine) -> None:
    text = csv_text(
        product("tee", "TEE-S", weight_kg="0.2", tags="cotton|unisex", option1_name="Size", option1_value="S",
                images="https://img.example/tee/1.jpg|https://img.example/tee/2.jpg"),
        product("cap", "CAP-1"),
        # Repeats the product columns, written differently but meaning the same thing.
        {"handle": "tee", "sku": "TEE-M", "title": "Title of tee", "base_price": "19.9", "weight_kg": "0.200",
         "tags": "cotton | unisex", "option1_name": "Size", "option1_value": "M"},
        {"handle": "tee", "sku": "TEE-L", "option1_name": "Size", "option1_value": "L", "variant_price": "22"},
    )  # fmt: skip
    report = import_csv(EDITOR, engine, io.StringIO(text))
    assert report.ok, report.errors
    tee = next(p for p in catalog(engine) if p["handle"] == "tee")
    assert [v["sku"] for v in tee["variants"]] == ["TEE-L", "TEE-M", "TEE-S"]
    assert [v["name"] for v in tee["variants"]] == ["L", "M", "S"]
    assert tee["variants"][0]["attributes"] == {"Size": "L"}
    assert str(tee["variants"][0]["price"]) == "22.00"
    assert tee["variants"][1]["price"] is None
    assert tee["tags"] == ["cotton", "unisex"]
    assert len(tee["images"]) == 2


def test_option_and_structure_problems_are_reported(engine: sa.Engine) -> None:
    text = (
        csv_text(
            product("a", "A-1", option1_name="Colour"),  # 2: name without value
            product("b", "B-1", option2_value="XL"),  # 3: value without name
            product("c", "C-1", option1_name="Size", option1_value="S", option2_name="size", option2_value="M"),  # 4
            {"handle": "", "sku": "LOST-1"},  # 5: no handle
        )
        + "d,Title,,Cat,,10.00,,,,,,,,,D-1,,,,,,,1,,,,surplus\n"
    )  # 6: a comma too many
    report = import_csv(EDITOR, engine, io.StringIO(text))
    assert where(report) == {
        (2, "option1_value"),
        (3, "option2_name"),
        (4, "option2_name"),
        (5, "handle"),
        (6, "file"),
    }
    assert sorted(report.skipped_products) == ["a", "b", "c", "d"]
    assert counts(engine)["products"] == 0


def test_a_sku_and_handle_already_in_the_catalog_are_never_overwritten(engine: sa.Engine) -> None:
    assert import_csv(EDITOR, engine, io.StringIO(csv_text(product("mug", "MUG-1", title="Old")))).committed
    again = import_csv(EDITOR, engine, io.StringIO(csv_text(product("mug", "MUG-1", title="New"))))
    assert where(again) == {(2, "handle"), (2, "sku")}
    assert [p["title"] for p in catalog(engine)] == ["Old"]


# --- files that cannot be read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "field", "words"),
    [
        (b"", 1, "file", "empty"),
        (b"\xef\xbb\xbf\r\n", 1, "file", "empty"),
        (",".join(CSV_COLUMNS).encode(), 2, "file", "no product rows"),
        (b"handle,title,cat,base_price,sku,colour\n", 1, "header", "missing column category"),
        (b"handle;title;category;base_price;sku\n", 1, "header", "semicolons"),
        ("handle,title,category,base_price,sku\nh,Caf\xe9,C,1.00,S\n".encode("latin-1"), 2, "file", "UTF-8"),
        (b"handle,title,category,base_price,sku\nh,T\x00,C,1.00,S\n", 2, "file", "NUL"),
        (b"handle,title,category,base_price,sku\nh," + b"x" * 140_000 + b",C,1.00,S\n", 2, "file", "CSV"),
        ("handle,title\n".encode("utf-16"), 0, "file", "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", 0, "file", "xlsx"),
    ],
    ids=[
        "empty",
        "bom-only",
        "header-only",
        "columns",
        "semicolons",
        "latin-1",
        "nul-byte",
        "huge-cell",
        "utf-16",
        "xlsx",
    ],
)
def test_unreadable_files_get_one_clear_error(
    engine: sa.Engine, tmp_path: Path, content: bytes, line: int, field: str, words: str
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(content)
    report = import_csv(EDITOR, engine, path)
    assert len(report.errors) == 1
    error = report.errors[0]
    assert (error.line, error.field) == (line, field)
    assert words in error.message
    assert not report.committed
    assert counts(engine)["products"] == 0


def test_unnamed_empty_columns_from_a_spreadsheet_are_ignored(engine: sa.Engine) -> None:
    text = csv_text(product("a", "A-1"), product("b", "B-1", **{"": "oops"}), columns=(*CSV_COLUMNS, "", ""))
    report = import_csv(EDITOR, engine, io.StringIO(text))
    assert [(e.line, e.field) for e in report.errors] == [(3, "file")]
    assert "no name in the header" in report.errors[0].message
    assert report.skipped_products == ["b"]
    assert [p["handle"] for p in catalog(engine)] == ["a"]


def test_unknown_columns_are_named(engine: sa.Engine) -> None:
    text = csv_text(product("a", "A-1"), columns=(*CSV_COLUMNS, "stok"))
    report = import_csv(EDITOR, engine, io.StringIO(text))
    assert [(e.line, e.field) for e in report.errors] == [(1, "header")]
    assert "unknown column stok" in report.errors[0].message


def test_missing_files_and_folders_are_errors_not_exceptions(engine: sa.Engine, tmp_path: Path) -> None:
    assert "does not exist" in import_csv(EDITOR, engine, tmp_path / "nope.csv").errors[0].message
    assert "folder" in import_csv(EDITOR, engine, tmp_path).errors[0].message


def test_a_utf8_bom_and_crlf_line_ends_from_excel_are_accepted(engine: sa.Engine, tmp_path: Path) -> None:
    text = csv_text(product("kuih", "KUIH-1", title="Kuih Lapis 千层糕 🍰", description='Soft, "layered"\nand sweet'))
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    report = import_csv(EDITOR, engine, path)
    assert report.ok, report.errors
    assert report.source == "excel.csv"
    [kuih] = catalog(engine)
    assert kuih["title"] == "Kuih Lapis 千层糕 🍰"
    assert kuih["description"] == 'Soft, "layered"\r\nand sweet'


# --- round trip -------------------------------------------------------------------------------


TRICKY = csv_text(
    product("tricky", "TRICKY-1", title='Batik "Sarong", hand-drawn', description="Line one,\nline two ☕",
            brand="Kain Studio", currency="SGD", weight_kg="0.25", length_cm="30", width_cm="20.5",
            height_cm="2", tags="batik|gift", status="inactive",
            images="https://img.example/tricky/1.jpg|https://img.example/tricky/2.jpg",
            option1_name="Colour", option1_value="Red", option2_name="Size", option2_value="M",
            variant_price="21.50", barcode="9551234567897", variant_image="https://img.example/tricky/red.jpg"),
    {"handle": "tricky", "sku": "TRICKY-2", "variant_name": "Blue, medium", "option1_name": "Colour",
     "option1_value": "Blue", "option2_name": "Size", "option2_value": "M", "stock": "0"},
    product("plain", "PLAIN-1"),
)  # fmt: skip


def test_export_then_import_into_an_empty_database_gives_the_same_catalog(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_csv, "EXPORT_PAGE", 7)  # several pages even for a small catalog
    monkeypatch.setattr(importer, "WRITE_CHUNK_PRODUCTS", 50)  # several write chunks
    assert import_csv(EDITOR, engine, sample_catalog_path()).ok
    assert import_csv(EDITOR, engine, io.StringIO(TRICKY)).ok
    original = catalog(engine)
    exported = io.StringIO()
    with transaction(engine) as session:
        rows = export_csv(session, exported)
    assert rows == sum(len(p["variants"]) for p in original)

    wipe_catalog(engine)
    report = import_csv(EDITOR, engine, io.StringIO(exported.getvalue()), strict=True)

    assert report.ok, report.errors[:5]
    assert catalog(engine) == original
    again = io.StringIO()
    with transaction(engine) as session:
        export_csv(session, again)
    assert again.getvalue() == exported.getvalue()


def test_export_leaves_out_deleted_products(engine: sa.Engine) -> None:
    assert import_csv(EDITOR, engine, io.StringIO(csv_text(product("a", "A-1"), product("b", "B-1")))).ok
    with engine.begin() as conn:
        conn.execute(sa.update(MasterProduct).where(MasterProduct.handle == "b").values(status="deleted"))
    target = io.StringIO()
    with transaction(engine) as session:
        assert export_csv(session, target) == 1
    lines = target.getvalue().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["a"]


# --- what else an import writes, and who may do it ---------------------------------------------


def test_an_import_announces_each_product_records_stock_and_writes_one_audit_row(engine: sa.Engine) -> None:
    text = csv_text(
        product("a", "A-1", stock="10"),
        {"handle": "a", "sku": "A-2", "stock": "0"},
        product("b", "B-1", stock="3"),
        product("c", "C-1", stock="7"),
        {"handle": "c", "sku": "C-2", "stock": "1"},
    )
    report = import_csv(EDITOR, engine, io.StringIO(text, newline=""))
    assert report.ok
    with Session(engine) as session:
        products = {p.handle: p for p in session.scalars(sa.select(MasterProduct))}
        variants = {v.sku: v for v in session.scalars(sa.select(ProductVariant))}
        events = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
        ledger = session.scalars(sa.select(InventoryHistory)).all()
        audits = session.scalars(sa.select(AuditLog)).all()

    assert len(events) == 3
    assert {e.event_type for e in events} == {"product.created"}
    assert {e.status for e in events} == {"pending"}
    assert {e.aggregate_type for e in events} == {"product"}
    by_product = {e.aggregate_id: e.payload for e in events}
    assert by_product[str(products["c"].id)] == {
        "product_id": products["c"].id,
        "variant_ids": [variants["C-1"].id, variants["C-2"].id],
    }

    assert sorted((variants_by_id(variants)[h.variant_id], h.new_quantity) for h in ledger) == [
        ("A-1", 10),
        ("B-1", 3),
        ("C-1", 7),
        ("C-2", 1),
    ]
    assert {(h.change_reason, h.previous_quantity, h.changed_by) for h in ledger} == {
        ("import", 0, "editor@shop.example")
    }
    assert all(h.product_id == variants[variants_by_id(variants)[h.variant_id]].product_id for h in ledger)

    [entry] = audits
    assert (entry.action, entry.actor_label) == ("catalog.import", "editor@shop.example")
    assert entry.after["file"] == "<stream>"
    assert (entry.after["products_created"], entry.after["variants_created"], entry.after["rows"]) == (3, 5, 5)


def variants_by_id(variants: dict[str, ProductVariant]) -> dict[int, str]:
    return {v.id: sku for sku, v in variants.items()}


@pytest.mark.parametrize("actor", [VIEWER, None], ids=["viewer", "anonymous"])
def test_a_viewer_cannot_import_and_nothing_is_written(engine: sa.Engine, actor: Actor | None) -> None:
    with pytest.raises(PermissionDenied):
        import_csv(actor, engine, sample_catalog_path())
    assert counts(engine) == dict.fromkeys(counts(engine), 0)


def test_ten_thousand_rows_import_with_progress(engine: sa.Engine) -> None:
    rows = synthetic_rows(10_000)
    calls: list[tuple[int, int]] = []

    report = import_csv(
        EDITOR, engine, io.StringIO(render(rows)), progress=lambda done, total: calls.append((done, total))
    )

    assert report.ok, report.errors[:5]
    handles = {row[0] for row in rows}
    with_stock = sum(1 for row in rows if int(row[CSV_COLUMNS.index("stock")]) > 0)
    assert (report.rows, report.products_created, report.variants_created) == (10_000, len(handles), 10_000)
    assert counts(engine) == {
        "products": len(handles),
        "variants": 10_000,
        "ledger": with_stock,
        "outbox": len(handles),
        "audit": 1,
    }
    assert calls[-1] == (10_000, 10_000)
    assert len(calls) > 2
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


# --- formula injection (S4) ------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text as a merchant could type it; each would be a live formula (or DDE call) in a spreadsheet.
FORMULAS = csv_text(
    product("formula-title", "+cmd|'/C_calc'!A0", title='=HYPERLINK("http://x","y")',
            description="@SUM(1+1)", brand="-2+3", tags="=1+1|plain", option1_name="@Colour",
            option1_value="-Red", variant_name="=A1", barcode="+60123"),
    product("already-quoted", "SKU-2", brand="'plain quote"),
    product("-minus-handle", "PLAIN-3", category="=Category", images="http://images.example.com/a.jpg"),
)  # fmt: skip


def test_export_neutralises_formula_cells_and_import_gives_back_the_exact_text(engine: sa.Engine) -> None:
    report = import_csv(EDITOR, engine, io.StringIO(FORMULAS), strict=True)
    assert report.ok, report.errors
    with engine.begin() as conn:  # a leading tab / carriage return cannot come from a CSV cell (cells are trimmed)
        conn.execute(
            sa.update(MasterProduct)
            .where(MasterProduct.handle == "already-quoted")
            .values(description="\t=1+1", title="'=kept with its quote")
        )
        conn.execute(sa.update(MasterProduct).where(MasterProduct.handle == "-minus-handle").values(description="\r@x"))
    original = catalog(engine)
    assert original[2]["title"] == '=HYPERLINK("http://x","y")'  # sorted by handle: "-minus", "already", "formula"
    exported = io.StringIO()
    with transaction(engine) as session:
        assert export_csv(session, exported) == 3
    rows = list(csv.reader(io.StringIO(exported.getvalue(), newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    assert '\'=HYPERLINK("http://x","y")' in cells and "'+cmd|'/C_calc'!A0" in cells and "'@SUM(1+1)" in cells
    assert "''=kept with its quote" in cells and "'plain quote" in cells  # a quote export did not add is kept as is

    wipe_catalog(engine)
    report = import_csv(EDITOR, engine, io.StringIO(exported.getvalue()), strict=True)
    assert report.ok, report.errors
    # Every value comes back as typed; only the leading tab / carriage return is trimmed, as the
    # catalog trims every value an Editor types (the row written directly above had it untrimmed).
    original[0]["description"] = "@x"
    original[1]["description"] = "=1+1"
    assert catalog(engine) == original
