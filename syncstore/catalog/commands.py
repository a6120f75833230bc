# Commands on the master catalog: create, update, delete products and variants; set and remove platform overrides.
"""The master catalog's commands (its reads for the app are in `syncstore.catalog.reads`).

Each command validates its whole input first (one InvalidInput naming every bad field), then
writes the product rows, ONE outbox event and ONE audit row in the caller's transaction, so
the change, its announcement to the sync pipeline and its audit trail commit or roll back
together. Updates name the version they read; a stale version raises VersionConflict before
anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.catalog.reads import OverrideView, get_product
from syncstore.catalog.schema import (
    ImageUrl,
    Price,
    ProductInput,
    ProductPatch,
    Title,
    VariantInput,
    VariantPatch,
)
from syncstore.db.models import InventoryHistory, LocationStock, MasterProduct, PlatformOverride, ProductVariant
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, Message, NotFoundError, VersionConflict, field_messages, joined, msg
from syncstore.events import outbox
from syncstore.inventory import bundles, ledger
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.settings import get_settings

PRODUCT_FIELDS = (
    "handle", "title", "description", "category", "brand", "base_price", "currency",
    "weight_kg", "length_cm", "width_cm", "height_cm", "images", "tags", "status",
)  # fmt: skip
VARIANT_FIELDS = (
    "sku", "name", "price", "stock", "attributes", "barcode", "image_url", "weight_kg",
    "low_stock_threshold", "is_active",
)  # fmt: skip


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: M | Mapping[str, Any]) -> tuple[M | None, dict[str, Message]]:
    """The validated model, or None and the error of every invalid field."""
    if isinstance(data, model):
        return data, {}
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        return None, field_messages(error)


def _raw_variants(data: BaseModel | Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The variant entries as given, so database checks can run even when other fields are invalid."""
    if isinstance(data, BaseModel):
        return [v.model_dump(exclude_unset=True) for v in getattr(data, "variants", None) or []]
    variants = data.get("variants") or []
    return [v for v in variants if isinstance(v, Mapping)] if isinstance(variants, list) else []


def _given_skus(raw: Sequence[Mapping[str, Any]]) -> list[tuple[int, str]]:
    return [(i, v["sku"].strip()) for i, v in enumerate(raw) if isinstance(v.get("sku"), str) and v["sku"].strip()]


def _plain(value: Any) -> Any:
    """pydantic URL objects to strings, for storing in JSON and text columns."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is not None and type(value).__name__ in {"HttpUrl", "Url", "AnyUrl"}:
        return str(value)
    return value


def product_snapshot(product: MasterProduct) -> dict[str, Any]:
    """The product and its variants as plain JSON-able data (for audit rows and the UI)."""
    data = {field: getattr(product, field) for field in PRODUCT_FIELDS}
    data["id"], data["version"] = product.id, product.version
    data["variants"] = [
        {"id": v.id, **{field: getattr(v, field) for field in VARIANT_FIELDS}} for v in product.variants
    ]
    return audit.to_json(data)  # type: ignore[no-any-return]


def _sku_owners(session: Session, skus: Sequence[str], exclude_variant_ids: Sequence[int] = ()) -> dict[str, int]:
    """Which product already uses each SKU (case-insensitive), ignoring the given variants."""
    if not skus:
        return {}
    query = sa.select(sa.func.lower(ProductVariant.sku), ProductVariant.product_id).where(
        sa.func.lower(ProductVariant.sku).in_([s.lower() for s in skus])
    )
    if exclude_variant_ids:
        query = query.where(ProductVariant.id.not_in(exclude_variant_ids))
    return {sku: product_id for sku, product_id in session.execute(query)}


def _ledger(session: Session, actor: Actor | None, variant: ProductVariant, previous: int, reason: str) -> None:
    """The ledger row of a stock edit: the default location's on hand (the total minus the other locations)."""
    if previous == variant.stock:
        return
    default_id = ledger.default_location_id(session)
    at = ledger.location_quantities(session, variant, default_id)
    on_hand, reserved = at[default_id]
    session.add(
        InventoryHistory(
            product_id=variant.product_id,
            variant_id=variant.id,
            previous_quantity=on_hand - (variant.stock - previous),
            new_quantity=on_hand,
            previous_reserved=reserved,
            new_reserved=reserved,
            change_reason=reason,
            changed_by=actor.label if actor else "",
            location_id=default_id,
        )
    )


def _check_located_stock(session: Session, patches: Sequence[VariantPatch]) -> dict[str, Message]:
    """A variant's stock set here is the DEFAULT location's on hand plus what the other locations hold.

    A total below what the other locations hold is refused, naming the number.
    """
    wanted = {
        p.id: p.stock for p in patches if p.id is not None and "stock" in p.model_fields_set and p.stock is not None
    }
    if not wanted:
        return {}
    held = dict(
        session.execute(
            sa.select(LocationStock.variant_id, sa.func.sum(LocationStock.on_hand))
            .where(LocationStock.variant_id.in_(list(wanted)))
            .group_by(LocationStock.variant_id)
        ).all()
    )
    short = [(v, stock, int(held[v])) for v, stock in wanted.items() if held.get(v) and stock < held[v]]
    if not short:
        return {}
    problems = [
        msg(
            "variant {variant_id}: {stock} is below the {others} held at other locations "
            "(set at least {others}, or transfer them)",
            variant_id=v,
            stock=stock,
            others=others,
        )
        for v, stock, others in short
    ]
    return {"stock": joined(problems)}


def _announce_bundles(session: Session, variant_ids: Sequence[int]) -> None:
    """A component's stock edit changes the bundles containing it (other products): announce them to the push."""
    containing = bundles.bundles_containing(session, variant_ids)
    bundle_ids = sorted({b for ids in containing.values() for b in ids})
    if bundle_ids:
        ledger.announce(session, bundle_ids, "component stock edited")


def _announce(
    session: Session, product: MasterProduct, event_type: str, variant_ids: list[int], **details: Any
) -> None:
    """The one outbox event of a catalog command: the sync pipeline reads these."""
    payload = {"product_id": product.id, "variant_ids": variant_ids, **details}
    outbox.publish(session, aggregate_type="product", aggregate_id=product.id, event_type=event_type, payload=payload)


def _new_variant(data: VariantInput | VariantPatch) -> ProductVariant:
    values = {f: _plain(getattr(data, f)) for f in VARIANT_FIELDS if getattr(data, f) is not None}
    values.setdefault("attributes", {})
    return ProductVariant(**values)


@requires(Permission.CATALOG_WRITE)
def create_product(actor: Actor | None, session: Session, data: ProductInput | Mapping[str, Any]) -> MasterProduct:
    """Create a product with its variants; announces `product.created` to the sync pipeline."""
    product_input, errors = _validate(ProductInput, data)
    given = _given_skus(_raw_variants(data))
    owners = _sku_owners(session, [sku for _, sku in given])
    for index, sku in given:
        if sku.lower() in owners:
            errors.setdefault(
                f"variants.{index}.sku",
                msg("SKU {sku} is already used by product #{owners}", sku=sku, owners=owners[sku.lower()]),
            )
    if product_input is not None:
        handle = product_input.handle or product_input.variants[0].sku.lower()
        if session.scalar(sa.select(MasterProduct.id).where(MasterProduct.handle == handle)) is not None:
            errors["handle"] = msg("handle {handle} is already used by another product", handle=handle)
    if errors or product_input is None:
        raise InvalidInput(errors)

    values = {f: _plain(getattr(product_input, f)) for f in PRODUCT_FIELDS}
    values["handle"] = handle
    values["currency"] = product_input.currency or get_settings().currency
    product = MasterProduct(**values, variants=[_new_variant(v) for v in product_input.variants])
    session.add(product)
    session.flush()
    for variant in product.variants:
        _ledger(session, actor, variant, 0, "manual")
    _announce(session, product, "product.created", [v.id for v in product.variants])
    audit.record(session, actor, "product.create", "product", product.id, after=product_snapshot(product))
    return product


def _claim_version(session: Session, product_id: int, expected_version: int) -> None:
    """Bump the version only if it is still the one the caller read (atomic compare-and-set)."""
    result = session.execute(
        sa.update(MasterProduct)
        .where(MasterProduct.id == product_id, MasterProduct.version == expected_version)
        .values(version=expected_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return
    current = session.scalar(sa.select(MasterProduct.version).where(MasterProduct.id == product_id))
    if current is None:
        raise NotFoundError("product {product_id} not found", product_id=product_id)
    raise VersionConflict("product", product_id, expected_version, current)


def claim_version(session: Session, product_id: int, expected_version: int) -> None:
    """Bump a product's version if it is still `expected_version`, else VersionConflict (for other commands)."""
    _claim_version(session, product_id, expected_version)


# Fields a patch may set back to empty; setting any other field to empty is an error.
_NULLABLE = frozenset({"price", "barcode", "image_url", "weight_kg", "low_stock_threshold"})
_REQUIRED_PRODUCT_FIELDS = frozenset(
    {
        "handle",
        "title",
        "description",
        "category",
        "brand",
        "base_price",
        "currency",
        "images",
        "tags",
        "status",
    }
)


def _check_variant_patches(
    session: Session, product: MasterProduct, raw: Sequence[Mapping[str, Any]]
) -> dict[str, Message]:
    """Errors only the database can find: foreign variant ids, SKUs used elsewhere, emptied fields."""
    errors: dict[str, Message] = {}
    own_ids = {v.id for v in product.variants}
    for index, entry in enumerate(raw):
        variant_id = entry.get("id")
        if variant_id is not None and variant_id not in own_ids:
            errors[f"variants.{index}.id"] = msg(
                "variant {variant_id} does not belong to product {product_id}",
                variant_id=variant_id,
                product_id=product.id,
            )
        for field, value in entry.items():
            if value is None and field not in _NULLABLE and field != "id":
                errors[f"variants.{index}.{field}"] = msg("cannot be empty")
    given = _given_skus(raw)
    lowered = [sku.lower() for _, sku in given]
    for i, sku in given:
        if lowered.count(sku.lower()) > 1:
            errors[f"variants.{i}.sku"] = msg("SKU {sku} appears twice in this product", sku=sku)
    renamed_ids = [raw[i]["id"] for i, _ in given if isinstance(raw[i].get("id"), int)]
    owners = _sku_owners(session, [sku for _, sku in given], exclude_variant_ids=renamed_ids)
    for i, sku in given:
        owner = owners.get(sku.lower())
        if owner is not None:
            errors.setdefault(
                f"variants.{i}.sku", msg("SKU {sku} is already used by product #{owner}", sku=sku, owner=owner)
            )
    return errors


@requires(Permission.CATALOG_WRITE)
def update_product(
    actor: Actor | None,
    session: Session,
    product_id: int,
    *,
    expected_version: int,
    changes: ProductPatch | Mapping[str, Any],
) -> MasterProduct:
    """Change product fields and variants (patch with `id` edits, without `id` adds).

    Raises VersionConflict, writing nothing, when the product changed since `expected_version`.
    """
    patch, errors = _validate(ProductPatch, changes)
    _claim_version(session, product_id, expected_version)
    product = get_product(session, product_id)
    errors.update(_check_variant_patches(session, product, _raw_variants(changes)))
    if patch is None:
        raise InvalidInput(errors)
    new_handle = patch.changed_fields().get("handle")
    if new_handle and new_handle != product.handle:
        taken = session.scalar(sa.select(MasterProduct.id).where(MasterProduct.handle == new_handle))
        if taken is not None:
            errors["handle"] = msg(
                "handle {new_handle} is already used by product #{taken}", new_handle=new_handle, taken=taken
            )
    product_fields = patch.changed_fields()
    dimensions = [product_fields.get(f, getattr(product, f)) for f in ("length_cm", "width_cm", "height_cm")]
    if any(d is not None for d in dimensions) and any(d is None for d in dimensions):
        errors["dimensions"] = msg("length_cm, width_cm and height_cm must be given together")
    for field, value in product_fields.items():
        if value is None and field in _REQUIRED_PRODUCT_FIELDS:
            errors[field] = msg("cannot be empty")
    errors.update(_check_located_stock(session, patch.variants or []))
    if errors:
        raise InvalidInput(errors)

    before = product_snapshot(product)
    before["version"] = expected_version
    for field, value in product_fields.items():
        setattr(product, field, _plain(value))

    by_id = {v.id: v for v in product.variants}
    touched: list[int] = []
    stock_before: dict[int, int] = {}
    for variant_patch in patch.variants or []:
        values = variant_patch.model_dump(exclude_unset=True, exclude={"id"})
        if variant_patch.id is None:
            variant = _new_variant(variant_patch)
            product.variants.append(variant)
            session.flush()
            stock_before[variant.id] = 0
        else:
            variant = by_id[variant_patch.id]
            stock_before.setdefault(variant.id, variant.stock)
            for field, value in values.items():
                setattr(variant, field, _plain(value))
        touched.append(variant.id)
    session.flush()
    for variant in product.variants:
        if variant.id in stock_before:
            _ledger(session, actor, variant, stock_before[variant.id], "manual")
    _announce_bundles(session, [v.id for v in product.variants if stock_before.get(v.id, v.stock) != v.stock])

    _announce(session, product, "product.updated", touched, version=product.version, fields=sorted(product_fields))
    audit.record(
        session,
        actor,
        "product.update",
        "product",
        product.id,
        before=before,
        after=product_snapshot(product),
    )
    return product


@requires(Permission.CATALOG_WRITE)
def delete_product(actor: Actor | None, session: Session, product_id: int, *, expected_version: int) -> MasterProduct:
    """Delete a product: it leaves the catalog and its listings are taken down on every shop.

    The row stays (status `deleted`) so history, sync logs and bindings keep their meaning.
    """
    _claim_version(session, product_id, expected_version)
    product = get_product(session, product_id)
    before = product_snapshot(product)
    before["version"] = expected_version
    product.status = "deleted"
    product.deleted_at = utcnow()
    for variant in product.variants:
        variant.is_active = False
    session.flush()
    _announce(session, product, "product.deleted", [v.id for v in product.variants])
    audit.record(session, actor, "product.delete", "product", product.id, before=before, after=None)
    return product


# --- per-platform overrides ------------------------------------------------------------------

# The fields a platform override may replace, and whether a variant-level override is allowed
# (must agree with syncstore.plan.reconcile.OVERRIDABLE, which applies them).
OVERRIDE_FIELDS: dict[str, bool] = {"price": True, "title": False, "description": False, "images": False}


class _OverrideValue(BaseModel):
    price: Price | None = None
    title: Title | None = None
    description: str | None = Field(default=None, max_length=20_000)
    images: list[ImageUrl] | None = Field(default=None, min_length=1, max_length=20)


def _checked_override(platform: str, field: str, value: Any, variant_id: int | None) -> Any:
    """The JSON value to store, or InvalidInput naming what is wrong."""
    errors: dict[str, Message] = {}
    if not registry.is_platform(platform):
        errors["platform"] = msg("must be one of {choices}", choices=", ".join(registry.names()))
    if field not in OVERRIDE_FIELDS:
        errors["field"] = msg("must be one of {choices}", choices=", ".join(OVERRIDE_FIELDS))
    elif variant_id is not None and not OVERRIDE_FIELDS[field]:
        errors["field"] = msg("{field} can be overridden for the whole product only", field=field)
    if errors:
        raise InvalidInput(errors)
    checked, value_errors = _validate(_OverrideValue, {field: value})
    if checked is None or getattr(checked, field) is None:
        raise InvalidInput({field: value_errors.get(field, "cannot be empty")})
    stored = _plain(getattr(checked, field))
    return str(stored) if field == "price" else stored


@requires(Permission.CATALOG_WRITE)
def set_override(
    actor: Actor | None,
    session: Session,
    product_id: int,
    *,
    platform: str,
    field: str,
    value: Any,
    variant_id: int | None = None,
) -> OverrideView:
    """Show `value` instead of the master `field` on every shop of `platform` (creates or replaces)."""
    stored = _checked_override(platform, field, value, variant_id)
    product = get_product(session, product_id)
    if variant_id is not None and variant_id not in {v.id for v in product.variants}:
        raise InvalidInput(
            {
                "variant_id": msg(
                    "variant {variant_id} does not belong to product {product_id}",
                    variant_id=variant_id,
                    product_id=product_id,
                )
            }
        )
    row = session.scalar(
        sa.select(PlatformOverride).where(
            PlatformOverride.product_id == product_id,
            PlatformOverride.variant_id.is_(None) if variant_id is None else PlatformOverride.variant_id == variant_id,
            PlatformOverride.platform == platform,
            PlatformOverride.field == field,
        )
    )
    before = None if row is None else {"value": row.value}
    if row is None:
        row = PlatformOverride(product_id=product_id, variant_id=variant_id, platform=platform, field=field)
        session.add(row)
    # A value set by a person is the merchant's own, even where a marketplace value was adopted before.
    row.value, row.from_platform, row.updated_by = stored, False, actor.label if actor else ""
    session.flush()
    touched = [variant_id] if variant_id is not None else [v.id for v in product.variants]
    _announce(session, product, "product.updated", touched, fields=[f"override.{platform}.{field}"])
    audit.record(session, actor, "product.override", "product", product_id, before=before,
                 after={"platform": platform, "field": field, "variant_id": variant_id, "value": stored})  # fmt: skip
    return OverrideView.from_row(row)


@requires(Permission.CATALOG_WRITE)
def delete_override(actor: Actor | None, session: Session, override_id: int) -> None:
    """Go back to the master value for that platform and field."""
    row = session.get(PlatformOverride, override_id)
    if row is None:
        raise NotFoundError("override {override_id} not found", override_id=override_id)
    product = get_product(session, row.product_id)
    view = OverrideView.from_row(row)
    session.delete(row)
    session.flush()
    touched = [view.variant_id] if view.variant_id is not None else [v.id for v in product.variants]
    _announce(session, product, "product.updated", touched, fields=[f"override.{view.platform}.{view.field}"])
    audit.record(session, actor, "product.override_delete", "product", view.product_id,
                 before={"platform": view.platform, "field": view.field, "variant_id": view.variant_id,
                         "value": view.value}, after=None)  # fmt: skip
