# The demo's marketplace shops: built from the sample catalog, with deliberate drift, saved as simulator state files.
"""Seed the simulators' shops (Shopee, TikTok Shop, Lazada) from the sample catalog.

A merchant who installs SyncStore already sells on every marketplace, so the shops start full: each
lists the sample catalog under the master's SKUs (they auto-bind on the first sync) with the
master's titles, descriptions, images, prices and stock, except for deliberate drift that the first
sync has something to show for:

- a few products are not listed on a shop (the first sync creates them);
- a few SKUs hold a different stock or price (the master wins: pushed on the first sync);
- two listings per shop carry seller SKUs the master does not know (orphans, left alone).

Conflicting edits (a title changed on TikTok Shop after the first sync) need a baseline, so they are
made later, through the simulator's control API (`demo.control`), not here.

The result is written as each simulator's state file; `demo.marketplace` serves it.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final

from connectors.lazada.simulator.server import LazadaSimulator
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from demo.images import local_url

SHOPEE_SHOP_ID: Final = 100001
SHOPEE_SHOP_NAME: Final = "Kedai Demo (Shopee)"
TIKTOKSHOP_SHOP_ID: Final = "7494000000000000001"
TIKTOKSHOP_SHOP_NAME: Final = "Kedai Demo (TikTok Shop)"
REGION: Final = "MY"
CURRENCY: Final = "MYR"
# A realistic Shopee shop keeps stock in two places (location ids as get_warehouse_detail names them).
SHOPEE_LOCATIONS: Final = ("MYZ01", "MYZ02")
# A cross-border TikTok Shop seller with two sales warehouses: customers pay the price plus tax
# (`sale_price`), SyncStore writes and compares the pre-tax `tax_exclusive_price`.
TIKTOKSHOP_SELLER_TYPE: Final = "CROSS_BORDER"
TIKTOKSHOP_WAREHOUSES: Final = 2
TIKTOKSHOP_TAX_RATE: Final = Decimal("0.10")
# TikTok Shop audits creates and edits before they show (simulated seconds).
TIKTOKSHOP_AUDIT_DELAY_S: Final = 5.0
# A Malaysian Lazada seller with one (the default) warehouse; its products go through QC (simulated seconds).
LAZADA_SELLER_ID: Final = "1000000001"
LAZADA_SHOP_NAME: Final = "Kedai Demo (Lazada)"
LAZADA_COUNTRY: Final = "my"
LAZADA_QC_DELAY_S: Final = 5.0
# The simulator's leaf category the demo maps every master category to.
LAZADA_CATEGORY_ID: Final = "20001"
# How much drift each shop starts with (enough to see, small enough to settle in seconds).
UNLISTED_PER_SHOP: Final = 3
STOCK_DRIFT_PER_SHOP: Final = 8
PRICE_DRIFT_PER_SHOP: Final = 4
ORPHANS_PER_SHOP: Final = 2


@dataclass(frozen=True)
class CatalogVariant:
    sku: str
    price: Decimal
    stock: int
    options: dict[str, str]


@dataclass(frozen=True)
class CatalogProduct:
    handle: str
    title: str
    description: str
    images: tuple[str, ...]
    weight_kg: Decimal
    dimensions_cm: tuple[str, str, str] | None
    active: bool = True
    variants: list[CatalogVariant] = field(default_factory=list)


@dataclass(frozen=True)
class ShopSeed:
    """What a seeded shop holds and how it differs from the master."""

    platform: str
    shop_id: str
    listed_products: int
    listed_skus: int
    unlisted: tuple[str, ...]  # product handles the first sync should create
    stock_drift: tuple[str, ...]  # SKUs whose stock differs from the master
    price_drift: tuple[str, ...]  # SKUs whose price differs from the master
    orphans: tuple[str, ...]  # seller SKUs the master does not know


def read_catalog(path: Path, image_base: str | None = None) -> list[CatalogProduct]:
    """The products of a catalog CSV (syncstore/catalog/csv_format.py format), in file order; with
    `image_base`, placeholder image URLs point at the demo's image server (as the master's do)."""
    products: dict[str, CatalogProduct] = {}
    base_prices: dict[str, Decimal] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            key = row["handle"].strip()
            product = products.get(key)
            if product is None:
                dims = (row["length_cm"].strip(), row["width_cm"].strip(), row["height_cm"].strip())
                product = CatalogProduct(
                    handle=key,
                    title=row["title"].strip(),
                    description=row["description"].strip(),
                    images=tuple(
                        local_url(url.strip(), image_base) if image_base else url.strip()
                        for url in row["images"].split("|")
                        if url.strip()
                    ),
                    weight_kg=Decimal(row["weight_kg"].strip() or "0.5"),
                    dimensions_cm=dims if all(dims) else None,
                    active=(row.get("status") or "active").strip().lower() != "inactive",
                )
                products[key] = product
                base_prices[key] = Decimal(row["base_price"])
            options = {
                row[name].strip(): row[value].strip()
                for name, value in (("option1_name", "option1_value"), ("option2_name", "option2_value"))
                if (row.get(name) or "").strip()
            }
            price_text = (row["variant_price"] or "").strip()
            product.variants.append(
                CatalogVariant(
                    sku=row["sku"].strip(),
                    price=Decimal(price_text) if price_text else base_prices[key],
                    stock=int(row["stock"] or 0),
                    options=options,
                )
            )
    return list(products.values())


@dataclass(frozen=True)
class _Drift:
    unlisted: frozenset[str]
    stock: dict[str, int]
    price: dict[str, Decimal]


def _plan_drift(products: Sequence[CatalogProduct], rng: random.Random) -> _Drift:
    active = [p for p in products if p.active]
    unlisted = frozenset(p.handle for p in rng.sample(active, UNLISTED_PER_SHOP))
    skus = [v for p in active if p.handle not in unlisted for v in p.variants]
    drifted = rng.sample(skus, STOCK_DRIFT_PER_SHOP + PRICE_DRIFT_PER_SHOP)
    stock = {v.sku: max(0, v.stock + rng.choice((-7, -3, 4, 11))) for v in drifted[:STOCK_DRIFT_PER_SHOP]}
    price = {
        v.sku: (v.price + Decimal(rng.choice(("-2.00", "1.50", "5.00")))).max(Decimal("1.00"))
        for v in drifted[STOCK_DRIFT_PER_SHOP:]
    }
    return _Drift(unlisted, stock, price)


def seed_shopee(sim: ShopeeSimulator, products: Sequence[CatalogProduct], *, seed: int = 7) -> ShopSeed:
    """A shop with two stock locations listing the catalog (an item per product, a model per variant), with drift."""
    drift = _plan_drift(products, random.Random(seed))
    sim.add_shop(SHOPEE_SHOP_ID, SHOPEE_SHOP_NAME, currency=CURRENCY, region=REGION, locations=SHOPEE_LOCATIONS)
    listed = [p for p in products if p.active and p.handle not in drift.unlisted]
    for product in listed:
        dimension = None
        if product.dimensions_cm is not None:
            length, width, height = (max(1, round(Decimal(side))) for side in product.dimensions_cm)
            dimension = {"package_length": length, "package_width": width, "package_height": height}
        variants = product.variants
        single = len(variants) == 1 and not variants[0].options
        sim.add_item(
            SHOPEE_SHOP_ID,
            name=product.title,
            description=product.description,
            item_sku=variants[0].sku if single else product.handle,
            price=drift.price.get(variants[0].sku, variants[0].price),
            stock=drift.stock.get(variants[0].sku, variants[0].stock),
            models=()
            if single
            else [(v.sku, drift.price.get(v.sku, v.price), drift.stock.get(v.sku, v.stock)) for v in variants],
            images=product.images,
            weight=product.weight_kg,
            dimension=dimension,
        )
    orphans = tuple(f"SHOPEE-ONLY-{n}" for n in range(1, ORPHANS_PER_SHOP + 1))
    for sku in orphans:
        sim.add_item(SHOPEE_SHOP_ID, name=f"Clearance bundle {sku[-1]}", item_sku=sku, price="15.00", stock=4)
    return ShopSeed(
        platform="shopee",
        shop_id=str(SHOPEE_SHOP_ID),
        listed_products=len(listed),
        listed_skus=sum(len(p.variants) for p in listed),
        unlisted=tuple(sorted(drift.unlisted)),
        stock_drift=tuple(sorted(drift.stock)),
        price_drift=tuple(sorted(drift.price)),
        orphans=orphans,
    )


def seed_tiktokshop(sim: TikTokShopSimulator, products: Sequence[CatalogProduct], *, seed: int = 11) -> ShopSeed:
    """A cross-border shop (two warehouses, prices plus tax) listing the catalog (a SKU per variant), with drift."""
    drift = _plan_drift(products, random.Random(seed))
    sim.add_shop(
        TIKTOKSHOP_SHOP_ID, TIKTOKSHOP_SHOP_NAME, region=REGION, currency=CURRENCY, seller_type=TIKTOKSHOP_SELLER_TYPE,
        warehouses=TIKTOKSHOP_WAREHOUSES, tax_rate=TIKTOKSHOP_TAX_RATE, audit_delay_s=TIKTOKSHOP_AUDIT_DELAY_S,
    )  # fmt: skip
    listed = [p for p in products if p.active and p.handle not in drift.unlisted]
    for product in listed:
        sim.add_product(
            TIKTOKSHOP_SHOP_ID,
            title=product.title,
            description=product.description,
            images=product.images,
            weight_kg=str(product.weight_kg),
            dimensions_cm=product.dimensions_cm,
            skus=[
                {
                    "seller_sku": v.sku,
                    "price": str(drift.price.get(v.sku, v.price)),
                    "stock": drift.stock.get(v.sku, v.stock),
                    "attributes": v.options,
                }
                for v in product.variants
            ],
        )
    orphans = tuple(f"TIKTOK-ONLY-{n}" for n in range(1, ORPHANS_PER_SHOP + 1))
    for sku in orphans:
        sim.add_product(
            TIKTOKSHOP_SHOP_ID,
            title=f"Live-stream exclusive {sku[-1]}",
            skus=[{"seller_sku": sku, "price": "12.00", "stock": 6}],
        )
    return ShopSeed(
        platform="tiktokshop",
        shop_id=TIKTOKSHOP_SHOP_ID,
        listed_products=len(listed),
        listed_skus=sum(len(p.variants) for p in listed),
        unlisted=tuple(sorted(drift.unlisted)),
        stock_drift=tuple(sorted(drift.stock)),
        price_drift=tuple(sorted(drift.price)),
        orphans=orphans,
    )


def seed_lazada(sim: LazadaSimulator, products: Sequence[CatalogProduct], *, push_url: str, seed: int = 13) -> ShopSeed:
    """A Malaysian seller listing the catalog (a product per master product, a SKU per variant), with drift.

    Lazada has no API to register pushes: the App Console's one push URL per app key is set here.
    """
    drift = _plan_drift(products, random.Random(seed))
    sim.add_seller(LAZADA_SELLER_ID, LAZADA_SHOP_NAME, country=LAZADA_COUNTRY)
    sim.qc_delay_s = LAZADA_QC_DELAY_S
    sim.set_push_url(push_url)
    listed = [p for p in products if p.active and p.handle not in drift.unlisted]
    for product in listed:
        listing = sim.add_product(
            LAZADA_SELLER_ID,
            product.title,
            [(v.sku, drift.price.get(v.sku, v.price), drift.stock.get(v.sku, v.stock)) for v in product.variants],
            category_id=LAZADA_CATEGORY_ID,
            description=product.description,
        )
        # The listing shows the master's images (SyncStore compares image lists as they are).
        listing.images = list(product.images)
        for listed_sku, variant in zip(listing.skus, product.variants, strict=True):
            listed_sku.sale_prop = dict(variant.options)
    orphans = tuple(f"LAZADA-ONLY-{n}" for n in range(1, ORPHANS_PER_SHOP + 1))
    for orphan in orphans:
        title = f"Flash sale bundle {orphan[-1]}"
        sim.add_product(LAZADA_SELLER_ID, title, [(orphan, "18.00", 5)], category_id=LAZADA_CATEGORY_ID)
    return ShopSeed(
        platform="lazada",
        shop_id=LAZADA_SELLER_ID,
        listed_products=len(listed),
        listed_skus=sum(len(p.variants) for p in listed),
        unlisted=tuple(sorted(drift.unlisted)),
        stock_drift=tuple(sorted(drift.stock)),
        price_drift=tuple(sorted(drift.price)),
        orphans=orphans,
    )
