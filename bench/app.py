# Benchmark: server-side render time of the Overview, the Products page and the Product editor on a big catalog.
"""App page benchmark.

`python -m bench.app --products 100000 [--database-url URL] [--runs 5]`

Fills a fresh database with N products (two variants each, the first third listed on two shops,
written with SQLAlchemy Core bulk inserts: the catalog's validation is not what is measured
here), then times `streamlit.testing.v1.AppTest.run()` of the whole app signed in as an admin:

- the Overview (the landing page: counts needing action, today's figures, shop health, activity chart);
- the Products page (the first page of the catalog, newest first, with the listing status);
- the Product editor of a product in the middle of the catalog;
- the editor's "Preview sync" (the dry run for that product on every shop).

One warm-up run per page is not counted (it imports the modules a running server already has);
caches are cleared before every timed run so each one queries the database. The median of
`--runs` is reported. Target: under 1.0 s for the Overview, the Products page and the Product editor.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import catalog_fill
from connectors import registry
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import MasterProduct, PlatformConnection
from syncstore.db.types import utcnow
from syncstore.security import auth
from syncstore.security.auth import Actor, Role

# The bench's two shops are on the first two registered marketplaces.
PLATFORMS = registry.names()[:2]

APP = Path(__file__).resolve().parent.parent / "streamlit_app" / "app.py"
TARGET_SECONDS = 1.0


def fill(engine: sa.Engine, products: int) -> dict[str, int]:
    """N products with two variants each; the first third listed (and synced) on two new shops."""
    now = utcnow()
    with engine.begin() as conn:
        shops = [
            (
                conn.execute(
                    sa.insert(PlatformConnection).returning(PlatformConnection.id),
                    {"platform": platform, "shop_id": shop_id, "shop_name": f"Bench {registry.label(platform)}",
                     "status": "connected", "created_at": now, "updated_at": now},
                ).scalar_one(),
                platform,
            )
            for platform, shop_id in zip(PLATFORMS, ("1001", "7001"), strict=True)
        ]  # fmt: skip
    filled = catalog_fill.fill(engine, products, shops, override_every=0)
    return {"products": filled.products, "variants": filled.variants, "listings": filled.listings}


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

    overview_at = app()  # a signed-in user lands on the Overview

    def overview_page() -> None:
        overview_at.run()
        _check(overview_at, "Overview")

    products_at = app()
    products_at.run()
    products_at.switch_page("views/products.py")

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

    overview_s, overview_runs = _timed(runs, overview_page, clear)
    products_s, products_runs = _timed(runs, products_page, clear)
    editor_s, editor_runs = _timed(runs, editor_page, clear)
    preview_s, preview_runs = _timed(runs, preview, clear)
    return {
        "overview_s": round(overview_s, 3),
        "products_page_s": round(products_s, 3),
        "product_editor_s": round(editor_s, 3),
        "product_editor_preview_s": round(preview_s, 3),
        "runs_s": {
            "overview": [round(t, 3) for t in overview_runs],
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
    pages = ("overview_s", "products_page_s", "product_editor_s")
    result["within_target"] = all(result[page] < TARGET_SECONDS for page in pages)
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
