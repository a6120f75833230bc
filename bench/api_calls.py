# Benchmark: API calls of a change sync against what the platforms' batch limits allow; cost of an idle reconcile.
"""`python -m bench.api_calls --products 10000 [--seed 7] [--database-url URL]`

Against the three simulators (Shopee, TikTok Shop and Lazada, one shop each, served in this process;
Lazada's inventory call limit off, as the other two enforce none):

1. a master catalog of N products with 3 variants each (sizes S, M, L), every shop connected and
   the category mapped; a first pull (the shops are empty) sets the snapshot cursors;
2. a full sync lists the whole catalog in both shops; after the snapshot overlap has passed, a pull
   reads back what the shops now hold;
3. `incremental_list_calls`: an incremental pull of the unchanged catalog, counted from the
   simulators' request logs (the most any shop needed; the target is at most 2 per shop);
4. stock is changed on 5 % and the price on 2 % of the variants (seeded), then one sync per shop;
   `calls` is what that sync sent (counted by the simulators), `minimum` what the platform batch
   limits allow for those changes (one call per item and kind of change, 50 models a call on
   Shopee, one product a call on TikTok Shop, 20 SKUs a call on Lazada), `ratio` = calls / minimum
   (target at most 1.05).

The database is a throwaway SQLite file unless `--database-url` names one (it must be empty).
Prints ONE JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr

from connectors.lazada.codes import PLATFORM as LAZADA
from connectors.lazada.simulator.server import LazadaSimulator
from connectors.shopee.codes import PLATFORM as SHOPEE
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.codes import PLATFORM as TIKTOKSHOP
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from demo.images import SampleImageServer
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import MasterProduct, PlatformListing, PlatformListingSku, ProductVariant
from syncstore.plan import validation as sync_validation
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.settings import Settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync
from syncstore.sync import snapshot

PARTNER_ID, PARTNER_KEY = 2001887, "bench-partner-key-0123456789"
APP_KEY, APP_SECRET = "bench-app-key", "bench-app-secret-0123456789"
LAZADA_APP_KEY, LAZADA_APP_SECRET = "100777", "bench-lazada-secret-0123456789"
SHOPEE_SHOP, TIKTOK_SHOP, LAZADA_SELLER = 9001, "7494000000000009001", "1000009001"
LAZADA_CATEGORY = "20001"  # a leaf of the Lazada simulator's category tree
# Every marketplace a benchmark can start; `Marketplaces()` alone starts the first two (what older callers expect).
ALL_PLATFORMS: tuple[str, ...] = (SHOPEE, TIKTOKSHOP, LAZADA)
SIZES = ("S", "M", "L")
INSERT_CHUNK = 2000


class Marketplaces:
    """The simulators with one shop each (Shopee and TikTok Shop, and Lazada when `platforms` names it),
    and the settings that reach them."""

    def __init__(self, platforms: Collection[str] = (SHOPEE, TIKTOKSHOP)) -> None:
        self.platforms = tuple(name for name in ALL_PLATFORMS if name in platforms)
        self.shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY)
        self.tiktok = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
        shopee_url, tiktok_url = self.shopee.start(), self.tiktok.start()
        self.shopee.add_shop(SHOPEE_SHOP, "Bench Shopee", currency="MYR")
        self.cipher = self.tiktok.add_shop(TIKTOK_SHOP, "Bench TikTok", currency="MYR")
        self.settings = Settings(
            shopee_partner_id=PARTNER_ID, shopee_partner_key=PARTNER_KEY, shopee_host=shopee_url,
            tiktokshop_app_key=APP_KEY, tiktokshop_app_secret=APP_SECRET, tiktokshop_api_host=tiktok_url,
            tiktokshop_auth_host=tiktok_url, tiktokshop_authorize_host=tiktok_url,
        )  # fmt: skip
        self.lazada: LazadaSimulator | None = None
        if LAZADA in self.platforms:
            # The documented 50 inventory calls per second are off: the benchmarks count calls, not waits.
            self.lazada = LazadaSimulator(
                app_key=LAZADA_APP_KEY, app_secret=LAZADA_APP_SECRET, inventory_calls_per_s=10**9
            )
            lazada_url = self.lazada.start()
            self.lazada.add_seller(LAZADA_SELLER, "Bench Lazada", country="my")
            self.settings = self.settings.model_copy(
                update={
                    "lazada_app_key": LAZADA_APP_KEY, "lazada_app_secret": SecretStr(LAZADA_APP_SECRET),
                    "lazada_api_host": lazada_url, "lazada_auth_host": lazada_url,
                    "lazada_authorize_host": lazada_url,
                }
            )  # fmt: skip

    def lazada_sim(self) -> LazadaSimulator:
        if self.lazada is None:
            raise RuntimeError("Lazada was not started: pass it in `platforms`")
        return self.lazada

    def requests(self, platform: str) -> int:
        if platform == SHOPEE:
            return self.shopee.request_count()
        if platform == LAZADA:
            return sum(self.lazada_sim().request_counts.values())
        return sum(self.tiktok.request_counts.values())

    def list_requests(self, platform: str) -> int:
        if platform == SHOPEE:
            return self.shopee.request_count("/api/v2/product/get_item_list")
        if platform == LAZADA:
            return self.lazada_sim().requests("/products/get")
        return self.tiktok.requests("/product/202309/products/search")

    def listings(self) -> int:
        """Listings (items, products) the simulators hold, all shops together."""
        lazada = len(self.lazada.state.products) if self.lazada is not None else 0
        return len(self.shopee.state.items) + len(self.tiktok.state.products) + lazada

    def stop(self) -> None:
        self.shopee.stop()
        self.tiktok.stop()
        if self.lazada is not None:
            self.lazada.stop()


def seed_catalog(engine: sa.Engine, products: int, image_url: str = "https://img.example.com/bench/cover.jpg") -> None:
    """N products x 3 variants, inserted in bulk (the catalog commands' audit trail is not what is measured),
    all with the one cover `image_url` (fetched once, uploaded once per shop by the full sync)."""
    now = datetime.now(UTC)
    for start in range(0, products, INSERT_CHUNK):
        numbers = range(start, min(start + INSERT_CHUNK, products))
        rows = [
            {"handle": f"bench-{n}", "title": f"Bench product {n}", "description": f"<p>Product {n}</p>",
             "category": "Fashion", "brand": "", "base_price": Decimal("19.90") + n % 50, "currency": "MYR",
             "weight_kg": Decimal("0.400"), "images": [image_url], "tags": [],
             "status": "active", "version": 1, "created_at": now, "updated_at": now}
            for n in numbers
        ]  # fmt: skip
        with transaction(engine) as session:
            session.execute(sa.insert(MasterProduct), rows)
            ids = dict(
                session.execute(
                    sa.select(MasterProduct.handle, MasterProduct.id).where(
                        MasterProduct.handle.in_([row["handle"] for row in rows])
                    )
                ).all()
            )
            variants = [
                {"product_id": ids[f"bench-{n}"], "sku": f"B{n}-{size}", "name": size, "price": None,
                 "stock": 10 + n % 7, "reserved": 0, "attributes": {"Size": size}, "is_active": True,
                 "created_at": now, "updated_at": now}
                for n in numbers
                for size in SIZES
            ]  # fmt: skip
            session.execute(sa.insert(ProductVariant), variants)


def connect_shops(engine: sa.Engine, markets: Marketplaces, keyring: crypto.Keyring) -> dict[str, int]:
    admin = Actor.command_line()
    expires = datetime.now(UTC) + timedelta(hours=3)
    shopee_tokens = markets.shopee.issue_tokens(SHOPEE_SHOP)
    tiktok_tokens = markets.tiktok.issue_tokens(TIKTOK_SHOP)
    with transaction(engine) as session:
        shopee = connections.save_connection(
            admin, session, platform=SHOPEE, shop_id=str(SHOPEE_SHOP), access_token=shopee_tokens[0],
            refresh_token=shopee_tokens[1], access_token_expires_at=expires, refresh_token_expires_at=None,
            keyring=keyring,
        )  # fmt: skip
        tiktok = connections.save_connection(
            admin, session, platform=TIKTOKSHOP, shop_id=TIKTOK_SHOP, access_token=tiktok_tokens[0],
            refresh_token=tiktok_tokens[1], access_token_expires_at=expires, refresh_token_expires_at=None,
            shop_cipher=markets.cipher, keyring=keyring,
        )  # fmt: skip
        sync.set_category_mapping(admin, session, SHOPEE, "Fashion", "100017")
        sync.set_category_mapping(admin, session, TIKTOKSHOP, "Fashion", "600001")
        ids = {SHOPEE: shopee.id, TIKTOKSHOP: tiktok.id}
        if markets.lazada is not None:
            lazada_tokens = markets.lazada.token_for(LAZADA_SELLER)
            lazada = connections.save_connection(
                admin, session, platform=LAZADA, shop_id=LAZADA_SELLER, region="MY", access_token=lazada_tokens[0],
                refresh_token=lazada_tokens[1], access_token_expires_at=expires, refresh_token_expires_at=None,
                keyring=keyring,
            )  # fmt: skip
            sync.set_category_mapping(admin, session, LAZADA, "Fashion", LAZADA_CATEGORY)
            ids[LAZADA] = lazada.id
    return ids


def change_catalog(engine: sa.Engine, rng: random.Random) -> tuple[list[int], list[int]]:
    """New stock on 5 % and a new price on 2 % of the variants: (stock variant ids, price variant ids)."""
    with transaction(engine) as session:
        variant_ids = list(session.scalars(sa.select(ProductVariant.id).order_by(ProductVariant.id)))
        stock_ids = rng.sample(variant_ids, round(len(variant_ids) * 0.05))
        price_ids = rng.sample(variant_ids, round(len(variant_ids) * 0.02))
        for variant_id in stock_ids:
            session.execute(
                sa.update(ProductVariant).where(ProductVariant.id == variant_id).values(stock=ProductVariant.stock + 3)
            )
        for variant_id in price_ids:
            session.execute(
                sa.update(ProductVariant).where(ProductVariant.id == variant_id).values(price=Decimal("77.70"))
            )
    return stock_ids, price_ids


def minimum_calls(engine: sa.Engine, shop_ids: dict[str, int], stock_ids: list[int], price_ids: list[int]) -> int:
    """What the platform batch limits allow: per shop, per kind of change, ceil(changed SKUs / batch) per item."""
    total = 0
    with transaction(engine) as session:
        for platform, connection_id in shop_ids.items():
            limits = sync_validation.rules_for(platform)
            for variant_ids in (stock_ids, price_ids):
                per_item: dict[str, int] = defaultdict(int)
                for start in range(0, len(variant_ids), 500):
                    rows = session.execute(
                        sa.select(PlatformListing.remote_item_id)
                        .join(PlatformListingSku, PlatformListingSku.listing_id == PlatformListing.id)
                        .where(
                            PlatformListingSku.connection_id == connection_id,
                            PlatformListingSku.variant_id.in_(variant_ids[start : start + 500]),
                        )
                    ).all()
                    for (item_id,) in rows:
                        per_item[item_id] += 1
                total += sum(math.ceil(n / limits.sku_batch) for n in per_item.values())
    return total


def run(products: int, seed: int, database_url: str | None) -> dict[str, Any]:
    rng = random.Random(seed)
    scratch = tempfile.TemporaryDirectory(prefix="bench-api-calls-")
    url = database_url or f"sqlite:///{Path(scratch.name) / 'bench.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    keyring = crypto.Keyring.parse(crypto.generate_key("bench"))
    markets = Marketplaces(ALL_PLATFORMS)
    images = SampleImageServer()
    try:
        seed_catalog(engine, products, f"{images.start()}/bench/cover.jpg")
        shop_ids = connect_shops(engine, markets, keyring)
        connector: Callable[[int], Any] = lambda cid: marketplaces.connector_for(  # noqa: E731
            engine, cid, settings=markets.settings, keyring=keyring
        )
        connectors = {platform: connector(cid) for platform, cid in shop_ids.items()}
        for platform, cid in shop_ids.items():
            snapshot.pull(engine, cid, connectors[platform])  # empty shops: sets the cursor

        started = time.monotonic()
        full = {platform: markets.requests(platform) for platform in shop_ids}
        reports = {p: sync.sync_shop(engine, cid, connectors[p], run_id="bench-full") for p, cid in shop_ids.items()}
        full_sync_s = time.monotonic() - started
        full_calls = {platform: markets.requests(platform) - full[platform] for platform in shop_ids}
        time.sleep(snapshot.OVERLAP.total_seconds() + 1)  # let the writes age out of the overlap window
        for platform, cid in shop_ids.items():
            snapshot.pull(engine, cid, connectors[platform])  # read back what the shops hold now

        lists_before = {platform: markets.list_requests(platform) for platform in shop_ids}
        for platform, cid in shop_ids.items():
            snapshot.pull(engine, cid, connectors[platform])
        incremental = {platform: markets.list_requests(platform) - lists_before[platform] for platform in shop_ids}

        stock_ids, price_ids = change_catalog(engine, rng)
        before = {platform: markets.requests(platform) for platform in shop_ids}
        change_reports = {
            p: sync.sync_shop(engine, cid, connectors[p], run_id="bench-change") for p, cid in shop_ids.items()
        }
        calls = {platform: markets.requests(platform) - before[platform] for platform in shop_ids}
        minimum = minimum_calls(engine, shop_ids, stock_ids, price_ids)
        in_sync = all(not plan.changes for plan in sync.dry_run(engine))
    finally:
        markets.stop()
        images.stop()
        engine.dispose()
        scratch.cleanup()
    total = sum(calls.values())
    return {
        "products": products,
        "variants": products * len(SIZES),
        "calls": total,
        "minimum": minimum,
        "ratio": round(total / minimum, 4) if minimum else None,
        "incremental_list_calls": max(incremental.values()),
        "per_shop": {
            platform: {
                "full_sync_calls": full_calls[platform],
                "full_sync_failed": reports[platform].failed + reports[platform].invalid,
                "change_calls": calls[platform],
                "change_failed": change_reports[platform].failed + change_reports[platform].invalid,
                "incremental_list_calls": incremental[platform],
            }
            for platform in shop_ids
        },
        "changed": {"stock_variants": len(stock_ids), "price_variants": len(price_ids)},
        "full_sync_s": round(full_sync_s, 2),
        "in_sync_after": in_sync,
    }


def main() -> None:
    # The simulators answer from threads of this process: hand the GIL over quickly so a request
    # does not wait out the default 5 ms switch interval on each side.
    sys.setswitchinterval(0.0002)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a throwaway SQLite file)")
    args = parser.parse_args()
    print(json.dumps(run(args.products, args.seed, args.database_url)))


if __name__ == "__main__":
    main()
