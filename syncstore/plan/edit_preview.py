# What a product edit would send to each shop, computed from the edited fields without saving anything.
"""The sync preview of an unsaved product edit.

    preview = preview_edit(engine, product_id, {"base_price": "12.90", "variants": [{"id": 7, "stock": 3}]})
    for shop in preview.shops:
        for line in shop.lines:          # "price 10.00 -> 12.90" of one SKU of one shop
            ...

`changes` has the shape `syncstore.catalog.commands.update_product` takes (the editor's patch):
master fields as entered (text or Decimal) and `variants`, a list of variant patches with `id`
(new variants have none). The master side of the plan (`syncstore.plan.inputs.load_inputs`) is
loaded as saved, the edits are applied to its frames in memory (variants' title, description,
images, category, status, price, stock, SKU, active; the stock edit lands on the default location,
as a save puts it), and each connected shop is planned as the sync would (`build.plan_shop`, rules
and overrides included). Nothing is written. Each line says what the shop has now and what it would
get ("old -> new"). A value that is not valid (a price "abc") is left as saved and named in `ignored`;
the save itself says what is wrong with it. New variants (no id yet) are listed in `ignored` too:
they reach the shops after the save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, StockLocation
from syncstore.errors import NotFoundError
from syncstore.inventory import availability
from syncstore.plan import build
from syncstore.plan import inputs as sync_inputs
from syncstore.plan.calls import estimate_calls
from syncstore.plan.changes import PlannedChange

# The fields a shop receives, in the order they are shown.
SHOP_FIELDS = ("price", "stock", "title", "description", "images")
_TEXT_FIELDS = ("title", "description", "category")
_MONEY_STEP = Decimal("0.01")


@dataclass(frozen=True)
class FieldChange:
    """One field going from `before` to `after` (as text); `sku` names the variant when the field is one of a SKU."""

    field: str
    before: str
    after: str
    sku: str | None = None


@dataclass(frozen=True)
class ShopPreview:
    """What one shop would get: its field changes, listing actions, refused changes and the calls it takes."""

    connection_id: int
    platform: str
    shop_name: str
    lines: tuple[FieldChange, ...]
    actions: tuple[tuple[str, str | None], ...]  # (listing action: create | activate | deactivate | bind, SKU/item)
    issues: tuple[tuple[str, str, str], ...]  # (target, field, message) a change the platform would refuse
    conflicts: int
    api_calls: int

    @property
    def in_sync(self) -> bool:
        return not self.lines and not self.actions and not self.issues


@dataclass(frozen=True)
class EditPreview:
    product_id: int
    master: tuple[FieldChange, ...]  # the edits themselves, saved value -> entered value
    shops: tuple[ShopPreview, ...]
    ignored: tuple[str, ...] = field(default=())  # edits the preview could not apply (bad value, new variant)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(_MONEY_STEP)) if value == value.quantize(_MONEY_STEP) else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _money(value: object) -> Decimal | None:
    """A positive price as entered, or None when it is not one."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount.quantize(_MONEY_STEP) if amount.is_finite() and amount > 0 else None


def _stock(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


@dataclass
class _Edited:
    """The saved product and the edits as they apply to the plan's frames."""

    product: dict[str, Any] = field(default_factory=dict)  # frame column -> new value (every variant)
    prices: dict[int, Decimal] = field(default_factory=dict)  # variant -> effective price
    stock: dict[int, int] = field(default_factory=dict)  # variant -> new on hand
    skus: dict[int, str] = field(default_factory=dict)
    active: dict[int, bool] = field(default_factory=dict)
    master: list[FieldChange] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _read_edits(product: MasterProduct, changes: Mapping[str, Any]) -> _Edited:
    edited = _Edited()
    for name in _TEXT_FIELDS:
        if name in changes:
            value = "" if changes[name] is None else str(changes[name])
            edited.product[name] = value
            edited.master.append(FieldChange(name, _text(getattr(product, name)), value))
    if "images" in changes:
        images = [str(image) for image in changes["images"] or []]
        edited.product["images"] = images
        edited.master.append(FieldChange("images", _text(list(product.images)), _text(images)))
    if "status" in changes:
        edited.product["product_status"] = str(changes["status"])
        edited.master.append(FieldChange("status", product.status, str(changes["status"])))
    base = product.base_price
    if "base_price" in changes:
        entered = _money(changes["base_price"])
        if entered is None:
            edited.ignored.append(f"base price {_text(changes['base_price'])!r}: not a price")
        else:
            base = entered
            edited.master.append(FieldChange("base price", _text(product.base_price), _text(entered)))
    variants = {variant.id: variant for variant in product.variants}
    patches = {int(patch["id"]): patch for patch in changes.get("variants") or () if patch.get("id") in variants}
    for patch in changes.get("variants") or ():
        if patch.get("id") not in variants:
            edited.ignored.append(f"new variant {patch.get('sku') or ''}: sent to the shops after it is saved".strip())
    for variant_id, variant in variants.items():
        patch = patches.get(variant_id, {})
        own_price = variant.price
        if "price" in patch:
            entered_price = None if patch["price"] in (None, "") else _money(patch["price"])
            if patch["price"] not in (None, "") and entered_price is None:
                edited.ignored.append(f"{variant.sku} price {_text(patch['price'])!r}: not a price")
            else:
                own_price = entered_price
                edited.master.append(FieldChange("price", _text(variant.price or base), _text(own_price or base),
                                                 variant.sku))  # fmt: skip
        effective = own_price if own_price is not None else base
        if effective != (variant.price if variant.price is not None else product.base_price):
            edited.prices[variant_id] = effective
        if "stock" in patch:
            stock = _stock(patch["stock"])
            if stock is None:
                edited.ignored.append(f"{variant.sku} on hand {_text(patch['stock'])!r}: not a quantity")
            elif stock != variant.stock:
                edited.stock[variant_id] = stock
                edited.master.append(FieldChange("on hand", str(variant.stock), str(stock), variant.sku))
        if patch.get("sku") and patch["sku"] != variant.sku:
            edited.skus[variant_id] = str(patch["sku"])
            edited.master.append(FieldChange("SKU", variant.sku, str(patch["sku"]), variant.sku))
        if "is_active" in patch and bool(patch["is_active"]) != variant.is_active:
            edited.active[variant_id] = bool(patch["is_active"])
            edited.master.append(FieldChange("active", _yes(variant.is_active), _yes(bool(patch["is_active"])),
                                             variant.sku))  # fmt: skip
    return edited


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _per_variant(column: str, values: Mapping[int, Any], dtype: pl.DataType) -> pl.Expr:
    if not values:
        return pl.col(column)
    ids = list(values)
    mapped = pl.col("variant_id").replace_strict(ids, [values[i] for i in ids], default=None, return_dtype=dtype)
    return pl.when(pl.col("variant_id").is_in(ids)).then(mapped).otherwise(pl.col(column)).alias(column)


def _edit_variants(frame: pl.DataFrame, edited: _Edited) -> pl.DataFrame:
    schema = frame.schema
    product_columns = [pl.lit(value, dtype=schema[name]).alias(name) for name, value in edited.product.items()
                       if name != "images"]  # fmt: skip
    if "images" in edited.product:
        product_columns.append(pl.lit(pl.Series([edited.product["images"]], dtype=schema["images"])).first()
                               .alias("images"))  # fmt: skip
    frame = frame.with_columns(product_columns) if product_columns else frame
    return frame.with_columns(
        _per_variant("price", edited.prices, schema["price"]),
        _per_variant("stock", edited.stock, schema["stock"]),
        _per_variant("sku", edited.skus, schema["sku"]),
        _per_variant("variant_active", edited.active, schema["variant_active"]),
    ).with_columns(available=pl.col("stock") - pl.col("reserved"))


def _default_location(engine: sa.Engine) -> int:
    with transaction(engine) as session:
        found = session.scalar(sa.select(StockLocation.id).where(StockLocation.is_default).limit(1))
    return int(found) if found is not None else 0


def _edit_stock(engine: sa.Engine, inputs: sync_inputs.CatalogInputs, saved: Mapping[int, int],
                edited: _Edited) -> sync_inputs.CatalogInputs:  # fmt: skip
    """The stock edits on the default location (what a save does), and each shop's available again."""
    if inputs.stock is None or not edited.stock:
        return inputs
    delta = {variant_id: stock - saved[variant_id] for variant_id, stock in edited.stock.items()}
    default = _default_location(engine)
    levels = inputs.stock.levels.with_columns(
        pl.when(pl.col("location_id") == default)
        .then(pl.col("on_hand") + pl.col("variant_id").replace_strict(list(delta), list(delta.values()), default=0,
                                                                      return_dtype=pl.Int64))
        .otherwise(pl.col("on_hand"))
        .alias("on_hand")
    )  # fmt: skip
    stock = replace(inputs.stock, levels=levels)
    known = inputs.shop_available["connection_id"].unique().to_list() if inputs.shop_available is not None else []
    return replace(inputs, stock=stock, shop_available=availability.shop_quantities(stock, known))


def _shop_preview(engine: sa.Engine, shop: sync_inputs.Shop, inputs: sync_inputs.CatalogInputs) -> ShopPreview:
    planning = build.plan_shop(engine, shop, inputs)
    lines: list[FieldChange] = []
    actions: list[tuple[str, str | None]] = []
    for row in planning.frame.iter_rows(named=True):
        action = row["listing_action"]
        if action in ("create", "activate", "deactivate", "bind"):
            actions.append((action, row.get("sku") or row.get("seller_sku") or row.get("remote_item_id")))
        if action in ("deactivate", "orphan", "none", None):
            continue
        for name in SHOP_FIELDS:
            if row.get(f"{name}_action") != "push" and not (action == "create" and name in ("price", "stock")):
                continue
            sku = row.get("sku") or row.get("seller_sku") if name in ("price", "stock") else None
            line = FieldChange(name, _text(row.get(f"remote_{name}")), _text(row.get(f"desired_{name}")), sku)
            if line not in lines:  # item fields repeat on each SKU row of the listing
                lines.append(line)
    issues = [(change.sku or change.remote_item_id or "product", issue.field, issue.message)
              for change in planning.changes for issue in change.issues]  # fmt: skip
    return ShopPreview(
        connection_id=shop.connection_id, platform=shop.platform, shop_name=shop.shop_name, lines=tuple(lines),
        actions=tuple(dict.fromkeys(actions)), issues=tuple(issues), conflicts=len(planning.conflicts),
        api_calls=estimate_calls(shop.platform, _valid(planning.changes)),
    )  # fmt: skip


def _valid(changes: Sequence[PlannedChange]) -> list[PlannedChange]:
    return [change for change in changes if change.valid]


def preview_edit(engine: sa.Engine, product_id: int, changes: Mapping[str, Any] | None = None) -> EditPreview:
    """What saving `changes` to the product would send to each connected shop (nothing is written)."""
    with transaction(engine) as session:
        product = session.scalar(
            sa.select(MasterProduct).where(MasterProduct.id == product_id).options(selectinload(MasterProduct.variants))
        )
        if product is None or product.status == "deleted":
            raise NotFoundError("product {product_id} not found", product_id=product_id)
        edited = _read_edits(product, changes or {})
        saved_stock = {variant.id: variant.stock for variant in product.variants}
    inputs = sync_inputs.load_inputs(engine, product_ids=[product_id])
    inputs = replace(inputs, variants=_edit_variants(inputs.variants, edited))
    inputs = _edit_stock(engine, inputs, saved_stock, edited)
    shops = tuple(_shop_preview(engine, shop, inputs) for shop in sync_inputs.shops(engine))
    return EditPreview(product_id, tuple(edited.master), shops, tuple(edited.ignored))
