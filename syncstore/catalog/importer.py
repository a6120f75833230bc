# Bulk CSV import of the master catalog: every row validated, then written in bulk in one transaction.
"""Catalog CSV import.

The file format is described in `syncstore.catalog.csv_format`.

Validation rules are those of `syncstore.catalog.schema.ProductInput`; the importer maps each
pydantic error back to the line (as a spreadsheet numbers rows: the header is line 1) and column
the merchant wrote. Every row is checked and every error is reported, not only the first.

Writing
-------
Non-strict (default): products with any bad row are skipped (listed in the report), the rest
are imported. Strict: any error and nothing is written. Existing SKUs and handles are reported,
never overwritten.

The whole import is ONE transaction, written in chunks of bulk INSERTs (one executemany per
table and chunk; new ids are read back by their unique keys, one indexed query per chunk, never
per row): products, variants, a stock-ledger row per variant with stock (reason
``import``), one ``product.created`` outbox event per product, and one ``catalog.import`` audit
row. Bundles (the ``bundle`` column) are then set through `syncstore.inventory.bundles.set_components`,
in the same transaction, after the file's bundle cells were checked against the file and the catalog
(unknown SKU, self-reference, a component that is itself a bundle), each error on its line.
One transaction rather than one per chunk, in both modes: a crash or a concurrent edit half
way leaves nothing behind, so the merchant fixes the cause and re-runs the same file (after a
partial commit, the re-run would report every already-imported SKU as a duplicate), and the
audit row and counts always describe what was actually committed. At 10,000 rows the transaction
lasts about a second, so holding SQLite's write lock that long is harmless.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO, cast

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from syncstore.catalog.csv_format import (
    CSV_COLUMNS,
    DEFAULT_VARIANT_NAME,
    LIST_SEPARATOR,
    NUMERIC_COLUMNS,
    OPTION_COLUMNS,
    PRODUCT_COLUMNS,
    REQUIRED_COLUMNS,
    parse_bundle,
    restore,
)
from syncstore.catalog.schema import ProductInput
from syncstore.db.engine import session_factory
from syncstore.db.models import InventoryHistory, MasterProduct, OutboxEvent, ProductVariant
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, Message, as_message, joined, message_of, msg, pydantic_message
from syncstore.inventory import bundles
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.settings import get_settings

log = logging.getLogger(__name__)

_DECIMAL_COLUMNS = frozenset({"base_price", "weight_kg", "length_cm", "width_cm", "height_cm"})
_LIST_COLUMNS = frozenset({"images", "tags"})
_CASELESS_COLUMNS = frozenset({"currency", "status"})
# ProductInput / VariantInput field -> the CSV column the merchant wrote it in.
_VARIANT_FIELD_COLUMNS = {
    "sku": "sku",
    "name": "variant_name",
    "price": "variant_price",
    "stock": "stock",
    "attributes": "option1_name",
    "barcode": "barcode",
    "image_url": "variant_image",
}

# Products per chunk of bulk INSERTs (each chunk is a handful of multi-row statements).
WRITE_CHUNK_PRODUCTS = 1000
# Values per `IN (...)` lookup of existing SKUs and handles.
LOOKUP_CHUNK = 2000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    """One problem, where the merchant can find it.

    `line` is the row number a spreadsheet shows (header = 1); 0 means the file as a whole.
    `field` is the CSV column (or "file" / "header").

    `message` is the English text (the CLI and the JSON report show it); `problem` is the same as a
    literal template and its parameters, which the app shows in the user's language.
    """

    line: int
    field: str
    message: str
    problem: Message = dataclasses.field(compare=False, repr=False)

    def __init__(self, line: int, field: str, message: Message | str) -> None:
        problem = as_message(message)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "message", str(problem))
        object.__setattr__(self, "problem", problem)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: line, field and the English message."""
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        if not self.line:
            return f"{self.field}: {self.message}"
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a failed strict import, would have done).

    `products_created`/`variants_created` count what was committed; for a dry run, what would be.
    `skipped_products` are the handles of products with at least one bad row (not imported).
    `committed` says whether anything was written.
    """

    source: str
    rows: int = 0
    products_created: int = 0
    variants_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped_products: list[str] = field(default_factory=list)
    dry_run: bool = False
    strict: bool = False
    committed: bool = False

    @property
    def ok(self) -> bool:
        """True when the file had no error at all."""
        return not self.errors

    def summary(self) -> str:
        """One line for a terminal or a toast."""
        if self.dry_run:
            outcome = f"would import {self.products_created} products ({self.variants_created} variants)"
        elif self.committed:
            outcome = f"imported {self.products_created} products ({self.variants_created} variants)"
        else:
            outcome = "nothing imported"
        text = f"{self.source}: {self.rows} rows, {outcome}"
        if self.skipped_products:
            text += f", {len(self.skipped_products)} products with errors"
        if self.errors:
            text += f", {len(self.errors)} error{'s' if len(self.errors) != 1 else ''}"
        return text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [error.to_dict() for error in self.errors]
        data["ok"] = self.ok
        return data


# --- reading ----------------------------------------------------------------------------------


class _FileProblem(Exception):
    """The file cannot be read as a catalog CSV at all."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _Row:
    line: int
    cells: dict[str, str]
    # More cells than columns: the values cannot be trusted, the product is skipped.
    broken: bool = False


@dataclass
class _Product:
    handle: str
    rows: list[_Row]
    data: ProductInput | None = None
    bad: bool = False


def _source_name(source: Path | TextIO | str | os.PathLike[str]) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else "<stream>"


def _utf8_problem(data: bytes, error: UnicodeDecodeError) -> RowError:
    line = data.count(b"\n", 0, error.start) + 1
    return RowError(
        line,
        "file",
        msg(
            "is not UTF-8 text (byte {byte} on line {line} is not valid UTF-8); "
            "save it as 'CSV UTF-8' from your spreadsheet and import it again",
            byte=f"0x{data[error.start]:02x}",
            line=line,
        ),
    )


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise _FileProblem(
            RowError(0, "file", "is a spreadsheet workbook (.xlsx), not CSV: save it as 'CSV UTF-8' first")
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _FileProblem(RowError(0, "file", "is UTF-16 text; save it as 'CSV UTF-8' and import it again"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _FileProblem(_utf8_problem(data, error)) from None


def _read_text(source: Path | TextIO | str | os.PathLike[str]) -> str:
    """The whole file as text, or _FileProblem with a message a merchant can act on."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise _FileProblem(RowError(0, "file", msg("{path} does not exist", path=str(path)))) from None
        except IsADirectoryError:
            raise _FileProblem(RowError(0, "file", msg("{path} is a folder, not a CSV file", path=str(path)))) from None
        except OSError as error:
            raise _FileProblem(
                RowError(0, "file", msg("cannot read {path}: {reason}", path=str(path), reason=error.strerror))
            ) from None
        text = _decode(data)
    else:
        try:
            raw: str | bytes = source.read()
        except UnicodeDecodeError as error:
            raise _FileProblem(
                RowError(
                    0,
                    "file",
                    msg("is not UTF-8 text ({reason}); save it as 'CSV UTF-8' and try again", reason=error.reason),
                )
            ) from None
        except OSError as error:
            raise _FileProblem(RowError(0, "file", msg("cannot read the file: {reason}", reason=str(error)))) from None
        text = _decode(raw) if isinstance(raw, bytes) else raw
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise _FileProblem(
            RowError(line, "file", msg("contains a NUL character on line {line}: it is not a text CSV file", line=line))
        )
    if not text.strip():
        expected = ",".join(CSV_COLUMNS)
        raise _FileProblem(
            RowError(1, "file", msg("the file is empty; line 1 must be the header: {columns}", columns=expected))
        )
    return text


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    problems: list[Message] = []
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        problem = (
            msg("the columns are separated by semicolons; SyncStore reads comma-separated CSV")
            if ";" in names[0]
            else msg("the columns are separated by tabs; SyncStore reads comma-separated CSV")
        )
        raise _FileProblem(RowError(1, "header", problem))
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    # Columns without a name are ignored (spreadsheets add them), as long as they stay empty.
    unknown = [n for n in names if n and n not in CSV_COLUMNS]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if missing:
        problems.append(
            msg(
                "missing column {columns}" if len(missing) == 1 else "missing columns {columns}",
                columns=", ".join(missing),
            )
        )
    if unknown:
        problems.append(
            msg(
                "unknown column {columns}" if len(unknown) == 1 else "unknown columns {columns}",
                columns=", ".join(unknown),
            )
        )
    if repeated:
        problems.append(
            msg(
                "column {columns} given twice" if len(repeated) == 1 else "columns {columns} given twice",
                columns=", ".join(repeated),
            )
        )
    if problems:
        problem = msg(
            "{problems}. The columns are: {columns}", problems=joined(problems), columns=",".join(CSV_COLUMNS)
        )
        raise _FileProblem(RowError(1, "header", problem))
    return names


def _cell(column: str, value: str) -> str:
    """A trimmed cell; in a text column the quote the export put before a formula is removed."""
    return value if column in NUMERIC_COLUMNS else restore(value)


def _parse(text: str) -> tuple[list[_Row], list[RowError]]:
    """Rows keyed by column, blank rows dropped; line = the row number a spreadsheet shows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    errors: list[RowError] = []
    line = 1
    names: list[str] = []
    try:
        names = _header(next(reader))
        for cells in reader:
            line += 1
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
            row = _Row(line, {column: _cell(column, values.get(column, "")) for column in CSV_COLUMNS})
            stray = [i for i, cell in enumerate(cells) if cell.strip() and (i >= len(names) or not names[i])]
            if stray:
                row.broken = True
                problem = (
                    msg("has {cells} cells but the header has {columns} columns", cells=len(cells), columns=len(names))
                    if stray[-1] >= len(names)
                    else msg("has a value in column {column}, which has no name in the header", column=stray[0] + 1)
                )
                errors.append(
                    RowError(
                        line,
                        "file",
                        msg("{problem} (a value containing a comma must be in double quotes)", problem=problem),
                    )
                )
            rows.append(row)
    except csv.Error as error:
        # `line` is the last row read; the one that failed is the next (or the header itself).
        raise _FileProblem(
            RowError(line + 1 if names else 1, "file", msg("is not valid CSV: {reason}", reason=str(error)))
        ) from None
    if not rows:
        raise _FileProblem(RowError(2, "file", "has a header but no product rows"))
    return rows, errors


# --- validation -------------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _agrees(column: str, first: str, other: str) -> bool:
    if column in _DECIMAL_COLUMNS:
        try:
            return Decimal(first) == Decimal(other)
        except InvalidOperation:
            return first == other
    if column in _LIST_COLUMNS:
        return _split(first) == _split(other)
    if column in _CASELESS_COLUMNS:
        return first.lower() == other.lower()
    return first == other


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _options(row: _Row, errors: list[RowError]) -> dict[str, str] | None:
    attributes: dict[str, str] = {}
    ok = True
    for name_column, value_column in OPTION_COLUMNS:
        name, value = row.cells[name_column], row.cells[value_column]
        if name and not value:
            errors.append(RowError(row.line, value_column, msg("required when {column} is given", column=name_column)))
            ok = False
        elif value and not name:
            errors.append(RowError(row.line, name_column, msg("required when {column} is given", column=value_column)))
            ok = False
        elif name:
            if name.lower() in (n.lower() for n in attributes):
                errors.append(
                    RowError(row.line, name_column, msg("option {name} is given twice on this row", name=repr(name)))
                )
                ok = False
            attributes[name] = value
    return attributes if ok else None


def _product_input(product: _Product) -> dict[str, Any]:
    first = product.rows[0].cells
    data: dict[str, Any] = {"handle": product.handle}
    for column in PRODUCT_COLUMNS:
        value = first[column]
        if not value:
            continue  # blank: the schema's default applies, or "required" is reported
        if column in _LIST_COLUMNS:
            data[column] = _split(value)
        elif column == "status":
            data[column] = value.lower()
        else:
            data[column] = value
    variants: list[dict[str, Any]] = []
    for row in product.rows:
        cells = row.cells
        attributes = _options(row, []) or {}
        variant: dict[str, Any] = {
            "sku": cells["sku"],
            "name": cells["variant_name"] or (" / ".join(attributes.values()) if attributes else DEFAULT_VARIANT_NAME),
            "attributes": attributes,
        }
        for column, key in (
            ("variant_price", "price"),
            ("stock", "stock"),
            ("barcode", "barcode"),
            ("variant_image", "image_url"),
        ):
            if cells[column]:
                variant[key] = cells[column]
        variants.append(variant)
    data["variants"] = variants
    return data


def _schema_errors(product: _Product, error: ValidationError) -> list[RowError]:
    """Pydantic errors of one product, mapped to the line and column the merchant wrote."""
    first_line = product.rows[0].line
    found: list[RowError] = []
    for item in error.errors():
        loc = item["loc"]
        message = msg("required") if item.get("type") == "missing" else pydantic_message(item)
        value = item.get("input")
        if isinstance(value, str) and value:
            message = msg("{problem} (got {value})", problem=message, value=_shown(value))
        if not loc:
            if "SKU" in str(message):
                continue  # a SKU repeated in the product: already reported, file-wide, by line
            column = "length_cm" if "length_cm" in str(message) else "handle"
            found.append(RowError(first_line, column, message))
        elif loc[0] == "variants" and len(loc) >= 3 and isinstance(loc[1], int):
            row = product.rows[loc[1]]
            found.append(RowError(row.line, _VARIANT_FIELD_COLUMNS.get(str(loc[2]), str(loc[2])), message))
        elif loc[0] == "variants":
            found.append(
                RowError(
                    first_line, "handle", msg("{rows} variant rows: {problem}", rows=len(product.rows), problem=message)
                )
            )
        elif loc[0] in _LIST_COLUMNS and len(loc) >= 2 and isinstance(loc[1], int):
            where = (
                msg("image {number}: {problem}", number=loc[1] + 1, problem=message)
                if loc[0] == "images"
                else msg("tag {number}: {problem}", number=loc[1] + 1, problem=message)
            )
            found.append(RowError(first_line, str(loc[0]), where))
        else:
            found.append(RowError(first_line, str(loc[0]), message))
    return found


def _validate(rows: Sequence[_Row], errors: list[RowError]) -> list[_Product]:
    """Group rows into products and check everything that needs no database."""
    products: dict[str, _Product] = {}
    for row in rows:
        handle = row.cells["handle"]
        if not handle:
            errors.append(RowError(row.line, "handle", "required: rows sharing a handle form one product"))
            continue
        product = products.setdefault(handle, _Product(handle, []))
        if row.broken:
            product.bad = True  # its error is already reported
        else:
            product.rows.append(row)

    bad = {handle for handle, product in products.items() if product.bad}

    def report(product: _Product, error: RowError) -> None:
        errors.append(error)
        bad.add(product.handle)

    # In file order, so "already appears on line N" always points up the file.
    seen_skus: dict[str, int] = {}
    for row in rows:
        sku = row.cells["sku"].lower()
        if not sku or row.broken or not row.cells["handle"]:
            continue
        if sku in seen_skus:
            message = msg("SKU {sku} already appears on line {line}", sku=row.cells["sku"], line=seen_skus[sku])
            report(products[row.cells["handle"]], RowError(row.line, "sku", message))
        else:
            seen_skus[sku] = row.line

    for product in products.values():
        if not product.rows:
            continue
        first = product.rows[0]
        for row in product.rows[1:]:
            for column in PRODUCT_COLUMNS:
                value = row.cells[column]
                if value and not _agrees(column, first.cells[column], value):
                    report(
                        product,
                        RowError(
                            row.line,
                            column,
                            msg(
                                "{value} differs from line {line} of product {handle} ({first}); "
                                "leave it blank or repeat the same value",
                                value=_shown(value),
                                line=first.line,
                                handle=product.handle,
                                first=_shown(first.cells[column]),
                            ),
                        ),
                    )
        for row in product.rows:
            option_errors: list[RowError] = []
            if _options(row, option_errors) is None:
                for option_error in option_errors:
                    report(product, option_error)
            try:
                parse_bundle(row.cells["bundle"])
            except ValueError as error:
                report(product, RowError(row.line, "bundle", message_of(error)))
        try:
            product.data = ProductInput.model_validate(_product_input(product))
        except ValidationError as error:
            for schema_error in _schema_errors(product, error):
                report(product, schema_error)
    for handle in bad:
        products[handle].bad = True
    return list(products.values())


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_catalog(session: Session, products: Sequence[_Product], errors: list[RowError]) -> None:
    """Report handles and SKUs the catalog already has (deleted products keep theirs too)."""
    by_handle = {p.handle: p for p in products}
    for chunk in _chunks(list(by_handle), LOOKUP_CHUNK):
        query = sa.select(MasterProduct.handle, MasterProduct.id, MasterProduct.status).where(
            MasterProduct.handle.in_(chunk)
        )
        for handle, product_id, status in session.execute(query):
            product = by_handle[handle]
            line = product.rows[0].line if product.rows else 0
            problem = (
                msg(
                    "handle {handle} is already used by a deleted product #{product_id}; "
                    "existing products are never overwritten by an import",
                    handle=handle,
                    product_id=product_id,
                )
                if status == "deleted"
                else msg(
                    "handle {handle} is already used by product #{product_id}; "
                    "existing products are never overwritten by an import",
                    handle=handle,
                    product_id=product_id,
                )
            )
            errors.append(RowError(line, "handle", problem))
            product.bad = True

    rows_by_sku: dict[str, tuple[_Product, _Row]] = {}
    for product in products:
        for row in product.rows:
            if row.cells["sku"]:
                rows_by_sku.setdefault(row.cells["sku"].lower(), (product, row))
    for chunk in _chunks(list(rows_by_sku), LOOKUP_CHUNK):
        query = (
            sa.select(sa.func.lower(ProductVariant.sku), ProductVariant.sku, MasterProduct.handle)
            .join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
            .where(sa.func.lower(ProductVariant.sku).in_(chunk))
        )
        for key, sku, handle in session.execute(query):
            product, row = rows_by_sku[key]
            errors.append(
                RowError(
                    row.line,
                    "sku",
                    msg(
                        "SKU {sku} already exists (product {handle}); existing SKUs are never overwritten",
                        sku=sku,
                        handle=handle,
                    ),
                )
            )
            product.bad = True


def _bundle_rows(products: Sequence[_Product]) -> list[tuple[_Product, _Row, list[tuple[str, int]]]]:
    """The rows of `products` that make a bundle, with their components (cells already checked)."""
    found = []
    for product in products:
        for row in product.rows:
            components = parse_bundle(row.cells["bundle"]) if row.cells["bundle"] else []
            if components:
                found.append((product, row, components))
    return found


def _catalog_skus(session: Session, skus: Sequence[str]) -> dict[str, int]:
    """Lower-cased SKU -> variant id, for the SKUs the catalog holds."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(skus)), LOOKUP_CHUNK):
        query = sa.select(sa.func.lower(ProductVariant.sku), ProductVariant.id).where(
            sa.func.lower(ProductVariant.sku).in_(chunk)
        )
        found.update({sku: variant_id for sku, variant_id in session.execute(query)})
    return found


def check_bundles(session: Session, products: Sequence[_Product], errors: list[RowError]) -> None:
    """Check the bundle cells of the products to write against the file and the catalog; bad rows are reported.

    A component must be a SKU of a product written by this import or of the catalog; it may not be
    the row's own SKU, nor a bundle (in the file or in the catalog: bundles do not nest), and a
    SKU that is a component of a catalog bundle may not be made a bundle. A product whose component is in a skipped
    product is skipped too (repeated until nothing changes).
    """
    while True:
        good = [p for p in products if not p.bad]
        rows = _bundle_rows(good)
        if not rows:
            return
        in_file = {row.cells["sku"].lower() for p in good for row in p.rows if row.cells["sku"]}
        bundle_skus = {row.cells["sku"].lower() for _, row, _ in rows}
        wanted = [sku.lower() for _, _, components in rows for sku, _ in components] + sorted(bundle_skus)
        catalog = _catalog_skus(session, wanted)
        parts = bundles.components(session, list(catalog.values()))
        catalog_bundle_ids = set(parts)
        components_of_catalog = set(bundles.bundles_containing(session, list(catalog.values())))
        catalog_sku = {variant_id: sku for sku, variant_id in catalog.items()}
        known_bundles = bundle_skus | {catalog_sku[v] for v in catalog_bundle_ids}
        # A catalog component cannot become a bundle; a file row using a bundle is the one in error.
        used_as_component = {catalog_sku[v] for v in components_of_catalog if v in catalog_sku}
        changed = False
        for product, row, components in rows:
            sku = row.cells["sku"]
            problems: list[Message] = []
            for component, _ in components:
                key = component.lower()
                if key == sku.lower():
                    problems.append(msg("{sku} cannot be a component of itself", sku=sku))
                elif key not in in_file and key not in catalog:
                    problems.append(msg("unknown SKU {sku} (not in the catalog nor in this file)", sku=component))
                elif key in known_bundles:
                    problems.append(msg("{sku} is itself a bundle; bundles cannot contain bundles", sku=component))
            if sku.lower() in used_as_component:
                problems.append(msg("{sku} is a component of another bundle, so it cannot be a bundle itself", sku=sku))
            for problem in problems:
                errors.append(RowError(row.line, "bundle", problem))
            if problems:
                product.bad = changed = True
        if not changed:
            return


def write_bundles(session: Session, actor: Actor | None, products: Sequence[_Product]) -> int:
    """Set the components of every bundle row of `products` (already written); returns the bundles set.

    The cells were checked by `check_bundles`; a refusal here (a concurrent change) raises
    InvalidInput naming the line, and the caller's transaction rolls back.
    """
    rows = _bundle_rows(products)
    ids = _catalog_skus(session, [row.cells["sku"].lower() for _, row, _ in rows])
    for _, row, components in rows:
        try:
            bundles.set_components(actor, session, ids[row.cells["sku"].lower()], components)
        except InvalidInput as error:
            detail = "; ".join(error.errors.values()) or str(error)
            raise InvalidInput({"bundle": msg("line {line}: {detail}", line=row.line, detail=detail)}) from None
    return len(rows)


# --- writing ----------------------------------------------------------------------------------


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _write_chunk(
    session: Session, actor: Actor | None, products: Sequence[_Product], source: str, now: datetime
) -> int:
    """Bulk insert one chunk of validated products; returns the number of variants written."""
    currency = get_settings().currency.upper()
    product_rows: list[dict[str, Any]] = []
    for product in products:
        data = product.data
        assert data is not None
        product_rows.append(
            {
                "handle": product.handle,
                "title": data.title,
                "description": data.description,
                "category": data.category,
                "brand": data.brand,
                "base_price": data.base_price,
                "currency": data.currency or currency,
                "weight_kg": data.weight_kg,
                "length_cm": data.length_cm,
                "width_cm": data.width_cm,
                "height_cm": data.height_cm,
                "images": [str(url) for url in data.images],
                "tags": list(data.tags),
                "status": data.status,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
        )
    # Plain executemany, then read the ids back by unique key: on PostgreSQL psycopg pipelines an
    # executemany, while a multi-row INSERT .. RETURNING spends seconds parsing huge statements.
    products_table = _table(MasterProduct)
    session.execute(sa.insert(products_table), product_rows)
    product_ids: dict[str, int] = {
        handle: product_id
        for product_id, handle in session.execute(
            sa.select(products_table.c.id, products_table.c.handle).where(
                products_table.c.handle.in_([p.handle for p in products])
            )
        )
    }

    variant_rows: list[dict[str, Any]] = []
    for product in products:
        assert product.data is not None
        product_id = product_ids[product.handle]
        for variant in product.data.variants:
            variant_rows.append(
                {
                    "product_id": product_id,
                    "sku": variant.sku,
                    "name": variant.name,
                    "price": variant.price,
                    "stock": variant.stock,
                    "reserved": 0,
                    "low_stock_threshold": variant.low_stock_threshold,
                    "attributes": dict(variant.attributes),
                    "barcode": variant.barcode,
                    "image_url": None if variant.image_url is None else str(variant.image_url),
                    "weight_kg": variant.weight_kg,
                    "is_active": variant.is_active,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    variants_table = _table(ProductVariant)
    session.execute(sa.insert(variants_table), variant_rows)
    variant_ids: dict[str, int] = {
        sku: variant_id
        for variant_id, sku in session.execute(
            sa.select(variants_table.c.id, variants_table.c.sku).where(
                variants_table.c.product_id.in_(list(product_ids.values()))
            )
        )
    }

    changed_by = actor.label if actor else ""
    ledger_rows = [
        {
            "product_id": row["product_id"],
            "variant_id": variant_ids[row["sku"]],
            "connection_id": None,
            "platform": None,
            "previous_quantity": 0,
            "new_quantity": row["stock"],
            "previous_reserved": 0,
            "new_reserved": 0,
            "change_reason": "import",
            "idempotency_key": None,
            "changed_by": changed_by,
            "note": f"CSV import {source}",
            "created_at": now,
        }
        for row in variant_rows
        if row["stock"] > 0
    ]
    if ledger_rows:
        session.execute(sa.insert(_table(InventoryHistory)), ledger_rows)

    outbox_rows: list[dict[str, Any]] = []
    for product in products:
        assert product.data is not None
        product_id = product_ids[product.handle]
        outbox_rows.append(
            {
                "aggregate_type": "product",
                "aggregate_id": str(product_id),
                "event_type": "product.created",
                "payload": {
                    "product_id": product_id,
                    "variant_ids": [variant_ids[v.sku] for v in product.data.variants],
                },
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "locked_until": None,
                "locked_by": None,
                "last_error": None,
                "created_at": now,
                "processed_at": None,
            }
        )
    session.execute(sa.insert(_table(OutboxEvent)), outbox_rows)
    return len(variant_rows)


def _line_order(error: RowError) -> tuple[int, int]:
    column = CSV_COLUMNS.index(error.field) if error.field in CSV_COLUMNS else -1
    return error.line, column


@requires(Permission.CATALOG_WRITE)
def import_csv(
    actor: Actor | None,
    engine: sa.Engine,
    source: Path | TextIO,
    *,
    strict: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a catalog CSV (format in the module docstring) and say what happened.

    Bad input never raises: an unreadable, non-UTF-8 or empty file, a wrong header and every bad
    row come back as `report.errors`. `strict=True` writes nothing if there is any error;
    `dry_run=True` validates against the catalog and writes nothing. `progress(done, total)` is
    called with the rows written so far after each chunk, and with (total, total) once the import
    has committed.
    """
    name = _source_name(source)
    report = ImportReport(source=name, strict=strict, dry_run=dry_run)
    try:
        rows, errors = _parse(_read_text(source))
    except _FileProblem as problem:
        report.errors.append(problem.error)
        return report
    report.rows = len(rows)
    products = _validate(rows, errors)

    now = utcnow()
    try:
        with session_factory(engine)() as session, session.begin():
            _check_catalog(session, products, errors)
            check_bundles(session, products, errors)
            good = [p for p in products if not p.bad]
            report.errors = sorted(errors, key=_line_order)
            report.skipped_products = [p.handle for p in products if p.bad]
            report.products_created = len(good)
            report.variants_created = sum(len(p.rows) for p in good)
            if dry_run or not good or (strict and errors):
                if strict and errors:
                    report.products_created = report.variants_created = 0
                return report

            done = 0
            for chunk in _chunks(good, WRITE_CHUNK_PRODUCTS):
                _write_chunk(session, actor, chunk, name, now)
                done += sum(len(p.rows) for p in chunk)
                if progress is not None:
                    progress(done, report.rows)
            write_bundles(session, actor, good)
            audit.record(
                session,
                actor,
                "catalog.import",
                "catalog",
                None,
                after={
                    "file": name,
                    "rows": report.rows,
                    "products_created": report.products_created,
                    "variants_created": report.variants_created,
                    "skipped_products": len(report.skipped_products),
                    "errors": len(report.errors),
                    "strict": strict,
                },
            )
    except InvalidInput as error:  # a bundle refused although checked: the catalog changed meanwhile
        refused = joined(error.messages.values()) if error.messages else message_of(error)
        report.errors.append(
            RowError(
                0, "file", msg("nothing was imported: {problem}; check the file and import again", problem=refused)
            )
        )
        report.products_created = report.variants_created = 0
        return report
    except (sa.exc.IntegrityError, sa.exc.DataError) as error:
        # Validation ran first, so this is a concurrent edit (a SKU or handle created meanwhile)
        # or a value the schema allows but a column does not; the transaction rolled back.
        detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        hint = (
            msg("someone added the same SKU or handle while the file was importing; import it again")
            if isinstance(error, sa.exc.IntegrityError)
            else msg("a value does not fit the database; fix it and import again")
        )
        report.errors.append(
            RowError(0, "file", msg("nothing was imported: {hint} (database said: {detail})", hint=hint, detail=detail))
        )
        report.products_created = report.variants_created = 0
        return report
    report.committed = True
    if progress is not None:
        progress(report.rows, report.rows)
    return report
