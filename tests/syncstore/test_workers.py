# The events worker's heartbeat, and the worker as the one consumer of both queues (issue 15 item 6).
"""Heartbeats (`syncstore.workers.heartbeats`) on real databases, and `dispatch.serve_events` draining both queues.

Times are passed in through `now=` where freshness is checked; the worker tests wait for an
outcome (a row, a price shown), never for a length of time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, WorkerHeartbeat
from syncstore.workers import dispatch, heartbeats
from tests.syncstore.simulated_shops import EDITOR, MarketplaceWorld
from tests.syncstore.test_dispatch import mug, order_on_shopee, world  # noqa: F401  (fixtures)

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def test_a_heartbeat_is_fresh_for_three_intervals_then_stale(engine: sa.Engine) -> None:
    assert heartbeats.fresh_heartbeat(engine, now=T0) is None
    heartbeats.beat(engine, "events:host:1", now=T0)
    heartbeats.beat(engine, "events:host:1", now=T0 + timedelta(seconds=4))  # the same row, refreshed

    within = heartbeats.stale_after_s(5.0)
    seen = heartbeats.fresh_heartbeat(engine, within_s=within, now=T0 + timedelta(seconds=6))
    assert seen is not None and (seen.worker_id, seen.kind, seen.age_s) == ("events:host:1", "events", 2.0)
    assert heartbeats.fresh_heartbeat(engine, within_s=within, now=T0 + timedelta(seconds=4 + 15.5)) is None
    assert heartbeats.fresh_heartbeat(engine, kind="other", within_s=within, now=T0 + timedelta(seconds=6)) is None
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat)) == 1


def test_a_stopping_worker_removes_its_heartbeat(engine: sa.Engine) -> None:
    heartbeats.beat(engine, "events:host:1", now=T0)
    heartbeats.beat(engine, "events:host:2", now=T0 + timedelta(seconds=1))
    heartbeats.forget(engine, "events:host:2")
    seen = heartbeats.fresh_heartbeat(engine, within_s=15, now=T0 + timedelta(seconds=2))
    assert seen is not None and seen.worker_id == "events:host:1"


@pytest.fixture
def running_worker(world: MarketplaceWorld) -> Iterator[Callable[[], list[int]]]:  # noqa: F811
    """The events worker in a thread, with a heartbeat; calling the fixture stops it and returns what it handled."""
    stop = threading.Event()
    handled: list[int] = []
    thread = threading.Thread(
        target=lambda: handled.append(
            dispatch.serve_events(
                world.engine, world.connector, stop=stop, poll_interval_s=0.05, worker_id="events:test:1",
                heartbeat_interval_s=0.1,
            )
        )
    )  # fmt: skip
    thread.start()

    def stopped() -> list[int]:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive()
        return handled

    try:
        yield stopped
    finally:
        stop.set()
        thread.join(timeout=60)


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_events_worker_beats_while_it_runs_and_drains_the_outbox_too(
    world: MarketplaceWorld,  # noqa: F811
    mug: MasterProduct,  # noqa: F811
    running_worker: Callable[[], list[int]],
) -> None:
    variant_id = mug.variants[0].id
    wait_for(lambda: heartbeats.fresh_heartbeat(world.engine) is not None, "the worker's heartbeat")

    # A catalog edit (an outbox event) and an order (a marketplace event): the worker handles both, no Dagster run.
    with transaction(world.engine) as session:
        catalog.update_product(EDITOR, session, mug.id, expected_version=1,
                               changes={"variants": [{"id": variant_id, "price": "14.90"}]})  # fmt: skip
    order_on_shopee(world, variant_id, 2)
    wait_for(
        lambda: (
            {world.shown(c, variant_id)["price"] for c in world.connection_ids} == {Decimal("14.90")}
            and world.shown(world.tiktok_connection, variant_id)["stock"] == 8
        ),
        "the new price on both shops and the new stock on TikTok Shop",
    )
    wait_for(lambda: dispatch.outbox_work(world.engine).count == 0, "an empty outbox")

    assert running_worker() == [1]
    assert heartbeats.fresh_heartbeat(world.engine) is None  # removed on stop: the sensors take over at once
