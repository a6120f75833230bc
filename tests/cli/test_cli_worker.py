# `syncstore worker events`: the long-running events worker, as an operator starts and stops it.
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from connectors.shopee.webhooks import parse_push
from syncstore.db.engine import transaction
from syncstore.db.models import OutboxEvent, PlatformEvent
from syncstore.events import outbox
from syncstore.workers import heartbeats
from tests.syncstore.test_dispatch import store


def test_the_events_worker_handles_waiting_events_and_stops_cleanly_on_sigterm(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # An empty database (the `engine` fixture wipes it): the worker takes every queue's work, not only this test's.
    db_url = engine.url.render_as_string(hide_password=False)
    # An event of a shop SyncStore does not know: the worker must settle it (ignored), not leave it pending.
    body = json.dumps({"code": 3, "shop_id": 424242, "timestamp": int(time.time()), "data": {"ordersn": "X1"}}).encode()
    store(engine, parse_push(body), body)
    # And an outbox event (no shop is connected: nothing to push): the worker consumes the outbox too.
    with transaction(engine) as session:
        outbox.publish(session, aggregate_type="product", aggregate_id=1, event_type="product.updated",
                       payload={"product_id": 1, "variant_ids": []})  # fmt: skip
    env = {**os.environ, "SYNCSTORE_DATABASE_URL": db_url, "SYNCSTORE_DATA_DIR": str(tmp_path)}
    env.pop("SYNCSTORE_REDIS_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker", "events", "--poll-interval", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with transaction(engine) as session:
                statuses = session.scalars(sa.select(PlatformEvent.status)).all()
                pushed = session.scalars(sa.select(OutboxEvent.status)).all()
            beating = heartbeats.fresh_heartbeat(engine)
            if statuses and "pending" not in statuses and pushed == ["done"] and beating is not None:
                break
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, f"the worker left work waiting: {statuses} {pushed} {beating}"
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert statuses == ["ignored"] and pushed == ["done"]
    assert beating.pid == worker.pid and beating.worker_id.startswith("events:")
    assert heartbeats.fresh_heartbeat(engine) is None  # removed on a clean stop
    assert "stopped after 1 events" in output
