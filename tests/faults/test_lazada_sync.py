# J3 and J5 for Lazada: the core's sync converges under faults, and a campaign lock fails only its item.
"""One Lazada seller connected to the core (through the registry only): products created with migrated images,
stock and price pushed; 20 % of calls failing (ApiCallLimit, ServiceTimeout, lost answers) still converges with
no listing made twice; a campaign stock lock (4170) fails that item with Lazada's words, no token refresh."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from connectors.base import Connector, ConnectorError
from connectors.lazada.simulator.server import LazadaSimulator
from connectors.retry import RetryPolicy
from connectors.simulator.common import FaultPlan
from demo.images import SampleImageServer
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection, PlatformListing, PlatformListingSku, SyncLog
from syncstore.inventory import ledger as inventory
from syncstore.settings import Settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from tests.syncstore.simulated_shops import ADMIN, EDITOR, KEYRING

APP_KEY, APP_SECRET, SELLER = "100888", "lazada-sync-secret-7", "1000555777"
LEAF = "20001"  # the simulator's T-Shirts leaf category


_images: list[SampleImageServer] = []


def sample_image_url(path: str = "p/1.jpg") -> str:
    """A real JPEG from a local image server (started once per test process): creates upload its bytes."""
    if not _images:
        server = SampleImageServer()
        server.start()
        _images.append(server)
    return f"{_images[0].base}/{path}"


@dataclass
class LazadaWorld:
    engine: sa.Engine
    sim: LazadaSimulator
    settings: Settings
    connection_id: int
    policy: RetryPolicy
    client: httpx.Client | None = None

    def connector(self) -> Connector:
        return marketplaces.connector_for(
            self.engine, self.connection_id, settings=self.settings, keyring=KEYRING, policy=self.policy,
            client=self.client,
        )  # fmt: skip

    def product(self, sku: str, *, title: str = "Linen shirt", price: str = "59.90", stock: int = 10) -> MasterProduct:
        from syncstore.catalog import commands as catalog

        data = {
            "title": title, "category": "Fashion", "base_price": price, "weight_kg": "0.3",
            "images": [sample_image_url()], "description": "<p>Soft linen</p>",
            "variants": [{"sku": sku, "name": "V1", "price": price, "stock": stock}],
        }  # fmt: skip
        with transaction(self.engine) as session:
            product = catalog.create_product(EDITOR, session, data)
            session.expunge(product)
            return product

    def remote(self, variant_id: int) -> tuple[str, str]:
        with transaction(self.engine) as session:
            row = session.execute(
                sa.select(PlatformListing.remote_item_id, PlatformListingSku.remote_sku_id)
                .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
                .where(
                    PlatformListingSku.connection_id == self.connection_id, PlatformListingSku.variant_id == variant_id
                )
            ).one()
        return str(row[0]), str(row[1])

    def shown(self, variant_id: int) -> tuple[str, Decimal, int]:
        item_id, sku_id = self.remote(variant_id)
        product = self.sim.state.products[item_id]
        sku = product.sku(sku_id)
        assert sku is not None
        return product.name, Decimal(sku.price), sku.total_sellable


def start_world(
    engine: sa.Engine, faults: FaultPlan | None = None, *, policy: RetryPolicy | None = None
) -> LazadaWorld:
    sim = LazadaSimulator(app_key=APP_KEY, app_secret=APP_SECRET, faults=faults)
    url = sim.start()
    sim.add_seller(SELLER, "Lazada demo shop", country="my")
    settings = Settings(
        lazada_app_key=APP_KEY, lazada_app_secret=APP_SECRET, lazada_api_host=url, lazada_auth_host=url,
        lazada_authorize_host=url,
    )  # fmt: skip
    access, refresh = sim.token_for(SELLER)
    with transaction(engine) as session:
        row = connections.save_connection(
            ADMIN, session, platform="lazada", shop_id=SELLER, shop_name="Lazada demo shop", region="MY",
            access_token=access, refresh_token=refresh, access_token_expires_at=datetime.now(UTC) + timedelta(hours=3),
            refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
        sync.set_category_mapping(EDITOR, session, "lazada", "Fashion", LEAF)
        connection_id = row.id
    return LazadaWorld(engine, sim, settings, connection_id, policy or RetryPolicy(max_attempts=3, base_delay_s=0.01))


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[LazadaWorld]:
    one = start_world(engine)
    yield one
    one.sim.stop()


def _set_stock(world: LazadaWorld, product: MasterProduct, quantity: int) -> None:
    with transaction(world.engine) as session:
        inventory.adjust_stock(EDITOR, session, product.variants[0].id, set_to=quantity)


def _failed_messages(world: LazadaWorld, product: MasterProduct) -> str:
    with transaction(world.engine) as session:
        rows = session.scalars(
            sa.select(SyncLog.error_message).where(
                SyncLog.connection_id == world.connection_id,
                SyncLog.product_id == product.id,
                SyncLog.status == "failed",
            )
        ).all()
    return " | ".join(row or "" for row in rows)


def test_j5_a_campaign_lock_fails_only_its_item_without_a_token_refresh(world: LazadaWorld) -> None:
    fine = world.product("LZ-FINE", stock=10)
    locked = world.product("LZ-LOCK", title="Campaign shirt", stock=10)
    first = sync.sync_shop(world.engine, world.connection_id, world.connector())
    assert first.failed == 0 and first.succeeded >= 2, first
    assert world.shown(fine.variants[0].id) == ("Linen shirt", Decimal("59.90"), 10)
    assert world.sim.requests("/image/upload") >= 1  # the master's image was uploaded to Lazada (once)

    item_id, sku_id = world.remote(locked.variants[0].id)
    world.sim.lock_campaign_stock(item_id, sku_id, 5)
    _set_stock(world, fine, 4)
    _set_stock(world, locked, 3)  # lowering stock under a campaign: 4170
    with transaction(world.engine) as session:
        token_before = session.get_one(PlatformConnection, world.connection_id).access_token

    report = sync.sync_shop(world.engine, world.connection_id, world.connector())

    assert report.failed == 1 and report.succeeded >= 1, report
    assert world.shown(fine.variants[0].id)[2] == 4
    assert world.shown(locked.variants[0].id)[2] == 10
    assert "campaign" in _failed_messages(world, locked).lower()
    assert _failed_messages(world, fine) == ""
    with transaction(world.engine) as session:
        row = session.get_one(PlatformConnection, world.connection_id)
        assert (row.status, row.access_token) == ("connected", token_before)
    assert world.sim.requests("/auth/token/refresh") == 0


def test_j3_sync_converges_under_faults_without_duplicate_listings(engine: sa.Engine) -> None:
    faults = FaultPlan(error_rate=0.2, seed=7, timeout_hold_s=1.0)
    one = start_world(engine, faults, policy=RetryPolicy(max_attempts=2, base_delay_s=0.01))
    one.client = httpx.Client(timeout=0.5)  # a held answer really times out
    try:
        products = [one.product(f"LZ-J3-{i}", title=f"Product {i}", price=f"{10 + i}.90") for i in range(6)]
        for _ in range(12):
            try:
                connector = one.connector()
                snapshot.pull(one.engine, one.connection_id, connector)
                sync.sync_shop(one.engine, one.connection_id, connector)
            except ConnectorError:
                continue
            if not [plan for plan in sync.dry_run(one.engine) if plan.changes]:
                break
        one.sim.faults.error_rate = 0.0
        per_sku = Counter(
            sku.seller_sku
            for product in one.sim.state.products.values()
            if product.status != "Deleted"
            for sku in product.skus
        )
        assert per_sku and max(per_sku.values()) == 1, per_sku  # nothing listed twice
        for product in products:
            name, price, stock = one.shown(product.variants[0].id)
            assert (name, stock) == (product.title, 10) and price == Decimal(product.base_price)
    finally:
        if one.client is not None:
            one.client.close()
        one.sim.stop()


def test_a_listing_created_on_lazada_is_in_sync_after_the_next_pull(world: LazadaWorld) -> None:
    world.product("LZ-IMG")
    assert sync.sync_shop(world.engine, world.connection_id, world.connector()).failed == 0
    snapshot.pull(world.engine, world.connection_id, world.connector(), full=True)
    report = sync.sync_shop(world.engine, world.connection_id, world.connector())
    assert report.conflicts == 0, report
