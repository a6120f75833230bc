# W9: the receiver is down while orders arrive and the platforms give up; one poll brings every order back once.
"""Promise W9 against both simulators and a real webhook receiver on loopback.

Both simulators share one compressible `SimClock`; their pushes are registered to the receiver
through the connectors' `register_webhook`. The receiver is stopped, orders (a cancellation and a
partial cancellation on each platform among them) arrive over ten simulated minutes, and the clock
runs past every retry (Shopee: 1 h, the pushes become lost pushes; TikTok Shop: 12 h, dropped).
When the receiver is back, ONE `recovery.recover` (plus `dispatch.process_events` for the lost
pushes it stored) applies every ledger transition once and every channel shows master on hand
minus reserved. A second recover and a late replay of a webhook change nothing. Orders that arrive
while a shop is disconnected are caught up by the first recover after it is connected again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import ServerThread, SimClock, free_port
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from demo.images import SampleImageServer
from syncstore.db.engine import transaction
from syncstore.db.models import InventoryHistory, PlatformConnection
from syncstore.inventory import ledger as inventory
from syncstore.settings import Settings
from syncstore.shops import connections
from syncstore.sync import engine as sync
from syncstore.workers import dispatch, recovery
from tests.syncstore.simulated_shops import (
    ADMIN,
    APP_KEY,
    APP_SECRET,
    EDITOR,
    KEYRING,
    PARTNER_ID,
    PARTNER_KEY,
    SHOPEE_CATEGORY,
    SHOPEE_SHOP,
    TIKTOK_CATEGORY,
    TIKTOK_SHOP,
    MarketplaceWorld,
)
from webhook_receiver.app import create_app

pytestmark = pytest.mark.slow

DAY = 86_400
STOCK = 10


@dataclass
class Receiver:
    """The webhook receiver app served on a fixed loopback port, stoppable and startable again."""

    settings: Settings
    engine: sa.Engine
    clock: SimClock
    port: int
    server: ServerThread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = create_app(self.settings, self.engine, clock=self.clock.now)
        self.server = ServerThread(app, self.port).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass
class Setup:
    world: MarketplaceWorld
    clock: SimClock
    receiver: Receiver


def _start(engine: sa.Engine) -> Setup:
    """MarketplaceWorld's two connected shops, on simulators sharing one clock, pushing to a receiver."""
    clock = SimClock()
    # Tokens must outlive the 13 simulated hours the test skips (the token refresh is not under test).
    shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, clock=clock, token_ttl_s=30 * DAY)
    tiktok = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, clock=clock)
    shopee_url, tiktok_url = shopee.start(), tiktok.start()
    shopee.add_shop(SHOPEE_SHOP, "Shopee demo shop", currency="MYR")
    cipher = tiktok.add_shop(TIKTOK_SHOP, "TikTok demo shop", currency="MYR")
    port = free_port()
    settings = Settings(
        shopee_partner_id=PARTNER_ID, shopee_partner_key=PARTNER_KEY, shopee_host=shopee_url,
        tiktokshop_app_key=APP_KEY, tiktokshop_app_secret=APP_SECRET, tiktokshop_api_host=tiktok_url,
        tiktokshop_auth_host=tiktok_url, tiktokshop_authorize_host=tiktok_url,
        public_url=f"http://127.0.0.1:{port}", redis_url=None, webhook_per_ip_per_minute=0,
    )  # fmt: skip
    shopee_tokens, tiktok_tokens = shopee.issue_tokens(SHOPEE_SHOP), tiktok.issue_tokens(TIKTOK_SHOP)
    expires = datetime.now(UTC) + timedelta(days=20)
    with transaction(engine) as session:
        first = connections.save_connection(
            ADMIN, session, platform="shopee", shop_id=str(SHOPEE_SHOP), shop_name="Shopee demo shop",
            access_token=shopee_tokens[0], refresh_token=shopee_tokens[1], access_token_expires_at=expires,
            refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
        second = connections.save_connection(
            ADMIN, session, platform="tiktokshop", shop_id=TIKTOK_SHOP, shop_name="TikTok demo shop",
            access_token=tiktok_tokens[0], refresh_token=tiktok_tokens[1], access_token_expires_at=expires,
            refresh_token_expires_at=None, shop_cipher=cipher, keyring=KEYRING,
        )  # fmt: skip
        sync.set_category_mapping(EDITOR, session, "shopee", "Fashion", SHOPEE_CATEGORY)
        sync.set_category_mapping(EDITOR, session, "tiktokshop", "Fashion", TIKTOK_CATEGORY)
    images = SampleImageServer()  # the products' images: real JPEGs a create uploads
    images.start()
    world = MarketplaceWorld(
        engine, shopee, tiktok, settings, first.id, second.id,
        tokens=(*shopee_tokens, *tiktok_tokens, PARTNER_KEY, APP_SECRET), images=images,
    )  # fmt: skip
    receiver = Receiver(settings, engine, clock, port)
    receiver.start()
    return Setup(world, clock, receiver)


@pytest.fixture
def setup(engine: sa.Engine) -> Iterator[Setup]:
    started = _start(engine)
    yield started
    started.receiver.stop()
    started.world.stop()


def _sim_now(clock: SimClock) -> datetime:
    return datetime.fromtimestamp(clock.now(), tz=UTC)


def _history_keys(engine: sa.Engine) -> list[str]:
    with transaction(engine) as session:
        keys = session.scalars(sa.select(InventoryHistory.idempotency_key).order_by(InventoryHistory.id)).all()
    return [key for key in keys if key is not None]


def _levels(engine: sa.Engine, variant_ids: list[int]) -> dict[int, tuple[int, int]]:
    with transaction(engine) as session:
        return {level.variant_id: (level.on_hand, level.reserved) for level in inventory.levels(session, variant_ids)}


def _channel_mismatches(world: MarketplaceWorld, variant_ids: list[int]) -> list[str]:
    """Every (shop, variant) whose shop does not show master on hand minus reserved."""
    problems = []
    for variant_id, (on_hand, reserved) in _levels(world.engine, variant_ids).items():
        for connection_id in world.connection_ids:
            shown = world.shown(connection_id, variant_id)["stock"]
            if shown != on_hand - reserved:
                problems.append(f"variant {variant_id} in shop {connection_id}: {shown} != {on_hand - reserved}")
    return problems


def _drain_live(setup: Setup) -> None:
    """Receiver up: deliver what is queued and apply the events it stored."""
    world = setup.world
    world.tiktok.pump()
    world.shopee.sender.pump()
    dispatch.process_events(world.engine, world.connector)


def _run_out_retries(setup: Setup) -> None:
    """Advance the shared clock hour by hour, pumping both senders, until neither has a retry left."""
    world = setup.world
    deadline = time.monotonic() + 120
    skipped = 0
    while world.shopee.sender.pending or world.tiktok.sender.pending or skipped < 13 * 3600:
        assert time.monotonic() < deadline, "the simulators' retries never gave up"
        setup.clock.advance(3600)
        skipped += 3600
        world.shopee.sender.pump()
        world.tiktok.pump()


def _set_status(engine: sa.Engine, connection_id: int, status: str) -> None:
    with transaction(engine) as session:
        session.get_one(PlatformConnection, connection_id).status = status


def _recover(setup: Setup) -> recovery.RecoveryReport:
    world = setup.world
    report = recovery.recover(world.engine, world.connector, now=_sim_now(setup.clock), settings=world.settings)
    dispatch.process_events(world.engine, world.connector)
    return report


def test_orders_missed_while_the_receiver_is_down_are_applied_once_within_one_poll(setup: Setup) -> None:
    world, clock, receiver = setup.world, setup.clock, setup.receiver
    engine = world.engine
    shopee_conn, tiktok_conn = world.connection_ids

    shopee_subs = world.connector(shopee_conn).register_webhook(f"{receiver.url}/webhooks/shopee")
    tiktok_subs = world.connector(tiktok_conn).register_webhook(f"{receiver.url}/webhooks/tiktokshop")
    # Code 3 (order status) is what this test needs; the simulator refuses the unconfirmed code 22.
    assert {s.topic: s.ok for s in shopee_subs}.get("3") is True, shopee_subs
    assert tiktok_subs and all(s.ok for s in tiktok_subs), tiktok_subs

    shirt = world.product("W9-SHIRT", stock=STOCK)
    scarf = world.product("W9-SCARF", title="Silk scarf", stock=STOCK)
    for connection_id in world.connection_ids:
        report = sync.sync_shop(engine, connection_id, world.connector(connection_id))
        assert not report.failed, report
    variant_ids = [shirt.variants[0].id, scarf.variants[0].id]
    clock.advance(60)  # audits settle; the webhooks the sync caused are delivered and applied
    _drain_live(setup)
    assert _channel_mismatches(world, variant_ids) == []
    keys_before = set(_history_keys(engine))

    # --- the receiver is down for ten simulated minutes while orders arrive on both shops ---
    receiver.stop()
    (s_item, s_model), (s_item2, s_model2) = (tuple(map(int, world.remote_item(shopee_conn, v))) for v in variant_ids)
    (t_product, t_sku), (t_product2, t_sku2) = (world.remote_item(tiktok_conn, v) for v in variant_ids)
    s_open = world.shopee.place_order(SHOPEE_SHOP, s_item, s_model, quantity=2, status="READY_TO_SHIP")
    t_open = world.tiktok.place_order(TIKTOK_SHOP, t_product, t_sku, qty=2)
    clock.advance(120)
    s_cancelled = world.shopee.place_order(SHOPEE_SHOP, s_item2, s_model2, quantity=1, status="READY_TO_SHIP")
    t_cancelled = world.tiktok.place_order(TIKTOK_SHOP, t_product2, t_sku2, qty=1)
    clock.advance(120)
    world.shopee.set_order_status(s_cancelled, "CANCELLED")
    world.tiktok.set_order_status(t_cancelled, "CANCELLED")
    clock.advance(120)
    s_partial = world.shopee.place_order(SHOPEE_SHOP, s_item, s_model, quantity=3, status="READY_TO_SHIP")
    t_partial = world.tiktok.place_order(TIKTOK_SHOP, t_product, t_sku, qty=2)
    clock.advance(120)
    world.shopee.cancel_units(s_partial, s_item, s_model, quantity=1)
    world.tiktok.cancel_line(t_partial, world.tiktok.order(t_partial).line_items[0].id)
    clock.advance(120)
    world.tiktok.pump()
    assert world.shopee.sender.pending and world.tiktok.sender.pending, "the pushes must have failed while down"

    _run_out_retries(setup)
    lost = world.shopee.sender.lost
    assert len(lost) >= 5, f"the 5 order pushes (3 placed, 1 cancelled, 1 partial) must be lost, got {len(lost)}"
    given_up = list(world.tiktok.sender.given_up)
    assert given_up, "TikTok Shop must have given its webhooks up"
    assert set(_history_keys(engine)) == keys_before, "nothing can have been applied while the receiver was down"

    # --- the receiver is back: ONE poll interval ---
    receiver.start()
    recovered = _recover(setup)
    assert recovered.failed_shops == [] and recovered.lost_push_errors == [], recovered
    assert recovered.lost_pushes_stored >= 1, "Shopee's lost pushes must be read and stored"

    # Expected: shirt reserves 2 + (3 - 1) on Shopee and 2 + (2 - 1) on TikTok; the scarf orders were cancelled.
    expected = {shirt.variants[0].id: (STOCK, 7), scarf.variants[0].id: (STOCK, 0)}
    assert _levels(engine, variant_ids) == expected
    new_keys = [key for key in _history_keys(engine) if key not in keys_before]
    assert len(new_keys) == len(set(new_keys))
    for order_id in (s_open, s_partial, t_open, t_partial):
        assert any(order_id in key and key.endswith(":reserve") for key in new_keys), (order_id, new_keys)
    for order_id in (s_partial, t_partial):
        assert any(order_id in key and ":cancel-units:" in key for key in new_keys), (order_id, new_keys)
    assert _channel_mismatches(world, variant_ids) == []
    assert world.shown(shopee_conn, shirt.variants[0].id)["stock"] == STOCK - 7

    # --- a second poll and a late replay of webhooks change nothing ---
    settled = _history_keys(engine)
    second = _recover(setup)
    assert second.transitions == 0, second
    with httpx.Client(timeout=10) as client:
        for push in [*world.shopee.sender.retrying.given_up[:3], *given_up[:3]]:
            answer = client.post(push.url, content=push.body, headers=push.headers)
            assert answer.status_code < 300, (answer.status_code, answer.text)
    dispatch.process_events(engine, world.connector)
    assert _history_keys(engine) == settled
    assert _levels(engine, variant_ids) == expected
    assert _channel_mismatches(world, variant_ids) == []


def test_orders_of_a_disconnected_shop_are_caught_up_when_it_is_connected_again(setup: Setup) -> None:
    world, clock, receiver = setup.world, setup.clock, setup.receiver
    engine = world.engine
    shopee_conn, tiktok_conn = world.connection_ids
    world.connector(shopee_conn).register_webhook(f"{receiver.url}/webhooks/shopee")
    world.connector(tiktok_conn).register_webhook(f"{receiver.url}/webhooks/tiktokshop")
    shirt = world.product("W9-SHIRT", stock=STOCK)
    variant_id = shirt.variants[0].id
    for connection_id in world.connection_ids:
        assert not sync.sync_shop(engine, connection_id, world.connector(connection_id)).failed
    clock.advance(60)
    _drain_live(setup)
    _recover(setup)  # both cursors now stand at this time
    assert _levels(engine, [variant_id]) == {variant_id: (STOCK, 0)}

    for connection_id in world.connection_ids:
        _set_status(engine, connection_id, "disconnected")
    receiver.stop()
    s_item, s_model = map(int, world.remote_item(shopee_conn, variant_id))
    t_product, t_sku = world.remote_item(tiktok_conn, variant_id)
    s_order = world.shopee.place_order(SHOPEE_SHOP, s_item, s_model, quantity=2, status="READY_TO_SHIP")
    t_order = world.tiktok.place_order(TIKTOK_SHOP, t_product, t_sku, qty=3)
    clock.advance(300)
    world.tiktok.pump()
    _run_out_retries(setup)
    receiver.start()

    while_disconnected = _recover(setup)
    assert while_disconnected.transitions == 0 and while_disconnected.polls == []
    assert _levels(engine, [variant_id]) == {variant_id: (STOCK, 0)}, "a disconnected shop is not polled"

    for connection_id in world.connection_ids:
        _set_status(engine, connection_id, "connected")
    caught_up = _recover(setup)
    assert caught_up.failed_shops == [], caught_up
    assert _levels(engine, [variant_id]) == {variant_id: (STOCK, 5)}
    keys = _history_keys(engine)
    # Each order only reserved (once: the levels above count the units); nothing released or consumed.
    for order_id in (s_order, t_order):
        assert {key.rsplit(":", 1)[1] for key in keys if order_id in key} == {"reserve"}, (order_id, keys)
    assert _channel_mismatches(world, [variant_id]) == []
    assert _recover(setup).transitions == 0
    assert _history_keys(engine) == keys
