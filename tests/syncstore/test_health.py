# Health checks report what an operator needs to know: reachable, migrated, and nothing secret.
from __future__ import annotations

import socket
from pathlib import Path

import sqlalchemy as sa

from syncstore.db import migrate
from syncstore.db.engine import create_engine
from syncstore.ops import health


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_migrated_database_is_healthy(engine: sa.Engine) -> None:
    result = health.check_database(engine)
    assert result.ok and f"schema revision {migrate.head_revision()}" in result.detail and result.latency_ms is not None


def test_an_empty_database_says_how_to_fix_it(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    result = health.check_database(engine)
    engine.dispose()
    assert not result.ok and "syncstore db upgrade" in result.detail


def test_an_unreachable_postgres_is_reported_without_the_password() -> None:
    engine = create_engine(f"postgresql+psycopg://shop:hunter2secret@127.0.0.1:{_closed_port()}/x")
    result = health.check_database(engine)
    engine.dispose()
    assert not result.ok and "unreachable" in result.detail and "hunter2secret" not in result.detail


def test_redis_up(redis_url: str) -> None:
    result = health.check_redis(redis_url)
    assert result.ok and result.detail.startswith("redis ")


def test_redis_down_and_not_configured() -> None:
    down = health.check_redis(f"redis://:topsecret@127.0.0.1:{_closed_port()}/0", timeout_s=0.5)
    assert not down.ok and "unreachable" in down.detail and "topsecret" not in down.detail
    assert health.check_redis(None).ok
