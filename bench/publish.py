# Benchmark: the sample catalog published to three empty shops, images uploaded once per shop, nothing repeated.
"""`python -m bench.publish --products 200 [--database-url URL]`

Fresh simulators (Shopee, TikTok Shop and Lazada, one empty shop each, served in this process, rate
limits off; Lazada's new products pass QC at once) and the demo's sample images served locally
(`demo.images`). The first `--products` products of the sample catalog are imported (their image
URLs pointed at the local image server), every master category is mapped the way the demo maps it,
and each shop is synced once: every product is created with its images fetched once, stored by hash
and uploaded once per shop.

- `published`: listings the simulators hold afterwards; `expected`: active products x shops;
  `refused`: create changes that failed or were not sent (invalid), with `refusals` (the first reasons);
- `image_uploads`: upload calls made; `unique_images`: distinct image contents of those products;
  `upload_ratio` = image_uploads / (unique_images x shops) (target 1.0);
- `api_calls`: requests the simulators received during the publish; `minimum_calls`: per shop, the
  create calls the platform needs for each listing plus one upload per unique image;
- `seconds`: the publish's wall time;
- then, after the snapshot overlap, every shop is read back and synced again:
  `second_run_uploads` and `second_run_creates` (targets 0) and `second_run_changes` (changes planned).

The database is a throwaway SQLite file unless `--database-url` names an empty one. Prints ONE JSON object.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.api_calls import ALL_PLATFORMS, Marketplaces, connect_shops
from connectors.base import Connector, UploadedImage
from demo.database import map_categories
from demo.images import SampleImageServer, catalog_with_local_images
from syncstore.catalog.importer import import_csv
from syncstore.data import sample_catalog_path
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import MasterProduct, MediaSource, ProductVariant, SyncLog
from syncstore.plan import validation as sync_validation
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.shops import marketplaces
from syncstore.sync import engine as sync
from syncstore.sync import snapshot


class CountingConnector:
    """A shop's connector that counts its image uploads (everything else passes through)."""

    def __init__(self, inner: Connector) -> None:
        self._inner = inner
        self.platform = inner.platform
        self.uploads = 0

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        self.uploads += 1
        return self._inner.upload_image(content, filename, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def first_products(source: Path, target: Path, products: int) -> Path:
    """The rows of the first `products` products (a product's rows are consecutive, by handle)."""
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        handles: list[str] = []
        kept: list[dict[str, str]] = []
        for row in reader:
            if not handles or row["handle"] != handles[-1]:
                if len(handles) == products:
                    break
                handles.append(row["handle"])
            kept.append(row)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(kept)
    target.write_text(out.getvalue(), encoding="utf-8")
    return target


def active_products(engine: sa.Engine) -> list[tuple[list[str], bool]]:
    """(images, single: one variant without attributes) of each active product."""
    with transaction(engine) as session:
        rows = session.execute(
            sa.select(MasterProduct.id, MasterProduct.images).where(MasterProduct.status == "active")
        ).all()
        variants = dict(
            session.execute(
                sa.select(ProductVariant.product_id, sa.func.count())
                .where(ProductVariant.is_active.is_(True))
                .group_by(ProductVariant.product_id)
            ).all()
        )
        attributes = {
            product_id
            for product_id, values in session.execute(sa.select(ProductVariant.product_id, ProductVariant.attributes))
            if values
        }
    return [(list(images or []), variants.get(pid, 0) == 1 and pid not in attributes) for pid, images in rows]


def unique_images(engine: sa.Engine, urls: Sequence[str]) -> int:
    with transaction(engine) as session:
        hashes: set[str] = set()
        for start in range(0, len(urls), 500):
            hashes.update(
                session.scalars(
                    sa.select(MediaSource.content_hash).where(MediaSource.source_url.in_(urls[start : start + 500]))
                )
            )
    return len(hashes)


def refusals(engine: sa.Engine, run_id: str) -> list[str]:
    with transaction(engine) as session:
        return list(
            session.scalars(
                sa.select(SyncLog.error_message).where(
                    SyncLog.run_id == run_id, SyncLog.operation == "create", SyncLog.status != "success"
                )
            )
        )


def run(products: int, database_url: str | None) -> dict[str, Any]:
    scratch = tempfile.TemporaryDirectory(prefix="bench-publish-")
    engine = create_engine(database_url or f"sqlite:///{Path(scratch.name) / 'bench.db'}")
    migrate.upgrade(engine)
    images = SampleImageServer()
    base = images.start()
    markets = Marketplaces(ALL_PLATFORMS)
    keyring = crypto.Keyring.parse(crypto.generate_key("bench"))
    try:
        catalog = first_products(sample_catalog_path(), Path(scratch.name) / "first.csv", products)
        catalog = catalog_with_local_images(catalog, Path(scratch.name) / "catalog.csv", base)
        report = import_csv(Actor.command_line(), engine, catalog, strict=True)
        if report.errors:
            raise SystemExit(f"the sample catalog did not import: {report.errors[:3]}")
        shop_ids = connect_shops(engine, markets, keyring)
        map_categories(engine)
        settings = markets.settings.model_copy(update={"ratelimit_enabled": False})
        connectors = {
            platform: CountingConnector(marketplaces.connector_for(engine, cid, settings=settings, keyring=keyring))
            for platform, cid in shop_ids.items()
        }
        for platform, cid in shop_ids.items():
            snapshot.pull(engine, cid, connectors[platform])  # empty shops: the cursor

        before = sum(markets.requests(platform) for platform in shop_ids)
        started = time.monotonic()
        for platform, cid in shop_ids.items():
            sync.sync_shop(engine, cid, connectors[platform], run_id="bench-publish")
        seconds = time.monotonic() - started
        api_calls = sum(markets.requests(platform) for platform in shop_ids) - before
        uploads = sum(connector.uploads for connector in connectors.values())
        published = markets.listings()
        refused = refusals(engine, "bench-publish")

        listed = active_products(engine)
        distinct = unique_images(engine, sorted({url for images_of, _single in listed for url in images_of}))
        minimum = 0
        for platform in shop_ids:
            rules = sync_validation.rules_for(platform)
            minimum += sum(sync_validation.create_calls(rules, 1, single) for _images, single in listed) + distinct

        time.sleep(snapshot.OVERLAP.total_seconds() + 1)  # the writes age out of the pull's overlap window
        for platform, cid in shop_ids.items():
            snapshot.pull(engine, cid, connectors[platform])  # read back what was published
        uploads_before = sum(connector.uploads for connector in connectors.values())
        second_changes = sum(len(plan.changes) for plan in sync.dry_run(engine))
        for platform, cid in shop_ids.items():
            sync.sync_shop(engine, cid, connectors[platform], run_id="bench-publish-again")
        second_uploads = sum(connector.uploads for connector in connectors.values()) - uploads_before
        second_creates = markets.listings() - published
    finally:
        markets.stop()
        images.stop()
        engine.dispose()
        scratch.cleanup()
    shops = len(shop_ids)
    return {
        "products": products,
        "published": published,
        "expected": len(listed) * shops,
        "refused": len(refused),
        "refusals": sorted(set(refused))[:5],
        "image_uploads": uploads,
        "unique_images": distinct,
        "upload_ratio": round(uploads / (distinct * shops), 4) if distinct else None,
        "api_calls": api_calls,
        "minimum_calls": minimum,
        "seconds": round(seconds, 2),
        "second_run_uploads": second_uploads,
        "second_run_creates": second_creates,
        "second_run_changes": second_changes,
    }


def main(argv: list[str] | None = None) -> None:
    # The simulators answer from threads of this process: hand the GIL over quickly.
    sys.setswitchinterval(0.0002)
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a throwaway SQLite file)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.products, args.database_url)))


if __name__ == "__main__":
    main()
