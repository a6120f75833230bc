# Benchmark: how long a master price edit takes to reach both marketplaces, and what it reads as the catalog grows.
"""Price-edit latency benchmark.

`python -m bench.edit_latency --products 100000 [--edits 50] [--small 10000] [--only sqlite|postgresql]`

For each database (the embedded defaults, SQLite and no Redis; then PostgreSQL and Redis, on a scratch
database created beside `--postgres-url` and dropped afterwards), the demo's processes start on their
sample catalog (`demo.supervisor`: both simulators, the webhook receiver, Dagster and the events
worker) and the bench waits until both shops are in sync. Bench products (`bench.catalog_fill`: two
variants each, listed and in sync on both shops, every tenth with a price override) then grow the
catalog and both shops' snapshots to `--small` products, and later to `--products`.

- `rows_read_per_edit` at each size: the median, over the same 5 products' edits, of the rows read from the database
  (counted at the driver, `bench.rowcount`) by the core's edit command (`catalog.update_product`, as
  the app calls it) plus the work the events worker does for that edit (`sync.sync_shop` of the
  product on each connected shop, as `dispatch.push_outbox` runs it). `rows_ratio` is the figure at
  `--products` over the figure at `--small`: 1.0 means an edit reads as much whatever the catalog's size.
- `p50_s`, `p95_s`: at `--products` (after a pause that lets the worker recover from the bulk fill's
  lock), `--edits` single-variant price edits (+1.00 each, one at a time)
  through `catalog.update_product` on demo products listed on both shops; each runs from the edit's
  commit until both simulators show a new price for that SKU (their control API, polled every 50 ms).
  An edit not seen on both within `--deadline` seconds is `lost`.

Targets: `p95_s` <= 2.0 on both databases, `rows_ratio` <= 1.2, `lost` 0. Prints ONE JSON object on
stdout (the worst figure of the databases at the top level, each database's figures under its name);
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import catalog_fill
from bench.rowcount import RowCounter, counting_engine
from demo.config import DemoConfig, Part, Ports
from demo.control import MarketplaceControl
from demo.supervisor import Supervisor
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection, PlatformOverride, ProductVariant
from syncstore.security.auth import Actor, Role
from syncstore.shops import marketplaces
from syncstore.sync import engine as sync

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
ROW_EDITS = 5
SETTLE_S = 15.0
BENCH = Actor(user_id=None, label="bench-edit-latency", role=Role.EDITOR)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


@dataclass(frozen=True)
class Candidate:
    product_id: int
    variant_id: int
    sku: str


def _candidates(engine: sa.Engine, shopee: MarketplaceControl, tiktok: MarketplaceControl) -> list[Candidate]:
    """Demo products listed on both shops, without overrides: a master price edit shows on both as it is."""
    listed = shopee.skus().keys() & tiktok.skus().keys()
    with transaction(engine) as session:
        overridden = set(session.scalars(sa.select(PlatformOverride.product_id).distinct()))
        rows = session.execute(
            sa.select(ProductVariant.product_id, ProductVariant.id, ProductVariant.sku)
            .join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
            .where(MasterProduct.status == "active", ProductVariant.is_active.is_(True))
            .order_by(ProductVariant.product_id, ProductVariant.id)
        ).all()
    first: dict[int, Candidate] = {}
    for product_id, variant_id, sku in rows:
        if product_id not in overridden and sku in listed and "-ONLY-" not in sku:
            first.setdefault(product_id, Candidate(product_id, variant_id, sku))
    return list(first.values())


def _edit_price(engine: sa.Engine, candidate: Candidate) -> None:
    """Raise the variant's price by 1.00 through the core's command, as the app's editor does."""
    with transaction(engine) as session:
        product = session.get_one(MasterProduct, candidate.product_id)
        variant = session.get_one(ProductVariant, candidate.variant_id)
        price = (variant.price if variant.price is not None else product.base_price) + Decimal("1.00")
        catalog.update_product(
            BENCH, session, candidate.product_id, expected_version=product.version,
            changes={"variants": [{"id": candidate.variant_id, "price": str(price)}]},
        )  # fmt: skip


def _grow(engine: sa.Engine, products: int) -> None:
    with transaction(engine) as session:
        present = int(session.scalar(sa.select(sa.func.count()).select_from(MasterProduct)) or 0)
        shops = [
            (row.id, row.platform)
            for row in session.execute(
                sa.select(PlatformConnection.id, PlatformConnection.platform).where(
                    PlatformConnection.status == "connected"
                )
            )
        ]
    if products > present:
        started = time.monotonic()
        filled = catalog_fill.fill(engine, products - present, shops, listed_share=1.0)
        _log(
            f"catalog grown to {products} products ({filled.listings} bench listings, "
            f"{filled.overrides} overrides) in {time.monotonic() - started:.0f} s"
        )


def _rows_per_edit(engine: sa.Engine, counter: RowCounter, candidates: Sequence[Candidate], connectors: Any) -> int:
    with transaction(engine) as session:
        shops = list(session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.status == "connected")))
    counts = []
    for candidate in candidates:
        before = counter.rows
        _edit_price(engine, candidate)
        for connection_id in shops:
            sync.sync_shop(engine, connection_id, connectors(connection_id), product_ids=[candidate.product_id],
                           run_id="bench-edit-latency")  # fmt: skip
        counts.append(counter.rows - before)
    _log(f"rows read per edit: {counts}")
    return int(statistics.median(counts))


def _latencies(
    engine: sa.Engine,
    controls: Sequence[MarketplaceControl],
    candidates: Sequence[Candidate],
    deadline_s: float,
    supervisor: Supervisor,
) -> tuple[list[float], int]:
    seconds: list[float] = []
    lost = 0
    for index, candidate in enumerate(candidates):
        before = [control.sku(candidate.sku).price for control in controls]
        _edit_price(engine, candidate)
        committed = time.monotonic()
        waiting = set(range(len(controls)))
        while waiting and time.monotonic() - committed < deadline_s:
            for i in sorted(waiting):
                if controls[i].sku(candidate.sku).price != before[i]:
                    waiting.discard(i)
            if waiting:
                time.sleep(0.05)
        if waiting:
            lost += 1
            supervisor.check_children()
            _log(f"edit {index + 1}: {candidate.sku} not seen on every shop within {deadline_s:.0f} s")
        else:
            seconds.append(time.monotonic() - committed)
            _log(f"edit {index + 1}/{len(candidates)}: {candidate.sku} on both shops in {seconds[-1]:.2f} s")
    return seconds, lost


@contextmanager
def _scratch_postgres(admin_url: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"syncstore_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def measure(
    database_url: str | None, redis_url: str | None, *, products: int, small: int, edits: int, deadline_s: float
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="syncstore-edit-latency-"))
    config = DemoConfig(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        ports=Ports.free(),
        parts=frozenset({Part.SHOPEE, Part.TIKTOKSHOP, Part.RECEIVER, Part.DAGSTER, Part.WORKER}),
        orders_every_s=None,
        conflicting_edits=0,
    )
    supervisor = Supervisor(config, report=_log)
    controls = [supervisor.marketplace(Part.SHOPEE), supervisor.marketplace(Part.TIKTOKSHOP)]
    try:
        supervisor.start(wait_in_sync=True)
        engine, counter = counting_engine(config.resolved_database_url)
        connectors = marketplaces.connector_factory(engine, supervisor.settings)
        try:
            candidates = _candidates(engine, *controls)
            if len(candidates) <= ROW_EDITS:
                raise SystemExit(f"only {len(candidates)} demo products are listed on both shops")
            rows: dict[str, int] = {}
            for size in (small, products):  # the same products at both sizes: only the catalog differs
                _grow(engine, size)
                rows[str(size)] = _rows_per_edit(engine, counter, candidates[:ROW_EDITS], connectors)
            # The bulk fill held the database (SQLite's one write lock) for seconds: let the worker come back
            # from its back-off first, so the timing measures edits and not the filler.
            time.sleep(SETTLE_S)
            timed = [candidates[(ROW_EDITS + i) % len(candidates)] for i in range(edits)]
            seconds, lost = _latencies(engine, controls, timed, deadline_s, supervisor)
        finally:
            connectors.close()
            engine.dispose()
    finally:
        for control in controls:
            control.close()
        supervisor.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "p50_s": round(statistics.median(seconds), 3) if seconds else None,
        "p95_s": round(_percentile(seconds, 0.95), 3) if seconds else None,
        "max_s": round(max(seconds), 3) if seconds else None,
        "rows_read_per_edit": rows,
        "rows_ratio": round(rows[str(products)] / rows[str(small)], 3) if rows[str(small)] else None,
        "lost": lost,
        "edits": edits,
        "redis": bool(redis_url),
    }


def _worst(results: dict[str, dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in results.values() if r[key] is not None]
    return max(values) if values else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.edit_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000, help="catalog size of the timed edits")
    parser.add_argument("--small", type=int, default=10_000, help="the smaller catalog rows are compared with")
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--deadline", type=float, default=30.0, help="an edit not seen within this is lost (s)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="run one database only")
    parser.add_argument("--postgres-url", default=os.environ.get("SYNCSTORE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--redis-url", default=os.environ.get("SYNCSTORE_BENCH_REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args(argv)
    if not 0 < args.small < args.products or args.edits < 1:
        parser.error("need 0 < --small < --products and --edits >= 1")

    results: dict[str, dict[str, Any]] = {}
    options = {"products": args.products, "small": args.small, "edits": args.edits, "deadline_s": args.deadline}
    if args.only in (None, "sqlite"):
        _log("--- SQLite, no Redis ---")
        results["sqlite"] = measure(None, None, **options)
    if args.only in (None, "postgresql"):
        _log("--- PostgreSQL and Redis ---")
        with _scratch_postgres(args.postgres_url) as url:
            results["postgresql"] = measure(url, args.redis_url, **options)
    print(
        json.dumps(
            {
                "products": args.products,
                "p50_s": _worst(results, "p50_s"),
                "p95_s": _worst(results, "p95_s"),
                "rows_read_per_edit": {
                    size: max(r["rows_read_per_edit"][size] for r in results.values())
                    for size in (str(args.small), str(args.products))
                },
                "rows_ratio": _worst(results, "rows_ratio"),
                "lost": sum(r["lost"] for r in results.values()),
                **results,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
