# Browser test of issue 17 item 1: an Editor binds an orphan Shopee listing to a master SKU; the stock follows.
"""SKU mapping in a real browser.

Reuses the publishing browser test's running system (both simulators in this process, the app on
loopback over a fresh SQLite database with an Editor and both shops connected) and its Chromium.
The Shopee simulator holds a listing whose seller SKU (`OLD-MUG-7`, stock 7, 10.00) is no
spelling of the master SKU `ENAMEL-MUG` (stock 12, 12.90), so it is an orphan after a pull. As an
Editor, on the Listings page: find it, preview (stock 7 -> 12, price 10.00 -> 12.90), bind. The
events worker (`dispatch.serve_events`, as `syncstore worker` runs it) then pushes the master's
stock: the simulator shows 12, and so does the page.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import sqlalchemy as sa

from bench.api_calls import SHOPEE_SHOP
from syncstore.catalog.commands import create_product
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import PlatformConnection, PlatformListingSku
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.shops import marketplaces
from syncstore.sync import snapshot
from syncstore.workers import dispatch
from tests.browser import test_publishing_browser as publishing
from tests.browser.test_publishing_browser import (
    WAIT_MS,
    System,
    _choose,
    _click_until,
    _idle,
    _open,
    _shot,
    _sign_in,
    _type,
)

# The publishing test's fixtures, reused: its running system (simulators + app) and its Chromium.
system = publishing.system
browser = publishing.browser
SELLER_SKU, MASTER_SKU = "OLD-MUG-7", "ENAMEL-MUG"
PUSH_DEADLINE_S = 60


def _seed_orphan(engine: sa.Engine, system: System, keyring: crypto.Keyring) -> int:
    """The master product, and the orphan listing on Shopee pulled into the snapshot; the item id."""
    with transaction(engine) as session:
        create_product(Actor.command_line(), session, {
            "title": "Enamel mug", "category": "Kitchen", "base_price": "12.90", "currency": "MYR",
            "variants": [{"sku": MASTER_SKU, "name": "One size", "stock": 12}],
        })  # fmt: skip
        shopee = session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.platform == "shopee")).one()
    item_id = system.markets.shopee.add_item(
        SHOPEE_SHOP, name="Old enamel mug", item_sku=SELLER_SKU, price="10.00", stock=7
    )
    connector = marketplaces.connector_for(engine, shopee, settings=system.markets.settings, keyring=keyring)
    snapshot.pull(engine, shopee, connector, full=True)
    with transaction(engine) as session:
        sku = session.scalars(sa.select(PlatformListingSku).where(PlatformListingSku.seller_sku == SELLER_SKU)).one()
        assert (sku.variant_id, sku.remote_stock) == (None, 7)
    return item_id


def _shopee_stock(system: System, item_id: int) -> int:
    return system.markets.shopee.state.items[item_id].models[0].total_stock


def test_an_editor_binds_an_orphan_listing_and_the_shops_stock_follows(system: System, browser: Any) -> None:
    from playwright.sync_api import expect

    engine = create_engine(system.database_url)
    keyring = crypto.Keyring.parse(system.keys)
    stop = threading.Event()
    worker: threading.Thread | None = None
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    try:
        item_id = _seed_orphan(engine, system, keyring)
        _sign_in(page, system.base)
        _open(page, "Listings")
        _choose(page, "State", "orphan")
        _type(page, "Search", "enamel")
        expect(page.locator("p", has_text="no master SKU has the key 'oldmug7'")).to_be_visible(timeout=WAIT_MS)
        _type(page, "Master SKU", MASTER_SKU)
        preview = page.get_by_text(
            re.compile(rf"shop Browser Shopee, SKU {SELLER_SKU}: stock 7 (->|→) 12, price 10\.00 (->|→) 12\.90")
        )
        _click_until(page, "Preview binding", preview)
        _shot(page, "bindings-01-preview")
        _click_until(page, "Bind", page.get_by_text(re.compile(r"^Bound: shop Browser Shopee")))
        assert _shopee_stock(system, item_id) == 7  # nothing pushed until the worker runs

        def factory(connection_id: int) -> Any:
            return marketplaces.connector_for(engine, connection_id, settings=system.markets.settings, keyring=keyring)

        worker = threading.Thread(
            target=dispatch.serve_events, args=(engine, factory), kwargs={"stop": stop, "poll_interval_s": 0.2},
            daemon=True,
        )  # fmt: skip
        worker.start()
        deadline = time.monotonic() + PUSH_DEADLINE_S
        while _shopee_stock(system, item_id) != 12 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _shopee_stock(system, item_id) == 12, "the worker did not push the master's stock to the shop"

        _choose(page, "State", "bound")
        expect(
            page.locator("p", has_text=re.compile(rf"{SELLER_SKU} .* → {MASTER_SKU} · shop stock 12"))
        ).to_be_visible(timeout=WAIT_MS)
        _idle(page)
        _shot(page, "bindings-02-bound")
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=30)
        page.close()
        engine.dispose()
