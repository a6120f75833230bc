# Benchmark: how fast a merchant's catalog CSV imports (rows per second) on SQLite or PostgreSQL.
"""Catalog CSV import benchmark.

`python -m bench.catalog_import --rows 10000 [--database-url URL]`

Builds a deterministic, valid catalog CSV of N variant rows (`synthetic_rows`, the sample
generator's products with unique handles and SKUs), writes it to a temporary file, and times
`syncstore.catalog.importer.import_csv` on it end to end: reading and decoding the file, validating
every row through `ProductInput`, the catalog look-ups of existing SKUs and handles, and the bulk
inserts of products, variants, stock-ledger rows, outbox events and the audit row, committed in
one transaction. Migrating the database and generating the CSV are not timed.

By default the target is a fresh, migrated SQLite file in a temporary directory. With
`--database-url` the database must be empty (no products): it is migrated first and the rows
the run adds are left there.

Target: 10,000 rows in well under 10 s on SQLite and on PostgreSQL on a 2-core machine.
Prints ONE JSON object on stdout:
{"rows": N, "products": ..., "variants": ..., "seconds": ..., "rows_per_s": ..., "database": ...}
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from syncstore.catalog.importer import import_csv
from syncstore.data.generate_sample import synthetic_rows, write
from syncstore.db import migrate
from syncstore.db.engine import create_engine
from syncstore.db.models import MasterProduct
from syncstore.security.auth import Actor


def run(rows: int, database_url: str | None, workdir: Path) -> dict[str, object]:
    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            existing = conn.scalar(sa.select(sa.func.count()).select_from(MasterProduct))
        if existing:
            raise SystemExit(f"{engine.url.render_as_string()} already has {existing} products; use an empty one")
        csv_path = workdir / "catalog.csv"
        write(csv_path, synthetic_rows(rows))

        started = time.perf_counter()
        report = import_csv(Actor.command_line(), engine, csv_path)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if report.errors or not report.committed:
        for error in report.errors[:20]:
            print(error, file=sys.stderr)
        raise SystemExit(f"import failed: {report.summary()}")
    return {
        "rows": report.rows,
        "products": report.products_created,
        "variants": report.variants_created,
        "seconds": round(seconds, 3),
        "rows_per_s": round(report.rows / seconds),
        "database": engine.dialect.name,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000, help="variant rows in the CSV (default 10000)")
    parser.add_argument("--database-url", help="an EMPTY database to import into (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    with tempfile.TemporaryDirectory(prefix="syncstore-bench-") as workdir:
        result = run(args.rows, args.database_url, Path(workdir))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
