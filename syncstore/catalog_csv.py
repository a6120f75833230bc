# The catalog CSV format (one row per variant) and the export that writes it.
"""Catalog CSV: the format shared by `syncstore catalog import`, `syncstore catalog export` and the sample catalog.

UTF-8 (a byte-order mark from Excel's "CSV UTF-8" is accepted), comma separated, first line a
header. One row per variant, with these columns (header names are matched case-insensitively;
order is free)::

    handle,title,description,category,brand,base_price,currency,weight_kg,length_cm,width_cm,
    height_cm,images,tags,status,sku,variant_name,option1_name,option1_value,option2_name,
    option2_value,variant_price,stock,barcode,variant_image

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
- Money and measures are decimal text ("19.90", "0.25"), never floats.

Columns ``handle``, ``title``, ``category``, ``base_price`` and ``sku`` must be present; the
others may be left out of the header (as if blank); unknown columns are an error (a typo would
silently drop data).

Validation rules are those of `syncstore.catalog_schema.ProductInput`; `syncstore.importer`
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

log = logging.getLogger(__name__)

CSV_COLUMNS: tuple[str, ...] = (
    "handle", "title", "description", "category", "brand", "base_price", "currency", "weight_kg",
    "length_cm", "width_cm", "height_cm", "images", "tags", "status", "sku", "variant_name",
    "option1_name", "option1_value", "option2_name", "option2_value", "variant_price", "stock",
    "barcode", "variant_image",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("handle", "title", "category", "base_price", "sku")
# Columns that describe the product (taken from its first row); the rest describe the variant.
PRODUCT_COLUMNS: tuple[str, ...] = CSV_COLUMNS[1:14]
OPTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("option1_name", "option1_value"),
    ("option2_name", "option2_value"),
)
LIST_SEPARATOR = "|"
DEFAULT_VARIANT_NAME = "Default"

# Products per page when exporting.
EXPORT_PAGE = 500


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
    ProductVariant.product_id, ProductVariant.sku, ProductVariant.name, ProductVariant.attributes,
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
                ]


def write_rows(target: TextIO, rows: Iterable[Sequence[str]]) -> int:
    """Write the header and `rows` as catalog CSV; returns the number of rows (header excluded)."""
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def export_csv(session: Session, target: TextIO) -> int:
    """Write every non-deleted product, one row per variant, in the import format.

    Streams a page of products at a time. Every row repeats its product's columns (so the file
    can be sorted or filtered in a spreadsheet and still import). Returns the rows written.
    Not in the format, so not exported: a variant's weight, low-stock threshold, active flag and
    any attribute beyond the second.
    """
    return write_rows(target, _export_rows(session))
