# Benchmark: the three-way classification of syncstore.plan.reconcile: Polars vs a plain per-row Python loop.
"""Three-way diff benchmark.

`python -m bench.diff --rows 1000000 [--seed 7]`

Builds a deterministic (seeded numpy) joined frame of N (shop, variant) rows with desired, remote
and baseline values of `price` (Decimal(12,2)), `stock` (Int32) and `title` (String), plus the
row's `adopt_fields` (list[str]). The mix is realistic: about 90 % of the rows are in sync; the rest
are master price and title changes, stock drift on the marketplace, master stock changes, titles
edited on the marketplace (conflicts, or adopted where a rule says so), prices changed on both sides, first syncs
without a baseline and bound SKUs whose remote stock is unknown.

Times `syncstore.plan.reconcile.classify_fields` on it (`polars_s`, after a warm-up on 1,000 rows), then
a straightforward per-row Python implementation of the same rules on the same frame in the same
process (`python_s`: iterate the rows as tuples, if/else per field), and asserts that both give
identical action columns. Generating the frame is not timed.

Targets on a 2-core machine: polars_s under 1.5, speedup at least 5, peak_rss_mb under 2,000.
Prints ONE JSON object on stdout: {"rows", "polars_s", "python_s", "speedup", "peak_rss_mb"}.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from syncstore.plan.reconcile import MONEY, FieldAction, classify_fields

FIELDS = ("price", "stock", "title")
MASTER_WINS = {"price": False, "stock": True, "title": False}

# Scenario per row and its share of the rows.
IN_SYNC, PRICE_MASTER, STOCK_DRIFT, STOCK_MASTER, TITLE_EDITED, TITLE_ADOPTED = range(6)
PRICE_BOTH, FIRST_SYNC, STOCK_UNKNOWN, PRICE_ADOPTED, TITLE_MASTER = range(6, 11)
MIX = {
    IN_SYNC: 0.90,
    PRICE_MASTER: 0.03,
    STOCK_DRIFT: 0.02,
    STOCK_MASTER: 0.015,
    TITLE_EDITED: 0.008,
    TITLE_ADOPTED: 0.005,
    PRICE_BOTH: 0.004,
    FIRST_SYNC: 0.005,
    STOCK_UNKNOWN: 0.003,
    PRICE_ADOPTED: 0.005,
    TITLE_MASTER: 0.005,
}
COLORS = ("black", "white", "navy", "sand", "olive", "rust", "grey", "pink")


def _money(cents: np.ndarray[Any, np.dtype[np.int64]]) -> pl.Series:
    return (pl.Series(cents).cast(pl.Decimal(16, 2)) / 100).cast(MONEY)


def build(rows: int, seed: int) -> pl.DataFrame:
    """A joined frame (desired_/remote_/base_ per field, adopt_fields) with the MIX of scenarios."""
    rng = np.random.default_rng(seed)
    scenario = rng.choice(len(MIX), size=rows, p=list(MIX.values())).astype(np.int8)

    def where(*cases: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return np.isin(scenario, cases)

    base_cents = rng.integers(100, 500_000, rows, dtype=np.int64)
    master_delta = rng.integers(1, 5_000, rows, dtype=np.int64)
    remote_delta = -rng.integers(1, 5_000, rows, dtype=np.int64)
    desired_cents = base_cents + np.where(where(PRICE_MASTER, PRICE_BOTH, FIRST_SYNC), master_delta, 0)
    remote_cents = base_cents + np.where(where(PRICE_BOTH, FIRST_SYNC, PRICE_ADOPTED), remote_delta, 0)

    base_stock = rng.integers(5, 500, rows, dtype=np.int32)
    stock_delta = rng.integers(1, 5, rows, dtype=np.int32)
    desired_stock = base_stock - np.where(where(STOCK_MASTER), stock_delta, 0).astype(np.int32)
    remote_stock = base_stock - np.where(where(STOCK_DRIFT), stock_delta, 0).astype(np.int32)

    product = rng.integers(0, 200_000, rows, dtype=np.int64)
    color = rng.integers(0, len(COLORS), rows, dtype=np.int64)
    code = pl.Series("scenario", scenario)
    frame = pl.DataFrame(
        {
            "scenario": code,
            "desired_price": _money(desired_cents),
            "remote_price": _money(remote_cents),
            "base_price": _money(base_cents),
            "desired_stock": desired_stock,
            "remote_stock": remote_stock,
            "base_stock": base_stock,
            "_product": product,
            "_color": pl.Series(color).replace_strict(list(range(len(COLORS))), list(COLORS), return_dtype=pl.String),
        }
    )
    title = pl.format("Linen shirt {} - {}", pl.col("_product"), pl.col("_color"))
    scenario_is = pl.col("scenario").is_in
    frame = frame.with_columns(
        desired_title=pl.when(scenario_is([TITLE_MASTER])).then(title + " (2025)").otherwise(title),
        base_title=title,
        remote_title=pl.when(scenario_is([TITLE_EDITED, TITLE_ADOPTED])).then(title + " SALE").otherwise(title),
        base_price=pl.when(scenario_is([FIRST_SYNC])).then(None).otherwise(pl.col("base_price")),
        remote_stock=pl.when(scenario_is([STOCK_UNKNOWN])).then(None).otherwise(pl.col("remote_stock")),
        adopt_fields=pl.when(scenario_is([TITLE_ADOPTED]))
        .then(pl.lit(["title"], dtype=pl.List(pl.String)))
        .when(scenario_is([PRICE_ADOPTED]))
        .then(pl.lit(["price"], dtype=pl.List(pl.String)))
        .otherwise(pl.lit([], dtype=pl.List(pl.String))),
    )
    return frame.drop("_product", "_color", "scenario")


def classify_in_python(frame: pl.DataFrame) -> dict[str, list[str | None]]:
    """The three-way rules of syncstore.plan.reconcile, one row at a time in plain Python."""
    actions: dict[str, list[str | None]] = {field: [] for field in FIELDS}
    columns = [f"{side}_{field}" for field in FIELDS for side in ("desired", "remote", "base")]
    appenders = [actions[field].append for field in FIELDS]
    for row in frame.select(*columns, "adopt_fields").iter_rows():
        adopt_fields = row[-1] or ()
        for index, field in enumerate(FIELDS):
            desired, remote, base = row[3 * index], row[3 * index + 1], row[3 * index + 2]
            action: str | None
            if desired is None:
                action = None
            elif desired == remote:
                action = "in_sync"
            elif base is None or remote is None or remote == base:
                action = "push"
            elif field in adopt_fields:
                action = "adopt"
            elif MASTER_WINS[field]:
                action = "push"
            else:
                action = "conflict"
            appenders[index](action)
    return actions


def run(rows: int, seed: int) -> dict[str, object]:
    frame = build(rows, seed)
    classify_fields(frame.head(1_000), FIELDS)  # warm-up: thread pool, expression setup

    started = time.perf_counter()
    by_polars = classify_fields(frame, FIELDS)
    polars_s = time.perf_counter() - started

    started = time.perf_counter()
    by_python = classify_in_python(frame)
    python_s = time.perf_counter() - started

    for field in FIELDS:
        expected = pl.Series(f"{field}_action", by_python[field], dtype=FieldAction)
        if not by_polars[f"{field}_action"].equals(expected):
            raise SystemExit(f"Polars and Python disagree on {field}")
    if not all(isinstance(v, Decimal) for v in frame["desired_price"].head(3).to_list()):
        raise SystemExit("prices must reach Python as Decimal")
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "rows": rows,
        "polars_s": round(polars_s, 3),
        "python_s": round(python_s, 3),
        "speedup": round(python_s / polars_s, 1),
        "peak_rss_mb": round(peak_rss_mb),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="joined (shop, variant) rows (default 1000000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the synthetic frame (default 7)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    print(json.dumps(run(args.rows, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
