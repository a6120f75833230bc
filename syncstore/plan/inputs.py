# What a shop's plan is made from: the shops, the master catalog through the rules, and listing-draft details.
"""Inputs of the sync plan (read only).

`load_inputs` reads the master side once (variants, overrides, rules, the category map) for every shop
planned together; `desired` turns it into one shop's desired state (`syncstore.plan.reconcile.desired_state`
through `syncstore.plan.rules.apply_rules`); `create_extras` reads what a listing draft needs beyond the plan
frame (weight, parcel box, variant attributes, how many listings of the product were created in the
shop before, which keeps the create key of a re-created listing new, and the publishing requirements:
brand, category attributes, logistics channels, location, and what of them is missing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import polars as pl
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import (
    CategoryMapping,
    MasterProduct,
    PlatformConnection,
    PlatformListingSku,
    ProductVariant,
    SyncLog,
)
from syncstore.errors import NotFoundError
from syncstore.inventory import availability
from syncstore.plan import reconcile, rules
from syncstore.plan.requirements import CreateRequirements, create_requirements
from syncstore.shops.keys import ShopKey


@dataclass(frozen=True)
class Shop:
    connection_id: int
    platform: str
    shop_id: str
    shop_name: str
    status: str
    region: str = ""

    @property
    def shop_key(self) -> str:
        return str(ShopKey(self.platform, self.shop_id))


@dataclass(frozen=True)
class CatalogInputs:
    """The master side of a plan, loaded once for every shop planned together."""

    variants: pl.DataFrame
    overrides: pl.DataFrame
    rules: list[rules.Rule]
    categories: dict[tuple[str, str], str]
    product_ids: list[int] | None
    # Listings the platform's audit refused are sent again, for review (a retry or a publish after a fix).
    resubmit_refused: bool = False
    # Per-location stock, bundle components and shop sources, and from them each shop's own available
    # quantity (connection_id, variant_id, available), computed once for every shop.
    stock: availability.StockFrames | None = None
    shop_available: pl.DataFrame | None = None


def shops(engine: sa.Engine, connection_ids: Sequence[int] | None = None) -> list[Shop]:
    """Connected shops, or the ones given (whatever their status)."""
    with transaction(engine) as session:
        query = sa.select(PlatformConnection).order_by(PlatformConnection.id)
        if connection_ids is None:
            query = query.where(PlatformConnection.status == "connected")
        else:
            query = query.where(PlatformConnection.id.in_(list(connection_ids)))
        rows = session.scalars(query).all()
        found = [Shop(r.id, r.platform, r.shop_id, r.shop_name, r.status, r.region or "") for r in rows]
    missing = set(connection_ids or ()) - {shop.connection_id for shop in found}
    if missing:
        raise NotFoundError("connection {connection_id} not found", connection_id=min(missing))
    return found


def load_inputs(
    engine: sa.Engine,
    *,
    product_ids: Sequence[int] | None = None,
    variant_ids: Sequence[int] | None = None,
    resubmit_refused: bool = False,
) -> CatalogInputs:
    with transaction(engine) as session:
        rule_list = rules.list_rules(session)
        categories = {
            (row.platform, row.master_category): row.remote_category_id
            for row in session.scalars(sa.select(CategoryMapping))
        }
    variants = reconcile.load_variants(engine, product_ids=product_ids, variant_ids=variant_ids)
    # A scoped plan reads the overrides of its products only (rows in proportion to the change).
    scoped = product_ids is not None or variant_ids is not None
    override_products = variants["product_id"].unique().to_list() if scoped else None
    stock = availability.load_stock(engine, variants["variant_id"].to_list() if scoped else None)
    with engine.connect() as connection:
        connection_ids = list(connection.scalars(sa.select(PlatformConnection.id)))
    return CatalogInputs(
        variants=variants,
        overrides=reconcile.load_overrides(engine, product_ids=override_products),
        rules=rule_list,
        categories=categories,
        product_ids=list(product_ids) if product_ids is not None else None,
        resubmit_refused=resubmit_refused,
        stock=stock,
        shop_available=availability.shop_quantities(stock, connection_ids),
    )


def desired(inputs: CatalogInputs, shop: Shop) -> pl.DataFrame:
    """The shop's desired state (reconcile.desired_state through the rules).

    The stock written is SELLABLE stock on every platform (reference principle 3): the master's
    available quantity (on hand minus every unshipped order's reservation, on every channel) after
    the channel's rules. Units of the channel's own orders are never added back: Shopee takes an
    order out of its sellable stock when it is placed, as every other marketplace does.

    The available quantity is the SHOP's (`syncstore.inventory.availability`): the stock of the
    locations it sells, and for a bundle the minimum over its components; so the full sync, the dry
    run and the stock push agree.
    """
    return desired_for(inputs, [shop])


def desired_for(inputs: CatalogInputs, shops_: Sequence[Shop]) -> pl.DataFrame:
    """`desired` of several shops in one pass (rows of every shop, sorted by shop_key and variant)."""
    shops_frame = pl.DataFrame(
        {
            "connection_id": [shop.connection_id for shop in shops_],
            "platform": [shop.platform for shop in shops_],
            "shop_id": [shop.shop_id for shop in shops_],
            "shop_key": [shop.shop_key for shop in shops_],
        },
        schema=dict(reconcile.SHOPS_SCHEMA),
    )
    return reconcile.desired_state(
        inputs.variants, inputs.overrides, shops_frame, partial(_shop_rules, inputs, [s.connection_id for s in shops_])
    )


def _shop_rules(inputs: CatalogInputs, connection_ids: Sequence[int], frame: pl.DataFrame) -> pl.DataFrame:
    """The rules, on each (shop, variant) row's own available quantity (its shop's locations; bundles computed)."""
    if inputs.stock is not None:
        computed = inputs.shop_available
        known = set(computed["connection_id"].unique().to_list()) if computed is not None else set()
        if computed is None or not set(connection_ids) <= known:
            computed = availability.shop_quantities(inputs.stock, connection_ids)
        frame = (
            frame.join(computed.rename({"available": "shop_available"}), on=["connection_id", "variant_id"], how="left")
            .with_columns(pl.coalesce("shop_available", "available").alias("available"))
            .drop("shop_available")
        )
    return rules.apply_rules(frame, rules=inputs.rules)


def shop_currency(engine: sa.Engine, connection_id: int, listing_sku_ids: Sequence[int] = ()) -> str | None:
    """The currency most of the shop's SKUs are priced in, when any is known.

    Counted over `listing_sku_ids` (the SKUs a scoped plan read) when they name one; else over the shop.
    """
    query = (
        sa.select(PlatformListingSku.currency, sa.func.count())
        .where(PlatformListingSku.connection_id == connection_id, PlatformListingSku.currency.is_not(None))
        .group_by(PlatformListingSku.currency)
        .order_by(sa.func.count().desc(), PlatformListingSku.currency)
    )
    with transaction(engine) as session:
        if listing_sku_ids:
            found = session.execute(query.where(PlatformListingSku.id.in_(list(listing_sku_ids))).limit(1)).first()
            if found is not None:
                return str(found[0])
        counts = session.execute(query.limit(1)).first()
    return str(counts[0]) if counts is not None else None


@dataclass(frozen=True)
class ProductExtras:
    weight_kg: Decimal | None
    dimensions: dict[str, str] | None
    attributes: dict[int, dict[str, str]]
    generation: int  # listings of this product created in this shop so far
    # Brand, category attributes, logistics and location, and what of them is missing (publishing).
    requirements: CreateRequirements | None = None


def create_extras(engine: sa.Engine, shop: Shop, product_ids: list[int]) -> dict[int, ProductExtras]:
    """What a listing draft needs beyond the plan: weight, box, variant attributes, create generation."""
    extras: dict[int, ProductExtras] = {}
    with transaction(engine) as session:
        created = dict(
            session.execute(
                sa.select(SyncLog.product_id, sa.func.count())
                .where(
                    SyncLog.connection_id == shop.connection_id,
                    SyncLog.operation == "create",
                    SyncLog.status == "success",
                    SyncLog.product_id.in_(product_ids),
                )
                .group_by(SyncLog.product_id)
            ).all()
        )
        products = session.scalars(sa.select(MasterProduct).where(MasterProduct.id.in_(product_ids))).all()
        categories = {
            (row.platform, row.master_category): row.remote_category_id
            for row in session.scalars(sa.select(CategoryMapping).where(CategoryMapping.platform == shop.platform))
        }
        requirements = create_requirements(
            session, shop.connection_id, shop.platform, {p.id: p.category for p in products}, categories
        )
        variant_rows = session.execute(
            sa.select(ProductVariant.id, ProductVariant.product_id, ProductVariant.attributes, ProductVariant.weight_kg)
            .where(ProductVariant.product_id.in_(product_ids))
            .order_by(ProductVariant.id)
        ).all()
    attributes: dict[int, dict[int, dict[str, str]]] = defaultdict(dict)
    variant_weight: dict[int, Decimal] = {}
    for variant_id, product_id, attrs, weight in variant_rows:
        attributes[product_id][variant_id] = dict(attrs or {})
        if weight is not None:
            variant_weight.setdefault(product_id, weight)
    for product in products:
        box = (product.length_cm, product.width_cm, product.height_cm)
        dimensions = (
            {"length_cm": str(box[0]), "width_cm": str(box[1]), "height_cm": str(box[2])}
            if all(side is not None for side in box)
            else None
        )
        extras[product.id] = ProductExtras(
            weight_kg=product.weight_kg if product.weight_kg is not None else variant_weight.get(product.id),
            dimensions=dimensions,
            attributes=attributes[product.id],
            generation=int(created.get(product.id, 0)),
            requirements=requirements.get(product.id),
        )
    return extras
