# The whole system for the e2e tests: the demo's processes on PostgreSQL and Redis, started once per module.
"""`demo_system`: the demo supervisor with the three simulators (Shopee, TikTok Shop, Lazada), the
webhook receiver and Dagster (no Streamlit: the tests act through syncstore functions and the
simulators), on the session's PostgreSQL database (emptied first) and Redis, free ports and a
temporary DAGSTER_HOME. It waits until every shop is connected and in sync, and stops every
process (by process group) at the end, even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.simulator.common import free_port
from demo.config import DemoConfig, Part, Ports
from demo.supervisor import Supervisor
from syncstore.db.models import Base

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("SYNCSTORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def empty_database(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


def _redis_or_skip() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as error:
        message = f"Redis is not reachable ({type(error).__name__}: {error})"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    finally:
        client.close()


class _Terminated(KeyboardInterrupt):
    pass


@pytest.fixture(scope="module")
def demo_system(postgres_url: str) -> Iterator[Supervisor]:
    _redis_or_skip()
    empty_database(postgres_url)
    data_dir = Path(tempfile.mkdtemp(prefix="syncstore-e2e-"))
    config = DemoConfig(
        data_dir=data_dir,
        database_url=postgres_url,
        redis_url=REDIS_URL,
        ports=Ports(
            shopee=free_port(),
            tiktokshop=free_port(),
            lazada=free_port(),
            receiver=free_port(),
            dagster=free_port(),
            streamlit=free_port(),
            images=free_port(),
            api=free_port(),
        ),
        parts=frozenset({Part.SHOPEE, Part.TIKTOKSHOP, Part.LAZADA, Part.RECEIVER, Part.DAGSTER, Part.WORKER}),
        orders_every_s=None,
        conflicting_edits=0,
        console_lines=False,
    )

    with running_demo(config) as supervisor:
        yield supervisor


@contextlib.contextmanager
def running_demo(config: DemoConfig) -> Iterator[Supervisor]:
    """The demo started and in sync; every child is stopped at the end, even on SIGTERM (a CI timeout)."""

    def unwind(signum: int, frame: object) -> None:
        raise _Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, unwind)
    supervisor = Supervisor(config, report=lambda line: print(f"[demo] {line}", flush=True))
    try:
        supervisor.start(wait_in_sync=True)
        yield supervisor
    finally:
        supervisor.stop()
        signal.signal(signal.SIGTERM, previous)
