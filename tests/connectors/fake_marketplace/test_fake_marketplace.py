# A third marketplace added with no edit outside its package: connect, pull, diff, push and a webhook, end to end.
"""Fakemart (spec + simulator, in this package) is registered at run time and SyncStore serves it.

The seller connects through the receiver's OAuth routes (as the app's link does), the core pulls
the shop's snapshot, the dry run shows the diff against the master catalog, the sync pushes the
price and stock the simulator then shows, and a signed order webhook delivered to the receiver is
applied by the core (the ledger lowers the stock and pushes it back to the shop).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from connectors import registry
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection
from syncstore.inventory import ledger as inventory
from syncstore.security.auth import Actor, Role
from syncstore.settings import Settings
from syncstore.shops import marketplaces, oauth
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.workers import dispatch
from tests.connectors.fake_marketplace.simulator import FakemartSimulator
from tests.connectors.fake_marketplace.spec import APP_KEY, APP_SECRET, PLATFORM, make_spec
from tests.syncstore.test_oauth import APP_URL, KEY_SPEC, KEYRING, PUBLIC_URL, make_user, params_of
from tests.webhook_receiver.helpers import serve
from webhook_receiver.app import create_app

SHOP_ID = "fm-shop-1"
EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)


@pytest.fixture
def fakemart() -> Iterator[FakemartSimulator]:
    simulator = FakemartSimulator(APP_KEY, APP_SECRET, SHOP_ID, "Fake Mart demo shop")
    simulator.add_item("Linen shirt", [("FM-LINEN-1", Decimal("10.00"), 4)])
    unregister = registry.register(make_spec(simulator.transport))
    try:
        yield simulator
    finally:
        unregister()


def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url, redis_url=None, public_url=PUBLIC_URL, app_url=APP_URL, encryption_keys=KEY_SPEC,
        webhook_per_ip_per_minute=0, webhook_timestamp_tolerance_seconds=3600,
    )  # fmt: skip


def master_product(engine: sa.Engine) -> MasterProduct:
    data = {
        "title": "Linen shirt", "category": "Fashion", "base_price": "12.50", "weight_kg": "0.3",
        # The image the marketplace already shows: no image to upload (Fake Mart has no media upload).
        "images": ["https://img.example.com/fm.jpg"], "description": "<p>Soft linen</p>",
        "variants": [{"sku": "FM-LINEN-1", "name": "One size", "price": "12.50", "stock": 7}],
    }  # fmt: skip
    with transaction(engine) as session:
        product = catalog.create_product(EDITOR, session, data)
        sync.set_category_mapping(EDITOR, session, PLATFORM, "Fashion", "fm-cat-1")
        session.expunge(product)
        return product


def test_a_registered_marketplace_is_connected_pulled_diffed_pushed_and_its_webhooks_applied(
    engine: sa.Engine, db_url: str, fakemart: FakemartSimulator
) -> None:
    config = settings(db_url)
    admin = make_user(engine, "owner@example.com", "admin")
    product = master_product(engine)
    [variant_id] = [variant.id for variant in product.variants]

    with serve(create_app(config, engine)) as receiver:
        # Connect: the app's link -> the receiver's start route -> the marketplace's page -> the callback.
        link = oauth.start_authorization(admin, PLATFORM, settings=config)
        started = receiver.get(link)
        assert started.status_code == 302
        callback = fakemart.approve(started.headers["location"])
        assert urlsplit(callback).path == f"/oauth/{PLATFORM}/callback"
        finished = receiver.get(callback)
        assert finished.status_code == 303, finished.text
        assert params_of(finished.headers["location"]) == {"connected": f"{PLATFORM}:{SHOP_ID}"}
        with transaction(engine) as session:
            [connection] = session.scalars(sa.select(PlatformConnection)).all()
            connection_id = connection.id
            assert (connection.platform, connection.shop_id, connection.status) == (PLATFORM, SHOP_ID, "connected")
            assert connection.region == "SG" and connection.last_error is None
        assert fakemart.webhook_url == f"{PUBLIC_URL}/webhooks/{PLATFORM}"

        connectors = marketplaces.CachedConnectors(engine, config, keyring=KEYRING)
        try:
            # Pull the shop's snapshot.
            pulled = snapshot.pull(engine, connection_id, connectors(connection_id), full=True)
            assert (pulled.listings, pulled.skus) == (1, 1)

            # The diff: the master catalog's price and stock against what the shop shows.
            [plan] = sync.dry_run(engine, connection_ids=[connection_id])
            assert plan.platform == PLATFORM and plan.would_succeed
            assert {change.operation for change in plan.changes} >= {"update_price", "update_stock"}

            # Push: the marketplace now shows the master's price and stock.
            report = sync.sync_shop(engine, connection_id, connectors(connection_id))
            assert report.failed == 0 and report.invalid == 0 and report.succeeded >= 2
            shown = fakemart.sku("FM-LINEN-1")
            assert (shown.price, shown.stock) == (Decimal("12.50"), 7)
            assert sync.dry_run(engine, connection_ids=[connection_id])[0].changes == ()

            # A buyer orders 2: the marketplace's signed webhook goes through the receiver's route ...
            url, body, headers = fakemart.place_order("FM-LINEN-1", 2)
            delivered = receiver.post(urlsplit(url).path, body, headers)
            assert delivered.status_code == 200, delivered.text
            forged = receiver.post(urlsplit(url).path, body.replace(b"FM-", b"FX-"), headers)
            assert forged.status_code == 401

            # ... and the core applies it: the ledger reserves the units and pushes the new stock.
            writes_before = len(fakemart.writes)
            applied = dispatch.process_events(engine, connectors)
            assert (applied.claimed, applied.completed, applied.failed) == (1, 1, 0)
        finally:
            connectors.close()

    with transaction(engine) as session:
        [level] = inventory.levels(session, [variant_id])
    assert level.available == 5
    stock_writes = [body for kind, _, body in fakemart.writes[writes_before:] if kind == "stock"]
    assert stock_writes == [{"skus": {shown.sku_id: "5"}}]
    assert fakemart.sku("FM-LINEN-1").stock == 5
