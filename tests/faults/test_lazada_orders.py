# W9 for Lazada through the core: a live push reserves stock; pushes lost while the receiver is down come back once.
"""Lost pushes (12 retries every 30 minutes, no recovery API) come back with one poll of /orders/get.

One Lazada seller, a webhook receiver on loopback, one compressible clock. Orders list one row per unit
with a status per unit; a partially cancelled order reserves only its live units."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.base import Connector
from connectors.lazada.simulator.server import LazadaSimulator
from connectors.retry import RetryPolicy
from connectors.simulator.common import ServerThread, SimClock, free_port
from syncstore.db.engine import transaction
from syncstore.inventory import ledger as inventory
from syncstore.settings import Settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync
from syncstore.workers import dispatch, recovery
from tests.faults.test_lazada_sync import APP_KEY, APP_SECRET, LEAF, SELLER, LazadaWorld
from tests.syncstore.simulated_shops import ADMIN, EDITOR, KEYRING
from webhook_receiver.app import create_app

pytestmark = pytest.mark.slow

STOCK = 10


@dataclass
class Setup:
    world: LazadaWorld
    clock: SimClock
    settings: Settings
    port: int
    server: ServerThread | None = None

    def receiver_up(self) -> None:
        app = create_app(self.settings, self.world.engine, clock=self.clock.now)
        self.server = ServerThread(app, self.port).start()

    def receiver_down(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)


@pytest.fixture
def setup(engine: sa.Engine) -> Iterator[Setup]:
    clock = SimClock()
    sim = LazadaSimulator(app_key=APP_KEY, app_secret=APP_SECRET, clock=clock)
    url = sim.start()
    sim.add_seller(SELLER, "Lazada demo shop", country="my")
    port = free_port()
    settings = Settings(
        lazada_app_key=APP_KEY, lazada_app_secret=APP_SECRET, lazada_api_host=url, lazada_auth_host=url,
        lazada_authorize_host=url, public_url=f"http://127.0.0.1:{port}", redis_url=None, webhook_per_ip_per_minute=0,
    )  # fmt: skip
    access, refresh = sim.token_for(SELLER)
    with transaction(engine) as session:
        row = connections.save_connection(
            ADMIN, session, platform="lazada", shop_id=SELLER, shop_name="Lazada demo shop", region="MY",
            access_token=access, refresh_token=refresh, access_token_expires_at=datetime.now(UTC) + timedelta(days=20),
            refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
        sync.set_category_mapping(EDITOR, session, "lazada", "Fashion", LEAF)
        connection_id = row.id
    world = LazadaWorld(engine, sim, settings, connection_id, RetryPolicy(max_attempts=2, base_delay_s=0.01))
    # The App Console's one push URL per app key points at the receiver.
    sim.set_push_url(f"http://127.0.0.1:{port}/webhooks/lazada")
    started = Setup(world, clock, settings, port)
    started.receiver_up()
    yield started
    started.receiver_down()
    sim.stop()


def _levels(engine: sa.Engine, variant_id: int) -> tuple[int, int]:
    with transaction(engine) as session:
        (level,) = inventory.levels(session, [variant_id])
        return level.on_hand, level.reserved


def _factory(world: LazadaWorld) -> Callable[[int], Connector]:
    def build(connection_id: int) -> Connector:
        return marketplaces.connector_for(
            world.engine, connection_id, settings=world.settings, keyring=KEYRING, policy=world.policy
        )

    return build


def test_a_live_push_reserves_and_lost_pushes_come_back_with_one_poll(setup: Setup) -> None:
    world, sim, clock = setup.world, setup.world.sim, setup.clock
    shirt = world.product("LZ-W9-SHIRT", stock=STOCK)
    variant = shirt.variants[0].id
    assert not sync.sync_shop(world.engine, world.connection_id, world.connector()).failed
    item_id, sku_id = world.remote(variant)
    connectors = _factory(world)

    # Live: the push arrives, the order is read (/order/get + items) and 2 units are reserved.
    sim.place_order(SELLER, [(item_id, sku_id, 2)])
    sim.pump()
    dispatch.process_events(world.engine, connectors)
    assert _levels(world.engine, variant) == (STOCK, 2)

    # Down: an order of 3 units, one of them cancelled; every push fails and is retried 12 times, 30 min apart.
    setup.receiver_down()
    clock.advance(60)
    partial = sim.place_order(SELLER, [(item_id, sku_id, 3)])
    sim.set_item_status(partial, "canceled", [sim.state.orders[partial].items[0].order_item_id])
    sim.pump()
    assert sim.sender.pending, "the pushes must have failed while the receiver was down"
    deadline = time.monotonic() + 60
    while sim.sender.pending:
        assert time.monotonic() < deadline, "Lazada's retries never gave up"
        clock.advance(1800)
        sim.pump()
    assert len(sim.sender.given_up) >= 4  # the 3 unit pushes and the cancellation, each tried 13 times
    assert all(push.attempts == 13 for push in sim.sender.given_up)
    assert _levels(world.engine, variant) == (STOCK, 2)

    # Back: one poll reads the order by update time and reserves its 2 live units, once.
    setup.receiver_up()
    report = recovery.recover(world.engine, connectors, now=setup.now(), settings=world.settings)
    dispatch.process_events(world.engine, connectors)
    assert report.failed_shops == [], report
    assert _levels(world.engine, variant) == (STOCK, 4)
    assert world.shown(variant)[2] == STOCK - 4  # the channel shows on hand minus reserved
    recovery.recover(world.engine, connectors, now=setup.now(), settings=world.settings)
    assert _levels(world.engine, variant) == (STOCK, 4)
