# The catalog CSV format (one row per variant) and the export that writes it.
"""Catalog CSV: the format shared by `syncstore catalog import`, `syncstore catalog export` and the sample catalog.

UTF-8 (a byte-order mark from Excel's "CSV UTF-8" is accepted), comma separated, first line a
header. One row per variant, with these columns (header names are matched case-insensitively;
order is free)::

    handle,title,description,category,brand,base_price,currency,weight_kg,length_cm,width_cm,
    height_cm,images,tags,status,sku,variant_name,option1_name,option1_value,option2_name,
    option2_value,variant_price,stock,barcode,variant_image,bundle

- ``handle`` (required on every row): the product's stable key. Rows sharing a handle form one
  product, in file order; they need not be adjacent.
- Product columns (``title`` .. ``status``) come from the product's FIRST row. A later row may
  leave them blank (it inherits) or repeat them, but a value it gives must agree with the first
  row, else that row is reported.
- ``images`` and ``tags`` are lists separated by ``|``; ``currency`` defaults to the configured
  catalog currency (``SYNCSTORE_CURRENCY``, MYR); ``status`` is ``active`` (default) or
  ``inactive``; ``length_cm``/``width_cm``/``height_cm`` are all given or all blank.
- Variant columns: ``sku`` (required, unique in the file and in the catalog, case-insensitive),
  ``variant_name`` (blank: the option values joined by " / ", or "Default" without options),
  up to two options (``optionN_name`` with ``optionN_value``; they become the variant's
  attributes), ``variant_price`` (blank: the product's base price), ``stock`` (blank: 0),
  ``barcode`` and ``variant_image`` (a URL).
- ``bundle`` (blank: a plain variant): the variant is a bundle of other SKUs, written
  ``SKU-A*2;SKU-B`` (2 of SKU-A and 1 of SKU-B; ``*1`` may be left out). The components are SKUs
  of the catalog or of the same file; a component may not itself be a bundle, nor the bundle
  itself. A bundle's ``stock`` is ignored: its available quantity is computed from its components.
  In an import that updates products, a blank cell leaves the variant's components as they are and
  a cell of just ``-`` removes them (the bundle becomes a plain variant selling its own ``stock``);
  a SKU named ``-`` is written ``-*1``.
- Money and measures are decimal text ("19.90", "0.25"), never floats.

Formula cells (OWASP "CSV injection"): a spreadsheet runs a cell that begins with ``=``, ``+``,
``-``, ``@``, tab or carriage return as a formula. The export therefore writes every TEXT cell
(all columns but the numeric ``base_price``, ``weight_kg``, ``length_cm``, ``width_cm``,
``height_cm``, ``variant_price`` and ``stock``) that begins with one of those characters, or with
one or more single quotes followed by one of them, with one more single quote in front
(``=SUM(A1)`` -> ``'=SUM(A1)``, ``'=x`` -> ``''=x``). The import removes exactly one leading
single quote from a text cell that begins with one or more quotes followed by one of those
characters, so an exported file imports back to the text as typed; any other quote (``'plain``)
is kept. Numeric cells are left alone: they must be valid numbers anyway (a negative number in a
numeric cell is a number to a spreadsheet, not a formula).

Columns ``handle``, ``title``, ``category``, ``base_price`` and ``sku`` must be present; the
others may be left out of the header (as if blank); unknown columns are an error (a typo would
silently drop data).

Validation rules are those of `syncstore.catalog.schema.ProductInput`; `syncstore.catalog.importer`
reads this format, this module writes it.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import MasterProduct, ProductVariant
from syncstore.errors import InvalidValue
from syncstore.inventory import bundles

log = logging.getLogger(__name__)

CSV_COLUMNS: tuple[str, ...] = (
    "handle", "title", "description", "category", "brand", "base_price", "currency", "weight_kg",
    "length_cm", "width_cm", "height_cm", "images", "tags", "status", "sku", "variant_name",
    "option1_name", "option1_value", "option2_name", "option2_value", "variant_price", "stock",
    "barcode", "variant_image", "bundle",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("handle", "title", "category", "base_price", "sku")
# Columns that describe the product (taken from its first row); the rest describe the variant.
PRODUCT_COLUMNS: tuple[str, ...] = CSV_COLUMNS[1:14]
OPTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("option1_name", "option1_value"),
    ("option2_name", "option2_value"),
)
LIST_SEPARATOR = "|"
BUNDLE_SEPARATOR, BUNDLE_TIMES = ";", "*"
# A bundle cell of just this: no components (an update import makes the bundle a plain variant again).
NO_COMPONENTS = "-"
DEFAULT_VARIANT_NAME = "Default"

# Columns holding numbers; every other column is text and is neutralised on export (see above).
NUMERIC_COLUMNS: frozenset[str] = frozenset(
    {"base_price", "weight_kg", "length_cm", "width_cm", "height_cm", "variant_price", "stock"}
)
# A cell beginning with one of these is run as a formula by spreadsheets.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_TEXT_INDEXES: tuple[int, ...] = tuple(i for i, column in enumerate(CSV_COLUMNS) if column not in NUMERIC_COLUMNS)

# Products per page when exporting.
EXPORT_PAGE = 500


def format_bundle(components: Iterable[tuple[str, int]]) -> str:
    """A bundle cell: ``SKU-A*2;SKU-B`` (a quantity of 1 is not written)."""
    return BUNDLE_SEPARATOR.join(
        sku if quantity == 1 else f"{sku}{BUNDLE_TIMES}{quantity}" for sku, quantity in components
    )


def parse_bundle(cell: str) -> list[tuple[str, int]]:
    """The components of a bundle cell, in order; ValueError with a message a merchant can act on.

    ``"SKU-A*2; SKU-B"`` -> ``[("SKU-A", 2), ("SKU-B", 1)]``; blank or ``-`` (no components) -> ``[]``.
    A SKU given twice, an empty part, or a quantity that is not a whole number of at least 1 is an error.
    """
    if cell.strip() == NO_COMPONENTS:
        return []
    components: list[tuple[str, int]] = []
    seen: set[str] = set()
    for part in cell.split(BUNDLE_SEPARATOR) if cell.strip() else []:
        sku, _, quantity_text = part.strip().rpartition(BUNDLE_TIMES) if BUNDLE_TIMES in part else (part, "", "1")
        sku, quantity_text = sku.strip(), quantity_text.strip()
        if not sku:
            raise InvalidValue("{part} names no SKU; write components as SKU-A*2;SKU-B", part=repr(part.strip()))
        if not quantity_text.isdigit() or int(quantity_text) < 1:
            raise InvalidValue(
                "the quantity of {sku} must be a whole number of at least 1 (got {quantity})",
                sku=sku,
                quantity=repr(quantity_text),
            )
        if sku.lower() in seen:
            raise InvalidValue("component {sku} is given twice", sku=sku)
        seen.add(sku.lower())
        components.append((sku, int(quantity_text)))
    return components


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _measure(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_PRODUCT_EXPORT = (
    MasterProduct.id, MasterProduct.handle, MasterProduct.title, MasterProduct.description,
    MasterProduct.category, MasterProduct.brand, MasterProduct.base_price, MasterProduct.currency,
    MasterProduct.weight_kg, MasterProduct.length_cm, MasterProduct.width_cm, MasterProduct.height_cm,
    MasterProduct.images, MasterProduct.tags, MasterProduct.status,
)  # fmt: skip
_VARIANT_EXPORT = (
    ProductVariant.id, ProductVariant.product_id, ProductVariant.sku, ProductVariant.name, ProductVariant.attributes,
    ProductVariant.price, ProductVariant.stock, ProductVariant.barcode, ProductVariant.image_url,
)  # fmt: skip


def _export_rows(session: Session) -> Iterator[list[str]]:
    """Rows of the export, a page of products (plain column reads, no ORM objects) at a time."""
    last_id = 0
    while True:
        page = session.execute(
            sa.select(*_PRODUCT_EXPORT)
            .where(MasterProduct.id > last_id, MasterProduct.status != "deleted")
            .order_by(MasterProduct.id)
            .limit(EXPORT_PAGE)
        ).all()
        if not page:
            return
        last_id = page[-1].id
        by_product: dict[int, list[Any]] = {}
        for variant in session.execute(
            sa.select(*_VARIANT_EXPORT)
            .where(ProductVariant.product_id.in_([p.id for p in page]))
            .order_by(ProductVariant.product_id, ProductVariant.id)
        ):
            by_product.setdefault(variant.product_id, []).append(variant)
        parts = bundles.components(session, [v.id for listed in by_product.values() for v in listed])
        for p in page:
            product_cells = [
                p.handle, p.title, p.description, p.category, p.brand, _money(p.base_price), p.currency,
                _measure(p.weight_kg), _measure(p.length_cm), _measure(p.width_cm), _measure(p.height_cm),
                LIST_SEPARATOR.join(p.images or []), LIST_SEPARATOR.join(p.tags or []), p.status,
            ]  # fmt: skip
            for variant in by_product.get(p.id, []):
                options = list((variant.attributes or {}).items())
                if len(options) > len(OPTION_COLUMNS):
                    log.warning(
                        "SKU %s has %d attributes; the CSV holds %d, the rest are left out",
                        variant.sku,
                        len(options),
                        len(OPTION_COLUMNS),
                    )
                option_cells: list[str] = []
                for index in range(len(OPTION_COLUMNS)):
                    option_cells.extend(options[index] if index < len(options) else ("", ""))
                yield [
                    *product_cells,
                    variant.sku,
                    variant.name,
                    *option_cells,
                    _money(variant.price),
                    str(variant.stock),
                    variant.barcode or "",
                    variant.image_url or "",
                    format_bundle((part.sku, part.quantity) for part in parts.get(variant.id, [])),
                ]


def _quoted_formula(cell: str) -> bool:
    """True when `cell` is a formula start behind zero or more single quotes."""
    return cell.lstrip("'").startswith(FORMULA_STARTS)


def neutralise(cell: str) -> str:
    """A text cell as exported: one single quote added in front of a (possibly quoted) formula start."""
    return "'" + cell if _quoted_formula(cell) else cell


def restore(cell: str) -> str:
    """A text cell as imported: the quote `neutralise` added is removed; `restore(neutralise(x)) == x`."""
    return cell[1:] if cell.startswith("'") and _quoted_formula(cell) else cell


def write_rows(target: TextIO, rows: Iterable[Sequence[str]]) -> int:
    """Write the header and `rows` (in `CSV_COLUMNS` order) as catalog CSV, text cells neutralised.

    Returns the number of rows (header excluded).
    """
    writer = csv.writer(target, lineterminator="\n")
    # csv quotes a cell holding "\n" (the line end) but not one holding a lone "\r", which a reader
    # then takes for a line end; such a row is written with every cell quoted.
    quoting_writer = csv.writer(target, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        cells = list(row)
        for index in _TEXT_INDEXES:
            if index < len(cells):
                cells[index] = neutralise(cells[index])
        (quoting_writer if any("\r" in cell for cell in cells) else writer).writerow(cells)
        count += 1
    return count


def export_csv(session: Session, target: TextIO) -> int:
    """Write every non-deleted product, one row per variant, in the import format.

    Streams a page of products at a time. Every row repeats its product's columns (so the file
    can be sorted or filtered in a spreadsheet and still import). Returns the rows written.
    A bundle's components go in the ``bundle`` column.
    Not in the format, so not exported: a variant's weight, low-stock threshold, active flag and
    any attribute beyond the second.
    """
    return write_rows(target, _export_rows(session))
