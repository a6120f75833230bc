# O3: a push process SIGKILLed after the platform call and before it recorded the outcome runs again with ONE effect.
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import SyncLog
from syncstore.inventory import ledger as inventory
from syncstore.sync import engine as sync
from tests.syncstore.simulated_shops import EDITOR, KEY_SPEC, MarketplaceWorld

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def killed_worker(world: MarketplaceWorld, connection_id: int, die_after: str, **job: object) -> None:
    """Run the push in a real process that SIGKILLs itself right after `die_after` returned."""
    settings = {
        key: value.get_secret_value() if hasattr(value, "get_secret_value") else value
        for key, value in world.settings.model_dump().items()
        if key.startswith(("shopee_", "tiktokshop_")) and value is not None
    }
    payload = {"db_url": world.engine.url.render_as_string(hide_password=False), "connection_id": connection_id,
               "settings": settings, "die_after": die_after, "run": "sync_shop", **job}  # fmt: skip
    process = subprocess.run(
        [sys.executable, "-m", "tests.faults.push_kill_worker"], input=json.dumps(payload), text=True,
        capture_output=True, cwd=REPO, env={**os.environ, "SYNCSTORE_TEST_KEYRING": KEY_SPEC}, timeout=120,
    )  # fmt: skip
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]


def logs(engine: sa.Engine, operation: str) -> list[tuple[str, int]]:
    with transaction(engine) as session:
        rows = session.scalars(sa.select(SyncLog).where(SyncLog.operation == operation).order_by(SyncLog.id)).all()
        return [(row.status, row.attempts) for row in rows]


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
def test_a_create_killed_after_the_platform_call_creates_one_listing(world: MarketplaceWorld, platform: str) -> None:
    connection_id = world.shopee_connection if platform == "shopee" else world.tiktok_connection
    shirt = world.product("O3-SHIRT", variants=2)
    killed_worker(world, connection_id, "create_listing")
    assert world.listings_created()[platform] == 1
    assert logs(world.engine, "create") == [("pending", 1)]  # the outcome was never recorded

    report = sync.sync_shop(world.engine, connection_id, world.connector(connection_id))
    assert (report.succeeded, report.failed) == (1, 0)
    assert world.listings_created()[platform] == 1  # the second run found the first run's listing
    assert logs(world.engine, "create") == [("success", 2)]  # one row: the same change, tried twice
    assert world.pending_pushes()[connection_id] == []
    assert {world.remote_item(connection_id, v.id)[0] for v in shirt.variants} == {
        world.remote_item(connection_id, shirt.variants[0].id)[0]
    }


@pytest.mark.parametrize("platform", ["shopee", "tiktokshop"])
def test_a_stock_push_killed_after_the_platform_call_has_one_effect(world: MarketplaceWorld, platform: str) -> None:
    connection_id = world.shopee_connection if platform == "shopee" else world.tiktok_connection
    mug = world.product("O3-MUG", stock=5)
    variant_id = mug.variants[0].id
    sync.sync_shop(world.engine, connection_id, world.connector(connection_id))
    item_id, sku_id = world.remote_item(connection_id, variant_id)
    write_log = world.shopee.write_log if platform == "shopee" else world.tiktok.write_log
    write_log.clear()
    with transaction(world.engine) as session:
        inventory.adjust_stock(EDITOR, session, variant_id, set_to=2)

    killed_worker(world, connection_id, "update_stock", run="push_stock", variant_ids=[variant_id])
    assert world.shown(connection_id, variant_id)["stock"] == 2
    assert logs(world.engine, "update_stock") == [("pending", 1)]

    reports = sync.push_stock(world.engine, [variant_id], world.connector)
    assert [(r.connection_id, r.succeeded) for r in reports if r.planned] == [(connection_id, 1)]
    writes = [e for e in write_log.entries(field_name="stock") if e.item_id == item_id and e.sku_id == sku_id]
    assert [(e.old, e.new) for e in writes] == [(5, 2), (2, 2)]  # sent twice, ONE effect
    assert write_log.effective_count(sku_id, "stock") == 1
    assert logs(world.engine, "update_stock") == [("success", 2)]
