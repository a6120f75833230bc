# J3: with 20 % of marketplace calls failing (429, 5xx, timeouts), repeated syncs converge, no listing made twice.
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from connectors.base import ConnectorError
from connectors.simulator.common import Fault, FaultPlan
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, ProductVariant
from syncstore.inventory import ledger as inventory
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from tests.syncstore.simulated_shops import EDITOR, SHOPEE_SHOP, MarketplaceWorld

pytestmark = pytest.mark.slow
ROUNDS = 12


class CountedFaults(FaultPlan):
    """The simulators' fault plan, counting the faults it injects (so the test knows they happened)."""

    injected: Counter[str]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.injected = Counter()

    def draw(self) -> Fault | None:
        fault = super().draw()
        if fault is not None:
            self.injected[fault.value] += 1
        return fault


@pytest.fixture
def faulty_world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    # Timeouts hold the answer 1 s after applying the write; the client gives up after 0.5 s, so a
    # write lands while the sync sees a failure: the hard case for "no listing created twice".
    faults = CountedFaults(error_rate=0.2, seed=20261126, timeout_hold_s=1.0)
    shops = MarketplaceWorld.start(engine, faults=faults)
    shops.client = httpx.Client(timeout=0.5)
    yield shops
    shops.stop()


def master_view(engine: sa.Engine) -> dict[int, tuple[str, str, Decimal, int]]:
    """variant id -> (sku, title, price, available) as the master catalog says."""
    with transaction(engine) as session:
        rows = session.execute(
            sa.select(ProductVariant, MasterProduct).join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
        ).all()
        return {
            v.id: (v.sku, p.title, v.price if v.price is not None else p.base_price, v.stock - v.reserved)
            for v, p in rows
        }


def mismatches(world: MarketplaceWorld) -> list[str]:
    """Every variant whose shop shows something else than the master (empty: 100 % in sync)."""
    problems = []
    for variant_id, (sku, title, price, stock) in master_view(world.engine).items():
        for connection_id in world.connection_ids:
            try:
                shown = world.shown(connection_id, variant_id)
            except sa.exc.NoResultFound:
                problems.append(f"{sku} not listed in shop {connection_id}")
                continue
            if (shown["title"], shown["price"], shown["stock"]) != (title, price, stock):
                problems.append(f"{sku} in shop {connection_id}: {shown} != {(title, price, stock)}")
    return problems


def listings_per_sku(world: MarketplaceWorld) -> Counter[str]:
    """How many live listings on each simulator carry each seller SKU."""
    counts: Counter[str] = Counter()
    for item in world.shopee.state.items.values():
        if not item.deleted:
            counts.update(f"shopee:{m.model_sku or item.item_sku}" for m in item.models.values())
    for product in world.tiktok.state.products.values():
        if product.status != "DELETED":
            counts.update(f"tiktokshop:{sku.seller_sku}" for sku in product.skus)
    return counts


def sync_round(world: MarketplaceWorld) -> None:
    for connection_id in world.connection_ids:
        try:
            connector = world.connector(connection_id)
            snapshot.pull(world.engine, connection_id, connector)
            sync.sync_shop(world.engine, connection_id, connector)
        except ConnectorError:
            continue  # this round lost the shop; the next one tries again


def test_sync_converges_under_platform_faults_without_duplicate_listings(faulty_world: MarketplaceWorld) -> None:
    world = faulty_world
    faults = world.shopee.faults
    assert isinstance(faults, CountedFaults)
    products = [world.product(f"J3-{i}", title=f"Product {i}", price=f"{10 + i}.90", variants=1 + i % 2)
                for i in range(8)]  # fmt: skip
    world.shopee.add_item(SHOPEE_SHOP, name="Already on Shopee", item_sku="J3-0", price="1.00", stock=1)

    rounds_run = 0
    for rounds_run in range(1, ROUNDS + 1):
        sync_round(world)
        if rounds_run == 2:  # the master moves while the faults go on
            with transaction(world.engine) as session:
                first = products[1]
                catalog.update_product(EDITOR, session, first.id, expected_version=1,
                                       changes={"title": "Product 1 (new)", "base_price": "99.90"})  # fmt: skip
                inventory.adjust_stock(EDITOR, session, products[2].variants[0].id, set_to=1)
        elif rounds_run > 2 and not mismatches(world) and all(not c for c in world.pending_pushes().values()):
            break
    world.shopee.faults = world.tiktok.faults = FaultPlan()  # look at the result without faults

    assert mismatches(world) == []
    assert world.pending_pushes() == {world.shopee_connection: [], world.tiktok_connection: []}
    counts = listings_per_sku(world)
    master_skus = {sku for sku, *_ in master_view(world.engine).values()}
    assert {key: n for key, n in counts.items() if n != 1} == {}
    assert {key.split(":", 1)[1] for key in counts if key.startswith("shopee:")} == master_skus
    assert {key.split(":", 1)[1] for key in counts if key.startswith("tiktokshop:")} == master_skus
    assert world.listings_created() == {"shopee": 8, "tiktokshop": 8}
    requests = world.shopee.request_count() + sum(world.tiktok.request_counts.values())
    # About one request in five failed, of every kind (the two simulators share the plan).
    assert set(faults.injected) == {"throttle", "server_error", "timeout"}
    assert 0.1 < sum(faults.injected.values()) / requests < 0.3
    print(f"J3: {rounds_run} rounds, {requests} requests, faults {dict(faults.injected)}")
