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

from connectors.shopee import parse_push
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import PlatformEvent
from tests.syncstore.test_dispatch import store


def test_the_events_worker_handles_waiting_events_and_stops_cleanly_on_sigterm(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    # An event of a shop SyncStore does not know: the worker must settle it (ignored), not leave it pending.
    body = json.dumps({"code": 3, "shop_id": 424242, "timestamp": int(time.time()), "data": {"ordersn": "X1"}}).encode()
    store(engine, parse_push(body), body)
    env = {**os.environ, "SYNCSTORE_DATABASE_URL": db_url, "SYNCSTORE_DATA_DIR": str(tmp_path)}
    env.pop("SYNCSTORE_REDIS_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "syncstore.cli", "worker", "events", "--poll-interval", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with transaction(engine) as session:
                statuses = session.scalars(sa.select(PlatformEvent.status)).all()
            if statuses and "pending" not in statuses:
                break
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, f"the worker left the event pending: {statuses}"
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
        engine.dispose()
    assert worker.returncode == 0, output
    assert statuses == ["ignored"]
    assert "stopped after 1 events" in output
