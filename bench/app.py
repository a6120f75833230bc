# Benchmark: server-side render time of every page of the app on a big, busy catalog.
"""App page benchmark.

`python -m bench.app --products 100000 [--database-url URL] [--runs 5]`

Fills a fresh database with N products (two variants each, every variant listed and bound on two
shops) and what a busy merchant has besides (`bench.app_fill`: a few thousand orders with lines,
tens of thousands of sync logs in runs, pending conflicts, alerts, several stock locations, bundles,
webhook events, ledger and audit rows), written with SQLAlchemy Core bulk inserts (the catalog's
validation is not what is measured here). Then it times `streamlit.testing.v1.AppTest.run()` of the
whole app signed in as an admin, on every page the app lists (`streamlit_app.app.PAGES`) as it
first opens, reported as `<page>_s` (the script's name: `listings_s`, `orders_s`...), and:

- `overview_s`: the Overview (the landing page: counts needing action, today's figures, shop health);
- `products_page_s`: the Products page (the first page of the catalog, newest first, with the listing status);
- `product_editor_s`: the Product editor of a product in the middle of the catalog;
- `product_editor_preview_s`: the editor's "Preview sync" (the dry run for that product on every shop).

One warm-up run per page is not counted (it imports the modules a running server already has);
caches are cleared before every timed run so each one queries the database. The median of
`--runs` is reported. Target: every page under 1.0 s (`within_target`; the preview, a dry run
against every shop, is reported but not part of it).

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

from bench import app_fill, catalog_fill
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
    """N products with two variants each, all listed (and synced) on two new shops; the shops' activity."""
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
                shop_id,
            )
            for platform, shop_id in zip(PLATFORMS, ("1001", "7001"), strict=True)
        ]  # fmt: skip
    filled = catalog_fill.fill(
        engine, products, [(shop, platform) for shop, platform, _ in shops], listed_share=1.0, override_every=0
    )
    activity = app_fill.fill(
        engine,
        shops,
        orders=min(3_000, max(products // 10, 30)),
        sync_logs=min(30_000, max(products // 3, 300)),
        webhook_events=min(10_000, max(products // 10, 50)),
        ledger_rows=min(20_000, max(products // 5, 100)),
        audit_rows=min(20_000, max(products // 5, 100)),
    )
    return {
        "products": filled.products, "variants": filled.variants, "listings": filled.listings,
        "orders": activity.orders, "order_lines": activity.order_lines, "sync_logs": activity.sync_logs,
        "sync_runs": activity.sync_runs, "pending_conflicts": activity.pending_conflicts,
        "open_alerts": activity.open_alerts, "locations": activity.locations,
        "location_stock": activity.location_stock, "bundles": activity.bundles,
        "webhook_events": activity.webhook_events, "ledger_rows": activity.ledger_rows,
    }  # fmt: skip


def _timed(runs: int, action: Callable[[], Any], before_each: Callable[[], None]) -> tuple[float, list[float]]:
    action()  # warm-up: imports and first connections, as a running server has them
    times = []
    for _ in range(runs):
        before_each()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


# Report keys of the pages the bench measured before every page was: kept as they were.
KEYS = {"views/products.py": "products_page_s"}


def page_key(script: str) -> str:
    """`views/listings.py` -> "listings_s" (the Products page keeps its older key, products_page_s)."""
    return KEYS.get(script) or f"{Path(script).stem}_s"


def measure(url: str, product_id: int, runs: int) -> dict[str, Any]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from streamlit_app.app import LANDING_PAGE, PAGES

    os.environ["SYNCSTORE_DATABASE_URL"] = url
    engine = create_engine(url)
    with transaction(engine) as session:
        auth.create_user(Actor.command_line(), session, email="bench@example.com", role=Role.ADMIN, password=None)
        actor = auth.actor_for_email(session, "bench@example.com")
    engine.dispose()
    assert actor is not None

    def clear() -> None:
        st.cache_data.clear()

    def app(script: str, *, preview: bool = False) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state["actor"] = actor
        if script != LANDING_PAGE:  # a signed-in user lands on the Overview
            at.run()
            at.switch_page(script)
        if script == "views/product_editor.py":
            at.query_params["product"] = str(product_id)
            if preview:
                at.session_state["editor_preview"] = product_id
        return at

    def page(script: str, title: str, *, preview: bool = False) -> Callable[[], None]:
        at = app(script, preview=preview)

        def action() -> None:
            at.run()
            _check(at, title)
            if preview and not at.expander:
                raise SystemExit("the sync preview showed no shop plan")

        return action

    medians: dict[str, float] = {}
    all_runs: dict[str, list[float]] = {}
    for spec in PAGES:
        key = page_key(spec.script)
        median, times = _timed(runs, page(spec.script, spec.title), clear)
        medians[key] = round(median, 3)
        all_runs[key.removesuffix("_s")] = [round(t, 3) for t in times]
    median, times = _timed(runs, page("views/product_editor.py", "Product editor", preview=True), clear)
    medians["product_editor_preview_s"] = round(median, 3)
    all_runs["product_editor_preview"] = [round(t, 3) for t in times]
    return {**medians, "runs_s": all_runs}


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
    from streamlit_app.app import PAGES

    pages = sorted(page_key(spec.script) for spec in PAGES)
    result["slowest_page"] = max(pages, key=lambda page: result[page])
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
