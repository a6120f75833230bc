# Benchmark: server-side render time of the Products page and the Product editor on a big catalog.
"""App page benchmark.

`python -m bench.app --products 100000 [--database-url URL] [--runs 5]`

Fills a fresh database with N products (two variants each, the first third listed on two shops,
written with SQLAlchemy Core bulk inserts: the catalog's validation is not what is measured
here), then times `streamlit.testing.v1.AppTest.run()` of the whole app signed in as an admin:

- the Products page (the first page of the catalog, newest first, with the listing status);
- the Product editor of a product in the middle of the catalog;
- the editor's "Preview sync" (the dry run for that product on every shop).

One warm-up run per page is not counted (it imports the modules a running server already has);
caches are cleared before every timed run so each one queries the database. The median of
`--runs` is reported. Target: under 1.0 s for the Products page and the Product editor.

Prints ONE JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connectors import registry
from syncstore import auth
from syncstore.auth import Actor, Role
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import (
    MasterProduct,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
)
from syncstore.db.types import utcnow

# The bench's two shops are on the first two registered marketplaces.
PLATFORMS = registry.names()[:2]

APP = Path(__file__).resolve().parent.parent / "streamlit_app" / "app.py"
CHUNK = 10_000
CATEGORIES = ("Fashion > T-Shirts", "Fashion > Dresses", "Beauty > Skincare", "Home > Kitchen", "Electronics > Audio")
TARGET_SECONDS = 1.0


def _chunks(total: int) -> Iterator[range]:
    for start in range(0, total, CHUNK):
        yield range(start, min(start + CHUNK, total))


def fill(engine: sa.Engine, products: int) -> dict[str, int]:
    """N products with two variants each; the first third listed (and synced) on two shops."""
    now = utcnow()
    listed = products // 3
    with engine.begin() as conn:
        for rows in _chunks(products):
            conn.execute(
                sa.insert(MasterProduct),
                [
                    {
                        "id": i + 1, "handle": f"bench-{i + 1:06d}", "title": f"Bench product {i + 1:06d}",
                        "description": "A product made by the benchmark.", "category": CATEGORIES[i % len(CATEGORIES)],
                        "brand": "Bench", "base_price": Decimal(10 + i % 90) + Decimal("0.90"), "currency": "MYR",
                        "images": [f"https://images.example.com/bench/{i + 1}.jpg"], "tags": [], "status": "active",
                        "version": 1, "created_at": now - timedelta(seconds=products - i),
                        "updated_at": now - timedelta(seconds=products - i),
                    }
                    for i in rows
                ],
            )  # fmt: skip
            conn.execute(
                sa.insert(ProductVariant),
                [
                    {
                        "id": 2 * i + size + 1, "product_id": i + 1, "sku": f"BENCH-{i + 1:06d}-{'SM'[size]}",
                        "name": "SM"[size], "stock": 5 + (i + size) % 40, "reserved": 0,
                        "attributes": {"size": "SM"[size]}, "is_active": True, "created_at": now, "updated_at": now,
                    }
                    for i in rows
                    for size in (0, 1)
                ],
            )  # fmt: skip
        shops = [
            conn.execute(
                sa.insert(PlatformConnection).returning(PlatformConnection.id),
                {"platform": platform, "shop_id": shop_id, "shop_name": f"Bench {registry.label(platform)}",
                 "status": "connected", "created_at": now, "updated_at": now},
            ).scalar_one()
            for platform, shop_id in zip(PLATFORMS, ("1001", "7001"), strict=True)
        ]  # fmt: skip
        listing_id = 0
        for shop_index, connection_id in enumerate(shops):
            platform = PLATFORMS[shop_index]
            for rows in _chunks(listed):
                first_id = listing_id + 1
                conn.execute(
                    sa.insert(PlatformListing),
                    [
                        {
                            "id": first_id + n, "connection_id": connection_id, "product_id": i + 1,
                            "platform": platform, "remote_item_id": f"{platform}-{i + 1}", "remote_status": "active",
                            "remote_title": f"Bench product {i + 1:06d}", "base_title": f"Bench product {i + 1:06d}",
                            "sync_status": "synced", "last_synced_at": now, "created_at": now, "updated_at": now,
                        }
                        for n, i in enumerate(rows)
                    ],
                )  # fmt: skip
                conn.execute(
                    sa.insert(PlatformListingSku),
                    [
                        {
                            "listing_id": first_id + n, "connection_id": connection_id,
                            "variant_id": 2 * i + size + 1, "remote_sku_id": f"{i + 1}-{size}",
                            "seller_sku": f"BENCH-{i + 1:06d}-{'SM'[size]}", "currency": "MYR",
                            "remote_price": Decimal(10 + i % 90) + Decimal("0.90"),
                            "base_price": Decimal(10 + i % 90) + Decimal("0.90"),
                            "remote_stock": 5 + (i + size) % 40, "base_stock": 5 + (i + size) % 40,
                            "last_synced_at": now, "created_at": now, "updated_at": now,
                        }
                        for n, i in enumerate(rows)
                        for size in (0, 1)
                    ],
                )  # fmt: skip
                listing_id += len(rows)
        if engine.dialect.name == "postgresql":
            # Rows were inserted with explicit ids: move each id sequence past them.
            for model in (MasterProduct, ProductVariant, PlatformListing):
                sequence = sa.func.pg_get_serial_sequence(model.__tablename__, "id")
                conn.execute(sa.select(sa.func.setval(sequence, sa.select(sa.func.max(model.id)).scalar_subquery())))
        conn.exec_driver_sql("ANALYZE")
    return {"products": products, "variants": 2 * products, "listings": 2 * listed}


def _timed(runs: int, action: Callable[[], Any], before_each: Callable[[], None]) -> tuple[float, list[float]]:
    action()  # warm-up: imports and first connections, as a running server has them
    times = []
    for _ in range(runs):
        before_each()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def measure(url: str, product_id: int, runs: int) -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["SYNCSTORE_DATABASE_URL"] = url
    engine = create_engine(url)
    with transaction(engine) as session:
        auth.create_user(Actor.command_line(), session, email="bench@example.com", role=Role.ADMIN, password=None)
        actor = auth.actor_for_email(session, "bench@example.com")
    engine.dispose()
    assert actor is not None

    def clear() -> None:
        st.cache_data.clear()

    def app() -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state["actor"] = actor
        return at

    products_at = app()

    def products_page() -> None:
        products_at.run()
        _check(products_at, "Products")

    editor_at = app()
    editor_at.run()
    editor_at.switch_page("views/product_editor.py")
    editor_at.query_params["product"] = str(product_id)

    def editor_page() -> None:
        editor_at.run()
        _check(editor_at, "Product editor")

    preview_at = app()
    preview_at.run()
    preview_at.switch_page("views/product_editor.py")
    preview_at.query_params["product"] = str(product_id)
    preview_at.session_state["editor_preview"] = product_id

    def preview() -> None:
        preview_at.run()
        _check(preview_at, "Product editor")
        if not preview_at.expander:
            raise SystemExit("the sync preview showed no shop plan")

    products_s, products_runs = _timed(runs, products_page, clear)
    editor_s, editor_runs = _timed(runs, editor_page, clear)
    preview_s, preview_runs = _timed(runs, preview, clear)
    return {
        "products_page_s": round(products_s, 3),
        "product_editor_s": round(editor_s, 3),
        "product_editor_preview_s": round(preview_s, 3),
        "runs_s": {
            "products_page": [round(t, 3) for t in products_runs],
            "product_editor": [round(t, 3) for t in editor_runs],
            "product_editor_preview": [round(t, 3) for t in preview_runs],
        },
    }


def _check(at: Any, title: str) -> None:
    if at.exception:
        raise SystemExit(f"{title} raised: {at.exception[0].message}")
    if not at.title or at.title[0].value != title:
        raise SystemExit(f"expected the {title} page, got {[t.value for t in at.title]}")


def run(products: int, database_url: str | None, runs: int, workdir: Path) -> dict[str, Any]:
    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            existing = conn.scalar(sa.select(sa.func.count()).select_from(MasterProduct))
        if existing:
            raise SystemExit(f"{engine.url.render_as_string()} already has {existing} products; use an empty one")
        started = time.perf_counter()
        counts = fill(engine, products)
        fill_s = time.perf_counter() - started
        database = engine.dialect.name
    finally:
        engine.dispose()
    result: dict[str, Any] = {**counts, "database": database, "fill_s": round(fill_s, 2), "runs": runs}
    result.update(measure(url, product_id=max(products // 2, 1), runs=runs))
    result["target_s"] = TARGET_SECONDS
    result["within_target"] = result["products_page_s"] < TARGET_SECONDS and result["product_editor_s"] < TARGET_SECONDS
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=100_000, help="products in the catalog (default 100000)")
    parser.add_argument("--database-url", help="an EMPTY database to fill (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page (default 5)")
    args = parser.parse_args(argv)
    if args.products < 1 or args.runs < 1:
        parser.error("--products and --runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="syncstore-bench-app-") as workdir:
        # Settings (key file, data dir) point at the scratch directory, not the demo's.
        os.environ.setdefault("SYNCSTORE_DATA_DIR", workdir)
        result = run(args.products, args.database_url, args.runs, Path(workdir))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
