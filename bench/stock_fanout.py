# Benchmark: an order for a component in 50 bundles -> every affected channel quantity recomputed, and how fast.
"""Stock fan-out benchmark.

`python -m bench.stock_fanout --variants 100000 --bundles 10000 [--orders 200] [--shops 3] [--database-url URL]`

Builds, with bulk inserts into a scratch SQLite file (or the empty database `--database-url` names,
migrated first), a catalog of `--variants` variants (ten per product) of which `--bundles` are
bundles: one "hot" component sits in 50 bundles (with one other component each); every other
bundle has two or three random plain components. Two locations (the default and "Store": a fifth
of the plain variants keep some stock there, the hot component 300 units) and `--shops` shops with
every variant bound (database rows only, no HTTP): the first sells the default location, the second
"Store", the others every location.

Then `--orders` one-unit orders for the hot component go through `inventory.apply_order` (each on
the next shop, its own transaction). After each commit the clock runs until every affected
channel quantity is computed by the code the stock push uses (`syncstore.sync.stock.channel_stock`:
the announced variants expanded to the bundles containing them, each shop's channel quantity from
its source locations, bundles from their components).

- `p50_ms`, `p95_ms`: commit -> every affected quantity computed.
- `affected_rows`: (hot component + its 50 bundles) x shops; `recomputed_rows`: the (shop, variant)
  quantities computed per order (the mean); `ratio` = recomputed / affected (1.0: nothing beyond
  what the order changed).

Targets: `p95_ms` < 100, `ratio` <= 1.5. Prints ONE JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connectors import registry
from connectors.base import OrderLine, OrderStatus, RemoteOrder
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import (
    BundleComponent,
    LocationStock,
    MasterProduct,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
    ShopStockSource,
    StockLocation,
)
from syncstore.inventory import ledger
from syncstore.sync import stock

HOT_BUNDLES = 50
PER_PRODUCT = 10
CHUNK = 20_000


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _insert(connection: sa.Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(sa.insert(table), list(rows[start : start + CHUNK]))


def build(engine: sa.Engine, variants: int, bundles: int, shops: int, seed: int) -> tuple[str, list[int]]:
    """The catalog, locations, shops and bindings; returns the hot component's SKU and the shop ids."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    plain = variants - bundles
    hot = 1  # variant ids are 1..variants: plain first, then bundles
    with engine.begin() as connection:
        _insert(connection, MasterProduct.__table__, [
            {"id": p, "handle": f"p-{p}", "title": f"Product {p}", "category": "Bench", "base_price": Decimal("9.90"),
             "currency": "MYR", "created_at": now, "updated_at": now}
            for p in range(1, variants // PER_PRODUCT + 2)
        ])  # fmt: skip
        _insert(connection, ProductVariant.__table__, [
            {"id": v, "product_id": (v - 1) // PER_PRODUCT + 1, "sku": f"SKU-{v:07d}", "name": f"V{v}",
             "stock": 1_000_000 if v == hot else rng.randint(0, 200), "reserved": 0, "created_at": now,
             "updated_at": now}
            for v in range(1, variants + 1)
        ])  # fmt: skip
        parts: list[dict[str, Any]] = []
        for index, bundle in enumerate(range(plain + 1, variants + 1)):
            chosen = {rng.randint(2, plain) for _ in range(1 if index < HOT_BUNDLES else rng.randint(2, 3))}
            if index < HOT_BUNDLES:
                chosen.add(hot)
            parts.extend({"bundle_variant_id": bundle, "component_variant_id": c, "quantity": rng.randint(1, 3)}
                         for c in chosen)  # fmt: skip
        _insert(connection, BundleComponent.__table__, parts)
        main, store = (
            connection.execute(
                sa.insert(StockLocation).values(name=name, is_default=default, is_active=True, created_at=now)
            ).inserted_primary_key
            for name, default in (("Main warehouse", True), ("Store", False))
        )
        assert main is not None and store is not None
        held = {v: rng.randint(0, 20) for v in range(2, plain + 1) if rng.random() < 0.2}
        held[hot] = 300
        _insert(connection, LocationStock.__table__, [
            {"variant_id": v, "location_id": store[0], "on_hand": q, "reserved": 0} for v, q in held.items()
        ])  # fmt: skip
        for v, q in held.items():  # the totals include the Store's units
            connection.execute(sa.update(ProductVariant).where(ProductVariant.id == v)
                               .values(stock=ProductVariant.stock + q))  # fmt: skip
        shop_ids = []
        for index in range(shops):
            platform = registry.names()[index % len(registry.names())]
            shop_id = connection.execute(sa.insert(PlatformConnection).values(
                platform=platform, shop_id=f"bench-{index}", shop_name=f"Bench {index}", status="connected",
                created_at=now, updated_at=now)).inserted_primary_key  # fmt: skip
            assert shop_id is not None
            shop_ids.append(int(shop_id[0]))
            if index < 2:
                source = main[0] if index == 0 else store[0]
                connection.execute(sa.insert(ShopStockSource).values(connection_id=shop_id[0], location_id=source))
            _bind(connection, int(shop_id[0]), platform, variants, now)
    return f"SKU-{hot:07d}", shop_ids


def _bind(connection: sa.Connection, shop: int, platform: str, variants: int, now: datetime) -> None:
    """One listing per product, one bound SKU per variant, showing stock 0 (every push would change it)."""
    products = variants // PER_PRODUCT + 1
    first = connection.execute(sa.select(sa.func.coalesce(sa.func.max(PlatformListing.id), 0))).scalar_one()
    _insert(connection, PlatformListing.__table__, [
        {"id": first + p, "connection_id": shop, "product_id": p, "platform": platform, "remote_item_id": str(p),
         "remote_status": "NORMAL", "sync_status": "synced", "created_at": now, "updated_at": now}
        for p in range(1, products + 1)
    ])  # fmt: skip
    _insert(connection, PlatformListingSku.__table__, [
        {"listing_id": first + (v - 1) // PER_PRODUCT + 1, "connection_id": shop, "variant_id": v,
         "remote_sku_id": str(v), "seller_sku": f"SKU-{v:07d}", "remote_stock": 0, "created_at": now, "updated_at": now}
        for v in range(1, variants + 1)
    ])  # fmt: skip


def run(engine: sa.Engine, hot_sku: str, shop_ids: list[int], orders: int) -> dict[str, Any]:
    timings: list[float] = []
    recomputed: list[int] = []
    affected = (1 + HOT_BUNDLES) * len(shop_ids)
    for number in range(orders):
        shop = shop_ids[number % len(shop_ids)]
        with transaction(engine) as session:
            connection = session.get_one(PlatformConnection, shop)
            remote = RemoteOrder(
                platform=connection.platform, shop_id=connection.shop_id, order_id=f"F-{number}",
                status=OrderStatus.PAID, updated_at=datetime.now(UTC),
                lines=(OrderLine(line_id="1", item_id="1", sku_id="1", seller_sku=hot_sku, quantity=1),),
            )  # fmt: skip
            effect = ledger.apply_order(session, connection, remote)
        started = time.perf_counter()
        computed = stock.channel_stock(engine, effect.variant_ids)
        timings.append((time.perf_counter() - started) * 1000)
        recomputed.append(sum(len(rows) for _, rows in computed))
        if number == 0:
            _log(f"first order: {recomputed[0]} quantities computed over {len(computed)} shops")
    ordered = sorted(timings)
    return {
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "p50_ms": round(statistics.median(timings), 2),
        "recomputed_rows": round(statistics.mean(recomputed), 1),
        "affected_rows": affected,
        "ratio": round(statistics.mean(recomputed) / affected, 3),
        "orders": orders,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stock_fanout", description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--bundles", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--shops", type=int, default=3, choices=(2, 3))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="an EMPTY database to use (default: a scratch SQLite file)")
    args = parser.parse_args(argv)
    if not HOT_BUNDLES <= args.bundles < args.variants - 10:
        parser.error(f"need {HOT_BUNDLES} <= --bundles < --variants - 10")
    scratch = Path(tempfile.mkdtemp(prefix="syncstore-stock-fanout-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    engine = create_engine(url)
    try:
        started = time.monotonic()
        migrate.upgrade(engine)
        with engine.begin() as connection:  # the migration's default location: the bench inserts its own
            connection.execute(sa.delete(StockLocation))
        hot_sku, shop_ids = build(engine, args.variants, args.bundles, args.shops, args.seed)
        _log(
            f"catalog of {args.variants} variants ({args.bundles} bundles) built in {time.monotonic() - started:.1f} s"
        )
        figures = run(engine, hot_sku, shop_ids, args.orders)
    finally:
        engine.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({**figures, "variants": args.variants, "bundles": args.bundles, "shops": args.shops,
                      "database": engine.dialect.name}))  # fmt: skip


if __name__ == "__main__":
    main()
