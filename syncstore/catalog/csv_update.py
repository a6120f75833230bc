# Catalog CSV import that may update existing products: a preview of old -> new, then one transaction.
"""CSV import with "update existing products" (the app's import; the CLI's stays create-only).

The file format, row validation and line-numbered errors are those of `syncstore.catalog.importer`
(this module reuses its reader). The difference: a product whose handle is already in the
catalog is UPDATED instead of reported:

- an optional product column left blank (or absent from the header) keeps the catalog's value;
  a given value replaces it (the required columns are required, as in any import);
- a row whose SKU is one of the product's variants updates that variant (price, stock, name,
  options, barcode, image: again only the cells given); a new SKU adds a variant; the product's
  variants the file does not mention are left as they are; a SKU of ANOTHER product is an error;
- a deleted product's handle cannot be reused (an error, as in the create-only import);
- a ``bundle`` cell sets that variant's components (old -> new in the preview; checked like the
  create-only import's, each error on its line); a blank cell leaves them as they are; ``-``
  removes them (the bundle becomes a plain variant again).

`preview_csv_import` reads the file and the catalog and writes nothing: every error by line, the
products to create, and per product to update each field as old -> new with the version read.
`apply_csv_import` does it in ONE transaction (`catalog.update_product` per updated product, with
the version of the preview, so a product edited since the preview is a conflict and nothing is
written; the importer's bulk insert for new products), and one `catalog.import` audit row.
Strict: any error and nothing is written. Not strict: products with an error are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.catalog import commands
from syncstore.catalog.csv_format import NO_COMPONENTS, PRODUCT_COLUMNS, format_bundle, parse_bundle
from syncstore.catalog.importer import (
    RowError,
    _catalog_skus,
    _check_catalog,
    _decode,
    _FileProblem,
    _line_order,
    _options,
    _parse,
    _Product,
    _split,
    _validate,
    _write_chunk,
    check_bundles,
    write_bundles,
)
from syncstore.db.engine import session_factory
from syncstore.db.models import MasterProduct, ProductVariant
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, SyncStoreError, VersionConflict, joined, msg
from syncstore.inventory import bundles
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

_DECIMALS = frozenset({"base_price", "weight_kg", "length_cm", "width_cm", "height_cm"})
# CSV variant column -> VariantPatch field.
_VARIANT_CELLS = {"variant_name": "name", "variant_price": "price", "stock": "stock",
                  "barcode": "barcode", "variant_image": "image_url"}  # fmt: skip


class ImportNotApplied(SyncStoreError):
    """The import was refused as a whole (strict mode with errors, or a product changed since the preview)."""


@dataclass(frozen=True)
class FieldChange:
    """One value the import changes: where ("title", "SKU TEE-RED price") and old -> new, as text."""

    field: str
    old: str
    new: str


@dataclass
class ProductUpdate:
    """An existing product the file changes."""

    handle: str
    product_id: int
    version: int
    title: str
    line: int
    changes: list[FieldChange] = field(default_factory=list)
    patch: dict[str, Any] = field(default_factory=dict)
    # SKU -> its new bundle components (set after the patch, so a new variant exists by then).
    bundle_changes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass
class CsvImportPreview:
    """What `apply_csv_import` would do with this file now."""

    source: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    creates: list[str] = field(default_factory=list)  # handles of new products
    new_variants: int = 0
    updates: list[ProductUpdate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # handles in the catalog the file leaves as they are
    skipped: list[str] = field(default_factory=list)  # handles with an error (not imported unless fixed)

    @property
    def versions(self) -> dict[str, int]:
        """The version of each product to update, as read (what `apply_csv_import` expects)."""
        return {u.handle: u.version for u in self.updates}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _same(column: str, old: object, new: object) -> bool:
    if column in _DECIMALS or column in {"price"}:
        try:
            return old is not None and Decimal(str(old)) == Decimal(str(new))
        except InvalidOperation:
            return False
    if column in {"images", "tags"}:
        return isinstance(old, list) and isinstance(new, list) and [str(v) for v in old] == [str(v) for v in new]
    return _text(old) == _text(new)


def _product_patch(entry: _Product, product: MasterProduct, update: ProductUpdate) -> None:
    first = entry.rows[0].cells
    for column in PRODUCT_COLUMNS:
        cell = first[column]
        if not cell:
            continue
        value: Any = _split(cell) if column in {"images", "tags"} else cell.lower() if column == "status" else cell
        if column == "currency":
            value = cell.upper()
        old = getattr(product, column)
        if not _same(column, old, value):
            update.patch[column] = value
            update.changes.append(FieldChange(column, _text(old), _text(value)))


def _variant_patches(
    entry: _Product, product: MasterProduct, owners: Mapping[str, str], update: ProductUpdate, errors: list[RowError]
) -> bool:
    """Variant patches of one product; False when a row is in error (a SKU of another product)."""
    ok = True
    own = {v.sku.lower(): v for v in product.variants}
    patches: list[dict[str, Any]] = []
    for row in entry.rows:
        sku = row.cells["sku"]
        variant = own.get(sku.lower())
        if variant is None and sku.lower() in owners:
            errors.append(
                RowError(
                    row.line, "sku", msg("SKU {sku} belongs to product {handle}", sku=sku, handle=owners[sku.lower()])
                )
            )
            ok = False
            continue
        attributes = _options(row, []) or {}
        if variant is None:
            new: dict[str, Any] = {"sku": sku, "name": row.cells["variant_name"] or " / ".join(attributes.values())
                                   or "Default", "attributes": attributes}  # fmt: skip
            new.update({key: row.cells[c] for c, key in _VARIANT_CELLS.items() if row.cells[c] and key != "name"})
            patches.append(new)
            update.changes.append(FieldChange(f"SKU {sku}", "", "new variant"))
            continue
        patch: dict[str, Any] = {}
        for column, key in _VARIANT_CELLS.items():
            cell = row.cells[column]
            value: Any = int(cell) if key == "stock" and cell.isdigit() else cell
            if cell and not _same(key, getattr(variant, key), value):
                patch[key] = value
                update.changes.append(FieldChange(f"SKU {sku} {column}", _text(getattr(variant, key)), cell))
        if attributes and attributes != dict(variant.attributes or {}):
            patch["attributes"] = attributes
            update.changes.append(FieldChange(f"SKU {sku} options", _text(variant.attributes), _text(attributes)))
        if patch:
            patches.append({"id": variant.id, **patch})
    if patches:
        update.patch["variants"] = patches
    return ok


def _bundle_changes(entry: _Product, product: MasterProduct, session: Session, update: ProductUpdate) -> None:
    """The bundle cells of an updated product that differ from its variants' components now."""
    rows = [row for row in entry.rows if row.cells["bundle"]]
    if not rows:
        return
    own = {v.sku.lower(): v.id for v in product.variants}
    current = bundles.components(session, list(own.values()))
    for row in rows:
        sku = row.cells["sku"]
        wanted = parse_bundle(row.cells["bundle"])
        variant_id = own.get(sku.lower())
        now = [(part.sku, part.quantity) for part in current.get(variant_id, [])] if variant_id is not None else []
        if {(s.lower(), q) for s, q in now} != {(s.lower(), q) for s, q in wanted}:
            update.bundle_changes[sku] = wanted
            shown = format_bundle(wanted) or NO_COMPONENTS
            update.changes.append(FieldChange(f"SKU {sku} bundle", format_bundle(now), shown))


def _read(data: bytes | str) -> str:
    return _decode(data) if isinstance(data, bytes) else data.removeprefix("\ufeff")


def _plan(session: Session, data: bytes | str, source: str) -> tuple[CsvImportPreview, list[_Product]]:
    """The preview, and the new products ready for the importer's bulk insert."""
    preview = CsvImportPreview(source=source)
    try:
        rows, errors = _parse(_read(data))
    except _FileProblem as problem:
        preview.errors.append(problem.error)
        return preview, []
    preview.rows = len(rows)
    entries = _validate(rows, errors)
    handles = [p.handle for p in entries]
    existing = {p.handle: p for p in session.scalars(sa.select(MasterProduct).where(MasterProduct.handle.in_(handles)))}
    updating = [p for p in entries if p.handle in existing and existing[p.handle].status != "deleted"]
    creating = [p for p in entries if p.handle not in existing or existing[p.handle].status == "deleted"]
    _check_catalog(session, creating, errors)
    skus = [row.cells["sku"].lower() for p in updating for row in p.rows if row.cells["sku"]]
    owners: dict[str, str] = {}
    if skus:
        query = (
            sa.select(sa.func.lower(ProductVariant.sku), MasterProduct.handle)
            .join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
            .where(sa.func.lower(ProductVariant.sku).in_(skus))
        )
        owners = {sku: handle for sku, handle in session.execute(query)}
    planned: list[tuple[_Product, ProductUpdate]] = []
    for entry in updating:
        product = existing[entry.handle]
        if not entry.rows:
            continue
        foreign = {sku: handle for sku, handle in owners.items() if handle != entry.handle}
        update = ProductUpdate(entry.handle, product.id, product.version, product.title, entry.rows[0].line)
        _product_patch(entry, product, update)
        if not _variant_patches(entry, product, foreign, update, errors):
            entry.bad = True
        if not entry.bad:
            _bundle_changes(entry, product, session, update)
        planned.append((entry, update))
    check_bundles(session, [*updating, *creating], errors)
    for entry, update in planned:
        if entry.bad:
            preview.skipped.append(entry.handle)
        elif update.patch or update.bundle_changes:
            preview.updates.append(update)
        else:
            preview.unchanged.append(entry.handle)
    good_new = [p for p in creating if not p.bad]
    preview.skipped += [p.handle for p in creating if p.bad]
    preview.creates = [p.handle for p in good_new]
    preview.new_variants = sum(len(p.rows) for p in good_new)
    preview.errors = sorted(errors, key=_line_order)
    return preview, good_new


def preview_csv_import(session: Session, data: bytes | str, source: str = "upload.csv") -> CsvImportPreview:
    """What importing `data` with "update existing products" would do; writes nothing."""
    return _plan(session, data, source)[0]


def _errors_of(error: InvalidInput, update: ProductUpdate) -> list[RowError]:
    return [RowError(update.line, key, message) for key, message in error.messages.items()]


@requires(Permission.CATALOG_WRITE)
def apply_csv_import(
    actor: Actor | None,
    engine: sa.Engine,
    data: bytes | str,
    *,
    source: str = "upload.csv",
    strict: bool = True,
    expected_versions: Mapping[str, int] | None = None,
) -> CsvImportPreview:
    """Create the new products and update the existing ones of `data`, in one transaction.

    `expected_versions` (handle -> version, from the preview shown) makes a product changed since
    the preview a conflict: ImportNotApplied, nothing written. Strict with any error:
    ImportNotApplied, nothing written. Returns what was done.
    """
    with session_factory(engine)() as session, session.begin():
        preview, new_products = _plan(session, data, source)
        if strict and preview.errors:
            raise ImportNotApplied("nothing was imported: {count} errors (strict mode)", count=len(preview.errors))
        for update in preview.updates:
            wanted = (expected_versions or {}).get(update.handle, update.version)
            try:
                if update.patch:
                    commands.update_product(actor, session, update.product_id, expected_version=wanted,
                                            changes=update.patch)  # fmt: skip
                elif wanted != update.version:
                    raise VersionConflict("product", update.product_id, wanted, update.version)
            except VersionConflict as error:
                raise ImportNotApplied(
                    "nothing was imported: product {handle} changed since the preview (version {expected} "
                    "-> {current}); check the file again",
                    handle=update.handle,
                    expected=error.expected,
                    current=error.current,
                ) from None
            except InvalidInput as error:
                problems = joined([str(problem) for problem in _errors_of(error, update)])
                raise ImportNotApplied("nothing was imported: {problems}", problems=problems) from None
        if new_products:
            _write_chunk(session, actor, new_products, source, utcnow())
        _set_bundles(actor, session, preview.updates, new_products)
        audit.record(session, actor, "catalog.import", "catalog", None, after={
            "file": source, "rows": preview.rows, "products_created": len(preview.creates),
            "variants_created": preview.new_variants, "products_updated": len(preview.updates),
            "skipped_products": len(preview.skipped), "errors": len(preview.errors), "strict": strict,
        })  # fmt: skip
    return preview


def _set_bundles(
    actor: Actor | None, session: Session, updates: Sequence[ProductUpdate], new_products: Sequence[_Product]
) -> None:
    """The bundle components of the updated and the new products (after their variants are written)."""
    changed = {sku: components for update in updates for sku, components in update.bundle_changes.items()}
    ids = _catalog_skus(session, [sku.lower() for sku in changed])
    try:
        for sku, components in changed.items():
            bundles.set_components(actor, session, ids[sku.lower()], components)
        write_bundles(session, actor, new_products)
    except InvalidInput as error:
        raise ImportNotApplied("nothing was imported: {problems}", problems=joined(error.messages.values())) from None


def summary(preview: CsvImportPreview, *, applied: bool) -> str:
    """One line: "12 rows: 3 products created (5 variants), 2 updated, 1 skipped, 1 error"."""
    verb = ("created", "updated") if applied else ("to create", "to update")
    parts = [f"{len(preview.creates)} products {verb[0]} ({preview.new_variants} variants)",
             f"{len(preview.updates)} {verb[1]}"]  # fmt: skip
    if preview.unchanged:
        parts.append(f"{len(preview.unchanged)} unchanged")
    if preview.skipped:
        parts.append(f"{len(preview.skipped)} skipped")
    if preview.errors:
        parts.append(f"{len(preview.errors)} error{'s' if len(preview.errors) != 1 else ''}")
    return f"{preview.source}: {preview.rows} rows: " + ", ".join(parts)


def change_rows(updates: Sequence[ProductUpdate]) -> list[dict[str, str]]:
    """The preview's changes as table rows (product, field, old, new)."""
    return [{"product": u.handle, "field": c.field, "old": c.old, "new": c.new} for u in updates for c in u.changes]
