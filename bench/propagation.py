# Benchmark: how long an order on one marketplace takes to move the stock shown on the other, through the whole system.
"""Order-to-stock propagation benchmark.

`python -m bench.propagation --orders 50 [--seed 7] [--gap-min 0.5 --gap-max 4]`

Starts the demo's processes with the demo's settings (`demo.supervisor`: the three simulators
(Shopee, TikTok Shop, Lazada), the webhook receiver, the events worker and Dagster; no Streamlit)
in a scratch data directory, on the embedded defaults (SQLite, no Redis) unless
SYNCSTORE_DATABASE_URL / SYNCSTORE_REDIS_URL are set, and waits until every shop is connected and
in sync. Then it places `--orders` one-unit orders at random times (gaps drawn uniformly between
--gap-min and --gap-max seconds), each on a random marketplace and a different SKU listed on all
three. An order's propagation time runs from its creation on one simulator to the moment the first
stock write for that SKU has landed on EVERY other simulator (the slowest of the two, read from
their write logs, same machine clock). An order whose stock never reaches every other shop within
`--deadline` seconds of the last order is `lost`.

`pushes_per_order` counts the stock writes that reached the simulators for the ordered SKUs (from
their write logs, `/_demo/writes`, after `--settle` seconds of quiet once every order landed), per
order and per shop whose stock had to change (the two other shops): 1.0 is one push per order per
shop. The marketplace an order was placed on already shows its stock, so SyncStore's write there
changes nothing and the log does not list it; a second write of another value there (a stale push,
then the right one) would be counted. `per_platform` gives, for orders placed on each marketplace,
how many there were and their median propagation time.

Targets on this machine with the demo's settings: `lost` 0, `p95_s` at most 1 and
`pushes_per_order` 1.0. Prints ONE JSON object on stdout: {"orders", "p50_s", "p95_s", "max_s",
"lost", "pushes_per_order", "per_platform", ...}; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.config import DemoConfig, Part, Ports
from demo.control import MarketplaceControl
from demo.supervisor import Supervisor

# The marketplaces the demo runs, each a simulator process.
MARKETPLACES: tuple[Part, ...] = (Part.SHOPEE, Part.TIKTOKSHOP, Part.LAZADA)


@dataclass(frozen=True)
class Placed:
    sku: str
    on: Part
    others: tuple[Part, ...]
    created_at: float


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _candidate_skus(controls: dict[Part, MarketplaceControl]) -> list[str]:
    """SKUs listed on every shop with the same (synced) available stock, enough for an order."""
    listed = [control.skus() for control in controls.values()]
    common = set.intersection(*(set(skus) for skus in listed))
    return sorted(
        sku
        for sku in common
        if "-ONLY-" not in sku and len({skus[sku].available for skus in listed}) == 1 and listed[0][sku].available >= 3
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def _landed(placed: list[Placed], controls: dict[Part, MarketplaceControl], since: float) -> dict[int, float]:
    """Order index -> seconds until a stock write for its SKU had landed on every other marketplace."""
    writes = {part: control.writes(since=since, field="stock") for part, control in controls.items()}
    result: dict[int, float] = {}
    for index, order in enumerate(placed):
        firsts = []
        for other in order.others:
            times = [w.at for w in writes[other] if w.sku == order.sku and w.at >= order.created_at]
            if times:
                firsts.append(min(times))
        if firsts and len(firsts) == len(order.others):
            result[index] = max(firsts) - order.created_at
    return result


def _pushes_per_order(placed: list[Placed], controls: dict[Part, MarketplaceControl], since: float) -> float | None:
    """Stock writes that landed for the ordered SKUs, on any marketplace, per order and shop that had to change."""
    if not placed:
        return None
    writes = {part: control.writes(since=since, field="stock") for part, control in controls.items()}
    ordered = {order.sku for order in placed}
    landed = sum(1 for part_writes in writes.values() for write in part_writes if write.sku in ordered)
    return round(landed / sum(len(order.others) for order in placed), 2)


def measure(
    supervisor: Supervisor,
    *,
    orders: int,
    seed: int,
    gap_min: float,
    gap_max: float,
    deadline_s: float,
    settle_s: float = 5.0,
) -> dict[str, Any]:
    rng = random.Random(seed)
    controls = {part: supervisor.marketplace(part) for part in MARKETPLACES}
    try:
        skus = _candidate_skus(controls)
        if len(skus) < orders:
            raise SystemExit(f"only {len(skus)} synced SKUs on every shop; ask for fewer orders")
        chosen = rng.sample(skus, orders)
        started = time.time()
        placed: list[Placed] = []
        for index, sku in enumerate(chosen):
            time.sleep(rng.uniform(gap_min, gap_max))
            supervisor.check_children()
            on = rng.choice(MARKETPLACES)
            order = controls[on].place_order(sku, 1)
            placed.append(Placed(sku, on, tuple(part for part in MARKETPLACES if part is not on), order.created_at))
            _log(f"order {index + 1}/{orders} on {on.value}: {sku}")
        end = time.monotonic() + deadline_s
        landed = _landed(placed, controls, started)
        while len(landed) < len(placed) and time.monotonic() < end:
            supervisor.check_children()
            time.sleep(1)
            landed = _landed(placed, controls, started)
        time.sleep(settle_s)  # a second push of the same orders would land now
        pushes = _pushes_per_order(placed, controls, started)
    finally:
        for control in controls.values():
            control.close()
    seconds = list(landed.values())
    return {
        "orders": orders,
        "p50_s": round(statistics.median(seconds), 2) if seconds else None,
        "p95_s": round(_percentile(seconds, 0.95), 2) if seconds else None,
        "max_s": round(max(seconds), 2) if seconds else None,
        "lost": len(placed) - len(landed),
        "pushes_per_order": pushes,
        "per_platform": _per_platform(placed, landed),
    }


def _per_platform(placed: list[Placed], landed: dict[int, float]) -> dict[str, dict[str, Any]]:
    """For the orders placed on each marketplace: how many, how many landed, their median propagation."""
    result: dict[str, dict[str, Any]] = {}
    for part in MARKETPLACES:
        indexes = [index for index, order in enumerate(placed) if order.on is part]
        seconds = [landed[index] for index in indexes if index in landed]
        result[part.value] = {
            "orders": len(indexes),
            "lost": len(indexes) - len(seconds),
            "p50_s": round(statistics.median(seconds), 2) if seconds else None,
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.propagation", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gap-min", type=float, default=0.5, help="Shortest pause between two orders (s)")
    parser.add_argument("--gap-max", type=float, default=4.0, help="Longest pause between two orders (s)")
    parser.add_argument("--deadline", type=float, default=120.0, help="Wait this long after the last order (s)")
    parser.add_argument("--settle", type=float, default=5.0, help="Then this long for late pushes (s)")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="syncstore-propagation-"))
    config = DemoConfig(
        data_dir=data_dir,
        database_url=os.environ.get("SYNCSTORE_DATABASE_URL") or None,
        redis_url=os.environ.get("SYNCSTORE_REDIS_URL") or None,
        ports=Ports.free(),
        parts=frozenset({*MARKETPLACES, Part.RECEIVER, Part.DAGSTER, Part.WORKER}),
        orders_every_s=None,
        conflicting_edits=0,
    )
    supervisor = Supervisor(config, report=_log)
    try:
        t0 = time.monotonic()
        supervisor.start(wait_in_sync=True)
        startup_s = time.monotonic() - t0
        result = measure(
            supervisor,
            orders=args.orders,
            seed=args.seed,
            gap_min=args.gap_min,
            gap_max=args.gap_max,
            deadline_s=args.deadline,
            settle_s=args.settle,
        )
    finally:
        supervisor.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    result["startup_to_in_sync_s"] = round(startup_s, 1)
    result["database"] = "postgresql" if config.database_url else "sqlite"
    result["redis"] = bool(config.redis_url)
    result["cpus"] = os.cpu_count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
