# J4: random orders, cancellations, shipments, adjustments and lost or repeated webhooks on two shops never oversell.
"""J4 No oversell, as a hypothesis state machine over both simulated shops (Shopee and TikTok Shop).

One or two master products of small stock are listed on both shops. Buyers order on a random
channel (the simulators refuse more than the channel shows), orders are cancelled, partly
cancelled or shipped, the merchant adjusts on hand, and each marketplace event's webhook is
delivered (applied through the events path: the order read back with `get_orders`, applied with
`inventory.apply_order`, stock pushed), delivered twice, or lost (then the next step runs a
recovery pass first, as the worker's timer would before the next buyer arrives).

At every step no channel has sold a unit that does not exist: the units sold and not cancelled on
all channels are at most the physical stock plus the units already shipped. After quiescence (a
final recovery and push) every channel shows exactly the sellable quantity and the master's
reservation equals the units of open orders.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from syncstore.inventory import bundles, locations
from syncstore.inventory import ledger as inventory
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.workers import recovery
from tests.syncstore.simulated_shops import ADMIN, EDITOR, SHOPEE_SHOP, TIKTOK_SHOP, MarketplaceWorld

pytestmark = pytest.mark.slow

STOCK = 6
SHOPEE_SHIPPED = frozenset({"SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED"})
TIKTOK_SHIPPED = frozenset({"IN_TRANSIT", "DELIVERED", "COMPLETED"})
DELIVERIES = st.sampled_from(["delivered", "lost", "twice"])
# Shopee stamps an order updated several times in one second a second later each time, so a
# "now" a little ahead keeps a recovery's poll window over every order this run touched.
POLL_AHEAD = timedelta(seconds=60)


def order_units(world: MarketplaceWorld, connection_id: int, order_id: str, variant_id: int) -> tuple[int, int]:
    """(units of a variant sold and not cancelled in one order, of which shipped), read from the marketplace."""
    sold = shipped = 0
    item_id, sku_id = world.remote_item(connection_id, variant_id)
    if connection_id == world.shopee_connection:
        order = world.shopee.state.orders[order_id]
        for line in order.lines:
            if (str(line.item_id), str(line.model_id)) == (item_id, sku_id):
                active = 0 if order.status == "CANCELLED" else line.active
                sold += active
                shipped += active if order.status in SHOPEE_SHIPPED else 0
        return sold, shipped
    tiktok_order = world.tiktok.order(order_id)
    for item in tiktok_order.line_items:
        mine = (item.product_id, item.sku_id) == (item_id, sku_id)
        if mine and "CANCELLED" not in (item.display_status, tiktok_order.status):
            sold += 1
            shipped += 1 if tiktok_order.status in TIKTOK_SHIPPED else 0
    return sold, shipped


def is_open(world: MarketplaceWorld, connection_id: int, order_id: str) -> bool:
    """Neither cancelled nor shipped on its marketplace."""
    if connection_id == world.shopee_connection:
        status = world.shopee.state.orders[order_id].status
        return status != "CANCELLED" and status not in SHOPEE_SHIPPED
    status = world.tiktok.order(order_id).status
    return status != "CANCELLED" and status not in TIKTOK_SHIPPED


def place(world: MarketplaceWorld, connection_id: int, variant_id: int, quantity: int) -> str | None:
    """A buyer orders on a marketplace: the order id, or None when the channel refused (it shows less)."""
    shown = world.shown(connection_id, variant_id)["stock"]
    item_id, sku_id = world.remote_item(connection_id, variant_id)
    try:
        if connection_id == world.shopee_connection:
            order_id = world.shopee.place_order(SHOPEE_SHOP, int(item_id), int(sku_id), quantity)
        else:
            order_id = world.tiktok.place_order(TIKTOK_SHOP, item_id, sku_id, quantity)
    except ValueError:
        assert quantity > shown, f"the simulator refused {quantity} of {shown} shown"
        return None
    assert quantity <= shown, f"the simulator sold {quantity} while showing {shown}"
    return str(order_id)


def set_status(world: MarketplaceWorld, connection_id: int, order_id: str, shipped: bool) -> None:
    """The marketplace ships or cancels a whole order."""
    if connection_id == world.shopee_connection:
        world.shopee.set_order_status(order_id, "SHIPPED" if shipped else "CANCELLED")
    else:
        world.tiktok.set_order_status(order_id, "IN_TRANSIT" if shipped else "CANCELLED")


def apply_webhook(world: MarketplaceWorld, connection_id: int, order_id: str) -> list[int]:
    """The events path: the order read back from its marketplace and applied to the ledger; the variants moved."""
    [order] = world.connector(connection_id).get_orders([order_id])
    with transaction(world.engine) as session:
        connection = session.get_one(PlatformConnection, connection_id)
        return list(inventory.apply_order(session, connection, order).variant_ids)


def run_machine(world: MarketplaceWorld) -> Counter[str]:
    """Run the J4 state machine on a started world (fresh products per example); what the runs did."""
    example_numbers = itertools.count(1)
    seen: Counter[str] = Counter()

    class NoOversell(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.variants: list[int] = []
            self.adjusted: dict[int, int] = {}  # variant -> net manual change of on hand
            self.orders: list[tuple[int, str]] = []  # (connection id, order id) placed in this example
            self.lost_pending = False
            self.log: list[str] = []

        # -- set-up and the system's propagation --

        @initialize(products=st.integers(min_value=1, max_value=2))
        def list_products(self, products: int) -> None:
            number = next(example_numbers)
            for index in range(products):
                product = world.product(f"J4-{number}-{index}", title=f"J4 product {number}-{index}", stock=STOCK)
                self.variants.append(product.variants[0].id)
                self.adjusted[product.variants[0].id] = 0
            for connection_id in world.connection_ids:
                connector = world.connector(connection_id)
                snapshot.pull(world.engine, connection_id, connector)
                sync.sync_shop(world.engine, connection_id, connector)
            for variant_id in self.variants:
                for connection_id in world.connection_ids:
                    assert world.shown(connection_id, variant_id)["stock"] == STOCK

        def recover(self) -> None:
            recovery.recover(world.engine, world.connector, now=datetime.now(UTC) + POLL_AHEAD)
            self.lost_pending = False

        def settle(self) -> None:
            """A lost webhook is made good by the recovery pass that runs before the next step."""
            if self.lost_pending:
                self.log.append("recover (lost webhook)")
                self.recover()

        def deliver(self, connection_id: int, order_id: str, delivery: str) -> None:
            """The webhook for this order's change: applied (the events path), applied twice, or lost."""
            self.log.append(f"  webhook {delivery}")
            seen[f"webhook {delivery}"] += 1
            if delivery == "lost":
                self.lost_pending = True
                return
            for _ in range(2 if delivery == "twice" else 1):
                sync.push_stock(world.engine, apply_webhook(world, connection_id, order_id), world.connector)

        # -- the truth, read from the marketplaces --

        def units(self, variant_id: int) -> tuple[int, int]:
            """(units sold and not cancelled on all channels, of which shipped) of a variant."""
            counted = [order_units(world, c, o, variant_id) for c, o in self.orders]
            return sum(sold for sold, _ in counted), sum(shipped for _, shipped in counted)

        def physical(self, variant_id: int) -> int:
            """What is in the warehouse: the first stock plus the merchant's changes minus what shipped."""
            return STOCK + self.adjusted[variant_id] - self.units(variant_id)[1]

        def master(self, variant_id: int) -> inventory.StockLevel:
            with transaction(world.engine) as session:
                [level] = inventory.levels(session, [variant_id])
                return level

        def open_orders(self) -> list[tuple[int, str]]:
            return [(c, o) for c, o in self.orders if is_open(world, c, o)]

        # -- rules --

        @rule(data=st.data(), quantity=st.integers(min_value=1, max_value=4), delivery=DELIVERIES)
        def buyer_orders(self, data: st.DataObject, quantity: int, delivery: str) -> None:
            self.settle()
            variant_id = data.draw(st.sampled_from(self.variants))
            connection_id = data.draw(st.sampled_from(world.connection_ids))
            order_id = place(world, connection_id, variant_id, quantity)
            if order_id is None:
                self.log.append(f"order {quantity} of {variant_id} on {connection_id}: refused")
                seen["order refused by the channel"] += 1
                return
            seen["order placed"] += 1
            self.log.append(f"order {quantity} of {variant_id} on {connection_id}: {order_id}")
            self.orders.append((connection_id, order_id))
            self.deliver(connection_id, order_id, delivery)

        def change_open_order(self, data: st.DataObject, delivery: str, change: Callable[[int, str], str]) -> None:
            self.settle()
            candidates = self.open_orders()
            if not candidates:
                return
            connection_id, order_id = data.draw(st.sampled_from(candidates))
            done = change(connection_id, order_id)
            seen["partial cancel" if done.startswith("cancel ") else done] += 1
            self.log.append(f"{done} {order_id} on {connection_id}")
            self.deliver(connection_id, order_id, delivery)

        @rule(data=st.data(), quantity=st.integers(min_value=1, max_value=4), delivery=DELIVERIES)
        def another_buyer_orders(self, data: st.DataObject, quantity: int, delivery: str) -> None:
            self.buyer_orders(data, quantity, delivery)  # buyers come twice as often as anything else

        @rule(data=st.data(), delivery=DELIVERIES)
        def order_cancelled(self, data: st.DataObject, delivery: str) -> None:
            def cancel(connection_id: int, order_id: str) -> str:
                set_status(world, connection_id, order_id, shipped=False)
                return "cancel"

            self.change_open_order(data, delivery, cancel)

        @rule(data=st.data(), delivery=DELIVERIES)
        def order_partly_cancelled(self, data: st.DataObject, delivery: str) -> None:
            def cancel_some(connection_id: int, order_id: str) -> str:
                if connection_id == world.shopee_connection:
                    line = world.shopee.state.orders[order_id].lines[0]
                    units = data.draw(st.integers(min_value=1, max_value=line.active))
                    world.shopee.cancel_units(order_id, line.item_id, line.model_id, units)
                    return f"cancel {units} unit(s) of"
                open_lines = [i.id for i in world.tiktok.order(order_id).line_items if i.display_status != "CANCELLED"]
                world.tiktok.cancel_line(order_id, data.draw(st.sampled_from(open_lines)))
                return "cancel one line of"

            self.change_open_order(data, delivery, cancel_some)

        @rule(data=st.data(), delivery=DELIVERIES)
        def order_shipped(self, data: st.DataObject, delivery: str) -> None:
            def ship(connection_id: int, order_id: str) -> str:
                set_status(world, connection_id, order_id, shipped=True)
                return "ship"

            self.change_open_order(data, delivery, ship)

        @rule(data=st.data(), delta=st.integers(min_value=-3, max_value=3).filter(bool))
        def merchant_adjusts(self, data: st.DataObject, delta: int) -> None:
            self.settle()
            variant_id = data.draw(st.sampled_from(self.variants))
            level = self.master(variant_id)
            sold, shipped = self.units(variant_id)
            # Never below what is reserved (in the master, or in truth on the channels).
            delta = max(delta, level.reserved - level.on_hand, (sold - shipped) - self.physical(variant_id))
            if delta == 0:
                return
            with transaction(world.engine) as session:
                inventory.adjust_stock(EDITOR, session, variant_id, delta=delta, reason="manual")
            self.adjusted[variant_id] += delta
            self.log.append(f"adjust {variant_id} by {delta}")
            seen["adjust"] += 1
            sync.push_stock(world.engine, [variant_id], world.connector)

        @rule()
        def recovery_pass(self) -> None:
            self.log.append("recover")
            seen["recover"] += 1
            self.recover()

        # -- invariants --

        @invariant()
        def nothing_sold_that_does_not_exist(self) -> None:
            for variant_id in self.variants:
                sold, shipped = self.units(variant_id)
                on_hand = STOCK + self.adjusted[variant_id] - shipped
                assert sold <= on_hand + shipped, f"variant {variant_id}: {sold} sold, {on_hand} on hand; {self.log}"
                if not self.lost_pending:  # the master has seen everything: it agrees with the truth
                    level = self.master(variant_id)
                    assert sold <= level.on_hand + shipped, f"variant {variant_id}: {level}, sold {sold}; {self.log}"

        def teardown(self) -> None:
            if not self.variants:
                return
            self.recover()
            sync.push_stock(world.engine, self.variants, world.connector)
            for variant_id in self.variants:
                level = self.master(variant_id)
                sold, shipped = self.units(variant_id)
                sellable = max(level.on_hand - level.reserved, 0)
                assert level.reserved == sold - shipped, f"variant {variant_id}: {level}, open {sold - shipped}"
                assert level.on_hand == self.physical(variant_id), f"variant {variant_id}: {level}; {self.log}"
                shown = {c: world.shown(c, variant_id)["stock"] for c in world.connection_ids}
                assert shown == dict.fromkeys(world.connection_ids, sellable), (
                    f"variant {variant_id}: shops show {shown}, sellable {sellable} ({level}); {self.log}"
                )

    run_state_machine_as_test(
        NoOversell,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            # No shrinking: the shops outlive an example, so a replay is not exact; the failure
            # message carries the example's own log of steps instead.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    return seen


def test_no_unit_is_sold_twice_across_shops_whatever_happens_to_webhooks(engine: sa.Engine) -> None:
    world = MarketplaceWorld.start(engine)
    try:
        seen = run_machine(world)
    finally:
        world.stop()
    print(f"J4 ({engine.dialect.name}): {dict(seen)}")
    # The runs did what J4 is about (a machine that never ordered or lost a webhook proves nothing).
    wanted = {"order placed", "webhook delivered", "webhook lost", "webhook twice", "adjust", "recover"}
    assert wanted <= set(seen), f"never exercised: {wanted - set(seen)}"
    assert seen["cancel"] + seen["partial cancel"] > 0, "no order was ever cancelled"


# --- J4 with bundles and two locations feeding different shops (issue 17) ---------------------------

KIT_PARTS = {"CUP": 2, "LID": 1}  # the bundle: two cups and a lid
START = {"CUP": (8, 5), "LID": (4, 3)}  # on hand at (the main warehouse, the store)


def run_location_machine(world: MarketplaceWorld) -> Counter[str]:
    """Shopee sells the main warehouse, TikTok Shop the store; both list CUP, LID and the KIT bundle.

    At every step, per location, the component units sold and not cancelled by the shop it feeds
    (a KIT counts as its components) are at most what the location received (its start plus
    transfers in, minus transfers out): nothing was sold that the location did not hold. After
    quiescence each location's reservation is the open units of its shop, its on hand what it
    physically holds, and each shop shows its location's sellable quantity (the KIT: the minimum
    over its components of floor(available / quantity)).
    """
    example_numbers = itertools.count(1)
    seen: Counter[str] = Counter()
    with transaction(world.engine) as session:
        main = inventory.default_location_id(session)
        found = [x.id for x in locations.list_locations(session) if x.name == "Store"]
        store = found[0] if found else locations.create_location(EDITOR, session, "Store").id
        locations.set_shop_sources(ADMIN, session, world.shopee_connection, [main])
        locations.set_shop_sources(ADMIN, session, world.tiktok_connection, [store])
    feeds = {world.shopee_connection: main, world.tiktok_connection: store}

    class NoOversellAcrossLocations(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.ids: dict[str, int] = {}
            self.received: dict[tuple[int, str], int] = {}  # (location, component) -> start + transfers
            self.orders: list[tuple[int, str]] = []
            self.lost_pending = False
            self.log: list[str] = []

        @initialize()
        def list_products(self) -> None:
            number = next(example_numbers)
            for name in ("CUP", "LID", "KIT"):
                product = world.product(f"J4L-{number}-{name}", title=f"J4 {name.lower()} {number}", stock=0)
                self.ids[name] = product.variants[0].id
            with transaction(world.engine) as session:
                for name, (at_main, at_store) in START.items():
                    inventory.adjust_stock(EDITOR, session, self.ids[name], set_to=at_main + at_store)
                    locations.transfer_stock(EDITOR, session, self.ids[name], from_location_id=main,
                                             to_location_id=store, quantity=at_store)  # fmt: skip
                    self.received[(main, name)], self.received[(store, name)] = at_main, at_store
                parts = [(f"J4L-{number}-{name}", quantity) for name, quantity in KIT_PARTS.items()]
                bundles.set_components(EDITOR, session, self.ids["KIT"], parts)
            for connection_id in world.connection_ids:
                connector = world.connector(connection_id)
                snapshot.pull(world.engine, connection_id, connector)
                sync.sync_shop(world.engine, connection_id, connector)
            self.check_shown()

        # -- the truth --

        def sold(self, connection_id: int, name: str) -> tuple[int, int]:
            """(component units sold and not cancelled in a shop, of which shipped), a KIT counting as its parts."""
            sold = shipped = 0
            for order_connection, order_id in self.orders:
                if order_connection != connection_id:
                    continue
                for variant, per_unit in ((name, 1), ("KIT", KIT_PARTS.get(name, 0))):
                    if per_unit:
                        units = order_units(world, connection_id, order_id, self.ids[variant])
                        sold, shipped = sold + units[0] * per_unit, shipped + units[1] * per_unit
            return sold, shipped

        def at(self, location_id: int, name: str) -> tuple[int, int]:
            with transaction(world.engine) as session:
                [level] = [
                    lv for lv in locations.location_levels(session, [self.ids[name]]) if lv.location_id == location_id
                ]
            return level.on_hand, level.reserved

        def check_shown(self) -> None:
            """Each shop shows its own location's sellable quantity (the KIT from its components)."""
            for connection_id, location_id in feeds.items():
                sellable = {
                    n: max(0, on_hand - reserved) for n in KIT_PARTS for on_hand, reserved in [self.at(location_id, n)]
                }
                wanted = {**sellable, "KIT": min(sellable[n] // q for n, q in KIT_PARTS.items())}
                shown = {n: world.shown(connection_id, self.ids[n])["stock"] for n in wanted}
                assert shown == wanted, f"shop {connection_id} shows {shown}, sellable {wanted}; {self.log}"

        # -- the system's paths --

        def recover(self) -> None:
            recovery.recover(world.engine, world.connector, now=datetime.now(UTC) + POLL_AHEAD)
            self.lost_pending = False

        def settle(self) -> None:
            if self.lost_pending:
                self.log.append("recover (lost webhook)")
                self.recover()

        def deliver(self, connection_id: int, order_id: str, delivery: str) -> None:
            seen[f"webhook {delivery}"] += 1
            self.log.append(f"  webhook {delivery}")
            if delivery == "lost":
                self.lost_pending = True
                return
            for _ in range(2 if delivery == "twice" else 1):
                sync.push_stock(world.engine, apply_webhook(world, connection_id, order_id), world.connector)

        # -- rules --

        @rule(data=st.data(), quantity=st.integers(min_value=1, max_value=3), delivery=DELIVERIES)
        def buyer_orders(self, data: st.DataObject, quantity: int, delivery: str) -> None:
            self.settle()
            name = data.draw(st.sampled_from(["CUP", "LID", "KIT", "KIT"]))
            connection_id = data.draw(st.sampled_from(world.connection_ids))
            order_id = place(world, connection_id, self.ids[name], quantity)
            self.log.append(f"order {quantity} {name} on {connection_id}: {order_id or 'refused'}")
            if order_id is None:
                seen["order refused by the channel"] += 1
                return
            seen[f"order placed ({name})"] += 1
            self.orders.append((connection_id, order_id))
            self.deliver(connection_id, order_id, delivery)

        @rule(data=st.data(), quantity=st.integers(min_value=1, max_value=3), delivery=DELIVERIES)
        def another_buyer_orders(self, data: st.DataObject, quantity: int, delivery: str) -> None:
            self.buyer_orders(data, quantity, delivery)  # buyers come twice as often as anything else

        @rule(data=st.data())
        def buyers_order_at_once_on_both_shops(self, data: st.DataObject) -> None:
            """One order per shop, both webhooks applied concurrently (two workers), then one push."""
            self.settle()
            placed = []
            for connection_id in world.connection_ids:
                name = data.draw(st.sampled_from(["CUP", "KIT"]))
                order_id = place(world, connection_id, self.ids[name], 1)
                self.log.append(f"concurrent order 1 {name} on {connection_id}: {order_id or 'refused'}")
                if order_id is not None:
                    placed.append((connection_id, order_id))
                    self.orders.append((connection_id, order_id))
            moved: list[int] = []
            errors: list[BaseException] = []

            def work(connection_id: int, order_id: str) -> None:
                try:
                    moved.extend(apply_webhook(world, connection_id, order_id))
                except BaseException as error:  # reported below, in the test's thread
                    errors.append(error)

            workers = [threading.Thread(target=work, args=one) for one in placed]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert not errors, errors
            seen["concurrent orders"] += len(placed) == 2
            sync.push_stock(world.engine, sorted(set(moved)), world.connector)

        @rule(data=st.data(), delivery=DELIVERIES)
        def order_shipped(self, data: st.DataObject, delivery: str) -> None:
            self.order_cancelled_or_shipped(data, delivery, shipped=True)

        @rule(data=st.data(), delivery=DELIVERIES)
        def order_cancelled(self, data: st.DataObject, delivery: str) -> None:
            self.order_cancelled_or_shipped(data, delivery, shipped=False)

        def order_cancelled_or_shipped(self, data: st.DataObject, delivery: str, *, shipped: bool) -> None:
            """Ship or cancel one open order (two rules, so each is drawn on its own, also derandomized in CI)."""
            self.settle()
            candidates = [(c, o) for c, o in self.orders if is_open(world, c, o)]
            if not candidates:
                return
            connection_id, order_id = data.draw(st.sampled_from(candidates))
            set_status(world, connection_id, order_id, shipped=shipped)
            seen["ship" if shipped else "cancel"] += 1
            self.log.append(f"{'ship' if shipped else 'cancel'} {order_id} on {connection_id}")
            self.deliver(connection_id, order_id, delivery)

        @rule(data=st.data(), quantity=st.integers(min_value=1, max_value=4))
        def merchant_transfers(self, data: st.DataObject, quantity: int) -> None:
            self.settle()
            name = data.draw(st.sampled_from(list(KIT_PARTS)))
            source, target = data.draw(st.sampled_from([(main, store), (store, main)]))
            on_hand, reserved = self.at(source, name)
            quantity = min(quantity, on_hand - reserved)
            if quantity <= 0:
                return
            with transaction(world.engine) as session:
                locations.transfer_stock(EDITOR, session, self.ids[name], from_location_id=source,
                                         to_location_id=target, quantity=quantity)  # fmt: skip
            self.received[(source, name)] -= quantity
            self.received[(target, name)] += quantity
            seen["transfer"] += 1
            self.log.append(f"transfer {quantity} {name} {source} -> {target}")
            sync.push_stock(world.engine, [self.ids[name]], world.connector)

        @rule()
        def recovery_pass(self) -> None:
            seen["recover"] += 1
            self.log.append("recover")
            self.recover()

        # -- invariants --

        @invariant()
        def no_location_sold_what_it_did_not_hold(self) -> None:
            if not self.ids:
                return
            for connection_id, location_id in feeds.items():
                for name in KIT_PARTS:
                    sold, shipped = self.sold(connection_id, name)
                    held = self.received[(location_id, name)]
                    assert sold <= held, f"{name} at {location_id}: {sold} sold, {held} held; {self.log}"
                    if not self.lost_pending:
                        on_hand, _ = self.at(location_id, name)
                        assert on_hand == held - shipped, f"{name} at {location_id}: {on_hand}; {self.log}"

        def teardown(self) -> None:
            if not self.ids:
                return
            self.recover()
            sync.push_stock(world.engine, list(self.ids.values()), world.connector)
            for connection_id, location_id in feeds.items():
                for name in KIT_PARTS:
                    sold, shipped = self.sold(connection_id, name)
                    on_hand, reserved = self.at(location_id, name)
                    assert (on_hand, reserved) == (self.received[(location_id, name)] - shipped, sold - shipped), (
                        f"{name} at {location_id}: {(on_hand, reserved)}, sold {sold}, shipped {shipped}; {self.log}"
                    )
            self.check_shown()

    run_state_machine_as_test(
        NoOversellAcrossLocations,
        settings=settings(
            max_examples=12,
            stateful_step_count=15,
            # The same draw everywhere, as in CI: a random draw sometimes ships nothing, and the
            # coverage check below (a run that never shipped proves little) then fails outside CI.
            derandomize=True,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    return seen


def test_bundles_and_locations_feeding_different_shops_never_oversell(engine: sa.Engine) -> None:
    world = MarketplaceWorld.start(engine)
    try:
        seen = run_location_machine(world)
    finally:
        world.stop()
    print(f"J4 locations ({engine.dialect.name}): {dict(seen)}")
    wanted = {"order placed (KIT)", "webhook delivered", "webhook lost", "webhook twice", "transfer", "recover"}
    assert wanted <= set(seen), f"never exercised: {wanted - set(seen)}"
    assert seen["concurrent orders"] > 0 and seen["cancel"] > 0 and seen["ship"] > 0, dict(seen)
