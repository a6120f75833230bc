# Bulk filler for the benchmarks: many products (two variants each), listed on some shops, some with overrides.
"""Catalog filler.

`fill(engine, products, shops=...)` adds `products` products after the ones already in the database,
with SQLAlchemy Core bulk inserts (the catalog's validation is not what the benchmarks measure):
two variants each; the first `listed_share` of them listed and in sync (baseline = remote = master)
on every shop given as `(connection_id, platform)`; every `override_every`-th product with a price
override on each shop's platform, which its listing already shows (a full sync finds nothing to do).
The listings point at remote items no simulator holds: they make the shop's snapshot as big as a
real shop's, which is what a sync that reads too much pays for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from syncstore.db.models import (
    MasterProduct,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductVariant,
)
from syncstore.db.types import utcnow

CHUNK = 10_000
DESCRIPTION = "A product made by the benchmark."
CATEGORIES = ("Fashion > T-Shirts", "Fashion > Dresses", "Beauty > Skincare", "Home > Kitchen", "Electronics > Audio")


@dataclass(frozen=True)
class Filled:
    products: int
    variants: int
    listings: int
    overrides: int


def _chunks(first: int, total: int) -> Iterator[range]:
    for start in range(first, first + total, CHUNK):
        yield range(start, min(start + CHUNK, first + total))


def _image(product_id: int) -> str:
    return f"https://images.example.com/bench/{product_id}.jpg"


def _next_id(conn: sa.Connection, model: type[MasterProduct | ProductVariant | PlatformListing]) -> int:
    return int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))) or 0) + 1


def _price(i: int) -> Decimal:
    return Decimal(10 + i % 90) + Decimal("0.90")


def _shown_price(i: int, size: int, override_every: int) -> Decimal:
    """What the shop shows for variant `size` of product `i`: its override where it has one."""
    overridden = override_every and i % override_every == 0 and size == 0
    return _price(i) + 1 if overridden else _price(i)


def fill(
    engine: sa.Engine,
    products: int,
    shops: Sequence[tuple[int, str]] = (),
    *,
    listed_share: float = 1 / 3,
    override_every: int = 10,
) -> Filled:
    """Add `products` products (see the module docstring); what was added."""
    now = utcnow()
    listings = overrides = 0
    with engine.begin() as conn:
        first_product, first_variant = _next_id(conn, MasterProduct), _next_id(conn, ProductVariant)
        listing_id = _next_id(conn, PlatformListing)
        listed = int(products * listed_share)
        for rows in _chunks(0, products):
            conn.execute(
                sa.insert(MasterProduct),
                [
                    {
                        "id": first_product + i, "handle": f"bench-{first_product + i:07d}",
                        "title": f"Bench product {first_product + i:07d}",
                        "description": DESCRIPTION, "category": CATEGORIES[i % len(CATEGORIES)],
                        "brand": "Bench", "base_price": _price(i), "currency": "MYR",
                        "images": [_image(first_product + i)], "tags": [],
                        "status": "active", "version": 1, "created_at": now - timedelta(seconds=products - i),
                        "updated_at": now - timedelta(seconds=products - i),
                    }
                    for i in rows
                ],
            )  # fmt: skip
            conn.execute(
                sa.insert(ProductVariant),
                [
                    {
                        "id": first_variant + 2 * i + size, "product_id": first_product + i,
                        "sku": f"BENCH-{first_product + i:07d}-{'SM'[size]}", "name": "SM"[size],
                        "stock": 5 + (i + size) % 40, "reserved": 0, "attributes": {"size": "SM"[size]},
                        "is_active": True, "created_at": now, "updated_at": now,
                    }
                    for i in rows
                    for size in (0, 1)
                ],
            )  # fmt: skip
            if override_every:
                values = [
                    {
                        "product_id": first_product + i, "variant_id": first_variant + 2 * i, "platform": platform,
                        "field": "price", "value": str(_price(i) + 1), "from_platform": False,
                        "updated_by": "bench", "created_at": now, "updated_at": now,
                    }
                    for i in rows
                    if i % override_every == 0
                    for platform in sorted({platform for _, platform in shops})
                ]  # fmt: skip
                if values:
                    conn.execute(sa.insert(PlatformOverride), values)
                    overrides += len(values)
        for connection_id, platform in shops:
            for rows in _chunks(0, listed):
                conn.execute(
                    sa.insert(PlatformListing),
                    [
                        {
                            "id": listing_id + n, "connection_id": connection_id, "product_id": first_product + i,
                            "platform": platform, "remote_item_id": f"bench-{first_product + i}",
                            "remote_status": "active", "remote_title": f"Bench product {first_product + i:07d}",
                            "base_title": f"Bench product {first_product + i:07d}", "sync_status": "synced",
                            "remote_description": DESCRIPTION, "base_description": DESCRIPTION,
                            "remote_images": [_image(first_product + i)], "base_images": [_image(first_product + i)],
                            "last_synced_at": now, "created_at": now, "updated_at": now,
                        }
                        for n, i in enumerate(rows)
                    ],
                )  # fmt: skip
                conn.execute(
                    sa.insert(PlatformListingSku),
                    [
                        {
                            "listing_id": listing_id + n, "connection_id": connection_id,
                            "variant_id": first_variant + 2 * i + size, "remote_sku_id": f"{first_product + i}-{size}",
                            "seller_sku": f"BENCH-{first_product + i:07d}-{'SM'[size]}", "currency": "MYR",
                            "remote_price": _shown_price(i, size, override_every),
                            "base_price": _shown_price(i, size, override_every),
                            "remote_stock": 5 + (i + size) % 40, "base_stock": 5 + (i + size) % 40,
                            "last_synced_at": now, "created_at": now, "updated_at": now,
                        }
                        for n, i in enumerate(rows)
                        for size in (0, 1)
                    ],
                )  # fmt: skip
                listing_id += len(rows)
                listings += len(rows)
        if engine.dialect.name == "postgresql":
            # Rows were inserted with explicit ids: move each id sequence past them.
            for model in (MasterProduct, ProductVariant, PlatformListing):
                sequence = sa.func.pg_get_serial_sequence(model.__tablename__, "id")
                conn.execute(sa.select(sa.func.setval(sequence, sa.select(sa.func.max(model.id)).scalar_subquery())))
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return Filled(products=products, variants=2 * products, listings=listings, overrides=overrides)
