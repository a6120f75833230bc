# W7: a 2xx only after COMMIT; database down is 503 with nothing half-written; Redis down costs nothing.
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from syncstore.db import migrate
from syncstore.db.engine import create_engine
from syncstore.db.models import PlatformEvent
from tests.webhook_receiver.helpers import FROZEN, compact, count, serve, settings, shopee, signed_tiktok, tiktok
from webhook_receiver.app import create_app


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def throwaway(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, sa.Engine]]:
    """A migrated database of this test's own, free to break."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'throwaway.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    engine = create_engine(url)
    migrate.upgrade(engine)
    yield url, engine
    engine.dispose()


def break_events_table(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE platform_events")


def repair_events_table(engine: sa.Engine) -> None:
    PlatformEvent.__table__.create(engine)


def test_w7_unreachable_postgres_is_503_with_retry_after() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nothing"
    engine = create_engine(url)
    with serve(create_app(settings(url), engine, clock=lambda: FROZEN)) as client:
        answers = client.post_many([shopee(), tiktok(), shopee()])
        health = client.get("/healthz")
        metrics = client.get("/metrics").text
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert all(a.headers["retry-after"] == "5" for a in answers)
    assert health.status_code == 503 and health.json() == {"status": "unavailable"}
    assert 'reason="unavailable"' in metrics
    engine.dispose()


def test_w7_an_unmigrated_database_is_503_not_500(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = create_engine(url)
    with serve(create_app(settings(url), engine, clock=lambda: FROZEN)) as client:
        answer = client.send(tiktok())
        health = client.get("/healthz")
    assert answer.status_code == 503
    assert health.status_code == 503 and health.json() == {"status": "unavailable"}
    engine.dispose()


def test_w7_a_failed_commit_writes_nothing_and_the_retry_is_stored(throwaway: tuple[str, sa.Engine]) -> None:
    url, engine = throwaway
    requests = [shopee() for _ in range(10)]
    with serve(create_app(settings(url), engine, clock=lambda: FROZEN)) as client:
        break_events_table(engine)
        failed = client.post_many(requests)
        # The webhook_logs insert of the batch succeeded before platform_events failed: rolled back.
        assert count(engine, "webhook_logs") == 0
        repair_events_table(engine)
        retried = client.post_many(requests)
    assert {a.status_code for a in failed} == {503}
    assert {a.status_code for a in retried} == {200}
    assert count(engine, "webhook_logs") == 10 and count(engine, "platform_events") == 10


def test_w7_with_redis_a_failed_delivery_leaves_no_nonce_behind(
    throwaway: tuple[str, sa.Engine], redis_url: str, redis_prefix: str
) -> None:
    url, engine = throwaway
    request = tiktok()
    app = create_app(settings(url, redis_url=redis_url), engine, clock=lambda: FROZEN, redis_prefix=redis_prefix)
    with serve(app) as client:
        break_events_table(engine)
        first = client.send(request)
        repair_events_table(engine)
        retry = client.send(request)
        again = client.send(request)
    assert (first.status_code, retry.status_code, again.status_code) == (503, 200, 200)
    assert count(engine, "webhook_logs") == 1  # the retry was stored, not mistaken for a duplicate


def test_redis_down_falls_back_to_the_database(engine: sa.Engine, db_url: str) -> None:
    dead_redis = f"redis://127.0.0.1:{closed_port()}/0"
    request = shopee()
    app = create_app(settings(db_url, redis_url=dead_redis, webhook_per_ip_per_minute=3), engine, clock=lambda: FROZEN)
    with serve(app) as client:
        answers = [client.send(request).status_code for _ in range(3)]
        limited = client.send(shopee())
        health = client.get("/healthz")
        metrics = client.get("/metrics").text
    assert answers == [200, 200, 200]  # stored once, duplicates found by the database
    assert limited.status_code == 429  # the per-IP limit is counted in the process instead
    assert count(engine, "webhook_logs") == 1
    assert health.status_code == 200 and health.json() == {"status": "ok"}  # Redis is optional
    errors = next(line for line in metrics.splitlines() if line.startswith("syncstore_webhook_redis_errors_total"))
    assert int(errors.split()[-1]) >= 1


@pytest.mark.postgres
def test_one_unstorable_event_is_refused_alone(empty_postgres_url: str) -> None:
    # PostgreSQL's jsonb cannot hold 1e1000000; the batch it lands in is retried event by event.
    engine = create_engine(empty_postgres_url)
    migrate.upgrade(engine)
    body = compact(
        {
            "type": 1,
            "tts_notification_id": "poison",
            "shop_id": "1",
            "timestamp": int(FROZEN),
            "data": {"order_id": "9"},
        }
    ).replace(b'"order_id":"9"', b'"order_id":"9","n":1e1000000')
    poison = signed_tiktok(body)
    good = [tiktok() for _ in range(20)]
    with serve(create_app(settings(empty_postgres_url), engine, clock=lambda: FROZEN)) as client:
        answers = client.post_many([*good[:10], poison, *good[10:]])
    statuses = [a.status_code for a in answers]
    assert statuses[10] == 400 and answers[10].json() == {"error": "unstorable"}
    assert statuses[:10] + statuses[11:] == [200] * 20
    assert count(engine, "webhook_logs") == 20
    engine.dispose()


def test_while_the_database_is_down_redis_still_acknowledges_committed_events(
    throwaway: tuple[str, sa.Engine], redis_url: str, redis_prefix: str
) -> None:
    url, engine = throwaway
    committed, new = shopee(), shopee()
    app = create_app(settings(url, redis_url=redis_url), engine, clock=lambda: FROZEN, redis_prefix=redis_prefix)
    with serve(app) as client:
        assert client.send(committed).status_code == 200
        # The nonce is written in the background after the commit: let it land.
        client.call(asyncio.sleep, 0.2)
        with engine.begin() as connection:  # now every write fails
            connection.exec_driver_sql("ALTER TABLE webhook_logs RENAME TO webhook_logs_away")
        redelivered, fresh = client.send(committed), client.send(new)
        metrics = client.get("/metrics").text
    assert (redelivered.status_code, fresh.status_code) == (200, 503)
    assert "syncstore_webhook_nonce_hits_total 1" in metrics
