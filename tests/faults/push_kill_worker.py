# O3 worker process: syncs one shop and SIGKILLs itself right after a chosen platform call returned.
"""Run by tests/faults/test_push_kill.py as `python -m tests.faults.push_kill_worker` with a JSON job on stdin.

The job names the database, the shop, the simulator settings, the connector method after whose
return the process dies (before SyncStore records the outcome), and what to run: a whole
`sync_shop`, or `push_stock` of some variants. The keyring spec comes in SYNCSTORE_TEST_KEYRING.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from syncstore.db.engine import create_engine
from syncstore.security import crypto
from syncstore.settings import Settings
from syncstore.shops import marketplaces
from syncstore.sync import engine as sync


def main() -> None:
    job: dict[str, Any] = json.loads(sys.stdin.read())
    engine = create_engine(job["db_url"])
    keyring = crypto.Keyring.parse(os.environ["SYNCSTORE_TEST_KEYRING"])
    connection_id = int(job["connection_id"])
    connector = marketplaces.connector_for(engine, connection_id, settings=Settings(**job["settings"]), keyring=keyring)
    real = getattr(connector, job["die_after"])

    def call_then_die(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # the platform call landed; nothing after it runs

    setattr(connector, job["die_after"], call_then_die)
    if job["run"] == "sync_shop":
        sync.sync_shop(engine, connection_id, connector)
    else:
        sync.push_stock(engine, job["variant_ids"], lambda _: connector)
    sys.exit("the worker was meant to be killed before finishing")


if __name__ == "__main__":
    main()
