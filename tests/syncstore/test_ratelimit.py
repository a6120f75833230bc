# Per-shop outbound rate limits on real Redis and real databases: R1-R4, daily quotas, the connectors' gate.
"""Rate limiter tests.

Bounds are checked by counting grants inside windows of the limiter's own clock (Redis TIME or
the database's), never by timing the machine. The "minute" is shortened with `Limits.window_s`;
the concurrency tests run four spawned processes against one shop.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import multiprocessing
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.retry import Retry

from connectors.base import QuotaExhausted, RequestGate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import PlatformConnection, RateLimitTracking
from syncstore.errors import InvalidInput
from syncstore.ratelimit.database import DatabaseRateLimiter
from syncstore.ratelimit.failover import DisabledRateLimiter, FailoverRateLimiter, make_rate_limiter
from syncstore.ratelimit.gate import ShopGate
from syncstore.ratelimit.limits import (
    DEFAULT_PAUSE_S,
    DailyQuotaExhausted,
    Decision,
    Limits,
    Outcome,
    RateLimiter,
    RateLimitWaitTooLong,
    day_start_utc_offset,
    limits_for,
    pause_seconds,
)
from syncstore.ratelimit.redis_limiter import ACQUIRE_LUA, RedisRateLimiter, redis_client
from syncstore.ratelimit.tracking import DAY_ENDPOINT, WINDOW_ENDPOINT
from syncstore.settings import Settings

US = 1_000_000
SHOPEE_OFFSET = day_start_utc_offset("shopee")

# R2: a 1 s "minute" with L = 20 and a burst of 3; four processes hammer for 4 s.
R2_LIMITS = Limits(per_minute=20, per_day=1_000_000, burst=3, window_s=1.0, day_utc_offset=SHOPEE_OFFSET)
R2_WORKERS = 4
R2_SECONDS = 4.0
# Limits that never make a caller wait within a test, for tests about pauses and quotas.
ROOMY = Limits(per_minute=60_000, per_day=1_000_000, burst=50, day_utc_offset=SHOPEE_OFFSET)


# --- helpers and fixtures -----------------------------------------------------------------------


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _server_time_us(client: redis.Redis[bytes]) -> int:
    seconds, micros = client.time()
    return int(seconds) * US + int(micros)


def _most_in_any_window(grants_us: list[int], window_us: int) -> int:
    """The largest number of grants inside any half-open window [t, t + window) (one starts at a grant)."""
    times = sorted(grants_us)
    return max((bisect.bisect_left(times, start + window_us) - i for i, start in enumerate(times)), default=0)


def _next_boundary(moment: datetime, offset: timedelta) -> datetime:
    local = moment + offset
    return datetime(local.year, local.month, local.day, tzinfo=UTC) + timedelta(days=1) - offset


def _new_shop() -> str:
    return str(uuid.uuid4().int % 10**12)


def _connect(engine: sa.Engine, platform: str, shop_id: str) -> None:
    with transaction(engine) as session:
        session.add(PlatformConnection(platform=platform, shop_id=shop_id, shop_name=f"shop {shop_id}"))


def _connection(engine: sa.Engine, platform: str, shop_id: str) -> PlatformConnection:
    with transaction(engine) as session:
        return session.scalars(
            sa.select(PlatformConnection).where(
                PlatformConnection.platform == platform, PlatformConnection.shop_id == shop_id
            )
        ).one()


def _tracked(engine: sa.Engine, shop_id: str, endpoint: str) -> list[RateLimitTracking]:
    with transaction(engine) as session:
        return list(
            session.scalars(
                sa.select(RateLimitTracking)
                .where(RateLimitTracking.shop_id == shop_id, RateLimitTracking.endpoint == endpoint)
                .order_by(RateLimitTracking.window_start)
            )
        )


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    """The session's SQLite database, for Redis tests that only need somewhere to write usage."""
    engine = create_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test's own, deleted afterwards."""
    value = f"test:rl:{uuid.uuid4().hex}"
    yield value
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{value}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def _redis_limiter(url: str, engine: sa.Engine, prefix: str, limits: Limits, **kwargs: Any) -> RedisRateLimiter:
    return RedisRateLimiter(
        redis_client(url), engine, {"shopee": limits, "tiktokshop": limits}, prefix=prefix, **kwargs
    )


class _CountingRedis(redis.Redis):  # type: ignore[type-arg]
    """A real client that also notes each command it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]).upper())
        return super().execute_command(*args, **options)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _private_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own (no persistence), stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is not installed; CI=true requires it", pytrace=False)
        pytest.skip("redis-server is not installed; install it to run this test")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.close()
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)


def _stop_redis(port: int, process: subprocess.Popen[bytes]) -> None:
    client = redis.Redis(port=port, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it goes
        client.shutdown(nosave=True)
    process.wait(timeout=10)


# --- settings and limits ------------------------------------------------------------------------


def test_limits_from_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    defaults = Settings()
    assert defaults.ratelimit_enabled is True and defaults.ratelimit_burst == 0
    assert defaults.ratelimit_quota_alert_threshold == 0.8
    shopee, tiktok = limits_for("shopee", defaults), limits_for("tiktokshop", defaults)
    assert (shopee.per_minute, shopee.per_day, shopee.window_s) == (60, 10_000, 60.0)
    assert (tiktok.per_minute, tiktok.per_day) == (100, 50_000)
    assert shopee.day_utc_offset == timedelta(hours=8) and tiktok.day_utc_offset == timedelta(0)
    assert shopee.alert_at == 8_000 and tiktok.alert_at == 40_000

    monkeypatch.setenv("SYNCSTORE_RATELIMIT_SHOPEE_PER_MINUTE", "30")
    monkeypatch.setenv("SYNCSTORE_RATELIMIT_BURST", "2")
    monkeypatch.setenv("SYNCSTORE_RATELIMIT_QUOTA_ALERT_THRESHOLD", "0.5")
    configured = limits_for("shopee", Settings())
    assert (configured.per_minute, configured.burst, configured.capacity, configured.alert_at) == (30, 2, 32, 5_000)

    with pytest.raises(InvalidInput, match="nowhere"):
        limits_for("nowhere", defaults)
    with pytest.raises(InvalidInput, match="per_minute"):
        Limits(per_minute=0, per_day=1)


def test_pause_length_honours_retry_after_else_the_default() -> None:
    assert pause_seconds(None) == DEFAULT_PAUSE_S == 5.0
    assert pause_seconds(0) == pause_seconds(-3) == pause_seconds(float("nan")) == DEFAULT_PAUSE_S
    assert pause_seconds(2) == 2.0
    assert pause_seconds(10**9) == 86_400.0


def test_shop_gate_is_the_connectors_request_gate(engine: sa.Engine) -> None:
    gate: RequestGate = ShopGate(DatabaseRateLimiter(engine, {"shopee": ROOMY}), "shopee", _new_shop())
    gate.acquire()


def test_disabled_rate_limiting_grants_everything(engine: sa.Engine) -> None:
    limiter = make_rate_limiter(Settings(ratelimit_enabled=False, ratelimit_shopee_per_minute=1), engine)
    assert isinstance(limiter, DisabledRateLimiter)
    assert all(limiter.try_acquire("shopee", "1").granted for _ in range(500))


# --- R1: one atomic step on Redis' clock ---------------------------------------------------------


def test_r1_check_and_consume_is_one_evalsha_round_trip(redis_url: str, prefix: str, sqlite_engine: sa.Engine) -> None:
    client = _CountingRedis.from_url(redis_url)
    assert isinstance(client, _CountingRedis)
    limiter = RedisRateLimiter(client, sqlite_engine, {"shopee": R2_LIMITS}, prefix=prefix)
    shop = _new_shop()
    limiter.try_acquire("shopee", shop)  # the first call may also load the script
    stats = redis.Redis.from_url(redis_url)
    before = stats.info("commandstats")["cmdstat_evalsha"]["calls"]
    client.sent.clear()

    decisions = [limiter.try_acquire("shopee", shop) for _ in range(5)]

    assert client.sent == ["EVALSHA"] * 5
    assert stats.info("commandstats")["cmdstat_evalsha"]["calls"] - before == 5
    assert {decision.outcome for decision in decisions} <= {Outcome.GRANTED, Outcome.WAIT}
    assert "redis.call('TIME')" in ACQUIRE_LUA
    stats.close()
    limiter.close()


def test_r1_decisions_follow_redis_time_whatever_the_worker_clock_says(
    redis_url: str, prefix: str, sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers with their own clients share one shop; one worker's clock is three days off either way."""
    limits = Limits(per_minute=6, per_day=1_000, day_utc_offset=SHOPEE_OFFSET)  # one request every 10 s
    honest = _redis_limiter(redis_url, sqlite_engine, prefix, limits)
    skewed = _redis_limiter(redis_url, sqlite_engine, prefix, limits)
    server = redis.Redis.from_url(redis_url)
    shop = _new_shop()
    real_time, real_time_ns = time.time, time.time_ns

    def decide_with_skew(days: int) -> Decision:
        with monkeypatch.context() as patch:
            patch.setattr(time, "time", lambda: real_time() + days * 86_400)
            patch.setattr(time, "time_ns", lambda: real_time_ns() + days * 86_400 * 10**9)
            return skewed.try_acquire("shopee", shop)

    before = _server_time_us(server)
    first = honest.try_acquire("shopee", shop)
    ahead, behind = decide_with_skew(3), decide_with_skew(-3)
    after = _server_time_us(server)

    assert first.granted
    # The other worker sees the first grant, and both skewed answers are the same: wait for the next slot.
    assert ahead.outcome is behind.outcome is Outcome.WAIT
    for decision in (first, ahead, behind):
        assert before <= _us(decision.at) <= after, "decided on a clock other than Redis'"
        assert decision.resets_at == _next_boundary(decision.at, SHOPEE_OFFSET)
    assert 0 < behind.wait_s <= ahead.wait_s <= 10
    assert ahead.used_today == behind.used_today == 1
    server.close()
    honest.close()
    skewed.close()


# --- R2: four processes, one shop -----------------------------------------------------------------


def _hammer(
    backend: str,
    redis_url: str,
    db_url: str,
    prefix: str,
    shop_id: str,
    barrier: Any,
    results: Any,
) -> None:
    """One worker process: take every grant it can for R2_SECONDS; report the limiter's time of each."""
    engine = create_engine(db_url)
    limiter: RateLimiter
    if backend == "redis":
        limiter = _redis_limiter(redis_url, engine, prefix, R2_LIMITS)
    else:
        limiter = DatabaseRateLimiter(engine, {"shopee": R2_LIMITS})
    grants: list[int] = []
    decisions = 0
    try:
        barrier.wait(timeout=60)
        stop = time.monotonic() + R2_SECONDS
        while (left := stop - time.monotonic()) > 0:
            decision = limiter.try_acquire("shopee", shop_id)
            decisions += 1
            if decision.granted:
                grants.append(_us(decision.at))
            else:
                time.sleep(min(decision.wait_s, left))
    finally:
        limiter.close()
        engine.dispose()
        results.put((grants, decisions))


def _run_four_workers(
    backend: str, redis_url: str, db_url: str, prefix: str, shop_id: str
) -> list[tuple[list[int], int]]:
    """Each worker's grant times (µs, the limiter's clock) and how many decisions it asked for."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(R2_WORKERS), context.Queue()
    workers = [
        context.Process(target=_hammer, args=(backend, redis_url, db_url, prefix, shop_id, barrier, results))
        for _ in range(R2_WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        return [results.get(timeout=90) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
        assert all(worker.exitcode == 0 for worker in workers)


def _assert_r2_bound(per_worker: list[tuple[list[int], int]]) -> None:
    grants = sorted(at for worker_grants, _ in per_worker for at in worker_grants)
    window_us = R2_LIMITS.window_us
    most = _most_in_any_window(grants, window_us)
    # Never more than L + burst in any window, and the workers did press against that limit.
    assert R2_LIMITS.per_minute <= most <= R2_LIMITS.per_minute + R2_LIMITS.burst
    # About L per window over the run: Redis spaces grants evenly (L per window plus the burst); the
    # database grants in bursts of L + burst, one per window and a sub-window.
    windows_run = R2_SECONDS / R2_LIMITS.window_s
    assert 0.75 * R2_LIMITS.per_minute * windows_run <= len(grants) <= R2_LIMITS.capacity * (windows_run + 1)
    # Every worker kept asking throughout (SQLite's lock is not fair, so one may win most grants there).
    assert all(decisions >= 2 for _, decisions in per_worker), "not every worker took part"


def test_r2_four_processes_share_one_shops_limit_on_redis(redis_url: str, prefix: str, sqlite_url: str) -> None:
    per_worker = _run_four_workers("redis", redis_url, sqlite_url, prefix, _new_shop())
    _assert_r2_bound(per_worker)


def test_r2_four_processes_share_one_shops_limit_on_the_database(db_url: str) -> None:
    per_worker = _run_four_workers("database", "", db_url, "", _new_shop())
    _assert_r2_bound(per_worker)


# --- R3: a throttle answer pauses the shop for every worker ---------------------------------------


def test_r3_throttle_from_one_worker_holds_every_worker_on_redis(
    redis_url: str, prefix: str, sqlite_engine: sa.Engine
) -> None:
    shop = _new_shop()
    _connect(sqlite_engine, "shopee", shop)
    first = ShopGate(_redis_limiter(redis_url, sqlite_engine, prefix, ROOMY), "shopee", shop)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    second_limiter = _redis_limiter(redis_url, sqlite_engine, prefix, ROOMY)
    second = ShopGate(second_limiter, "shopee", shop, sleep=sleep)
    second.acquire()

    first.throttled(retry_after=2)
    pause_end = int(redis.Redis.from_url(redis_url).get(second_limiter.keys("shopee", shop)[1]) or 0)
    second.acquire()

    assert second.last_decision is not None and second.last_decision.granted
    assert _us(second.last_decision.at) >= pause_end, "granted before the pause ended"
    assert slept and slept[0] > 1.5, "the second worker did not wait for the pause"
    # The pause is also on the connection row, where the database limiter would find it.
    paused_until = _connection(sqlite_engine, "shopee", shop).paused_until
    assert paused_until is not None and _us(paused_until) == pause_end


def test_r3_throttle_from_one_worker_holds_every_worker_on_the_database(engine: sa.Engine, db_url: str) -> None:
    shop = _new_shop()
    _connect(engine, "shopee", shop)
    other_engine = create_engine(db_url)
    first = ShopGate(DatabaseRateLimiter(engine, {"shopee": ROOMY}), "shopee", shop)
    second = ShopGate(DatabaseRateLimiter(other_engine, {"shopee": ROOMY}), "shopee", shop)
    second.acquire()

    first.throttled(retry_after=1)
    paused_until = _connection(engine, "shopee", shop).paused_until
    second.acquire()

    assert paused_until is not None and second.last_decision is not None
    assert second.last_decision.at >= paused_until, "granted before the pause ended"
    other_engine.dispose()


def test_a_later_pause_end_wins_and_no_retry_after_means_five_seconds(
    redis_url: str, prefix: str, sqlite_engine: sa.Engine
) -> None:
    shop = _new_shop()
    limiter = _redis_limiter(redis_url, sqlite_engine, prefix, ROOMY)
    server = redis.Redis.from_url(redis_url)
    gate = ShopGate(limiter, "shopee", shop)

    before = _server_time_us(server)
    gate.throttled(None)
    default_end = int(server.get(limiter.keys("shopee", shop)[1]) or 0)
    assert 5 * US <= default_end - before <= 7 * US

    assert limiter.pause("shopee", shop, 1) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=default_end)
    longer = limiter.pause("shopee", shop, 30)
    assert _us(longer) > default_end
    assert limiter.try_acquire("shopee", shop).outcome is Outcome.PAUSED
    server.close()


def test_a_later_pause_end_wins_on_the_database(engine: sa.Engine) -> None:
    shop = _new_shop()
    _connect(engine, "tiktokshop", shop)
    limiter = DatabaseRateLimiter(engine, {"tiktokshop": ROOMY})
    long_end = limiter.pause("tiktokshop", shop, 30)
    assert limiter.pause("tiktokshop", shop, 1) == long_end
    decision = limiter.try_acquire("tiktokshop", shop)
    assert decision.outcome is Outcome.PAUSED and 25 < decision.wait_s <= 30


def test_gate_gives_up_rather_than_wait_longer_than_allowed(engine: sa.Engine) -> None:
    shop = _new_shop()
    _connect(engine, "shopee", shop)
    limiter = DatabaseRateLimiter(engine, {"shopee": ROOMY})
    limiter.pause("shopee", shop, 60)
    gate = ShopGate(limiter, "shopee", shop, max_wait_s=1, sleep=lambda _: pytest.fail("should not sleep"))
    with pytest.raises(RateLimitWaitTooLong, match="paused after a throttle answer") as raised:
        gate.acquire()
    assert raised.value.wait_s > 50 and raised.value.max_wait_s == 1


# --- R4: Redis unavailable -----------------------------------------------------------------------


def test_r4_factory_uses_the_database_when_redis_does_not_answer(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(redis_url=f"redis://127.0.0.1:{_free_port()}/0", ratelimit_shopee_per_minute=3)
    with caplog.at_level(logging.WARNING, logger="syncstore.ratelimit"):
        limiter = make_rate_limiter(settings, engine)
    assert isinstance(limiter, DatabaseRateLimiter) and limiter.backend == "database"
    assert "does not answer" in caplog.text

    shop = _new_shop()
    outcomes = [limiter.try_acquire("shopee", shop).outcome for _ in range(5)]
    assert outcomes == [Outcome.GRANTED] * 3 + [Outcome.WAIT] * 2


def test_r4_redis_dying_mid_run_falls_back_still_limits_and_comes_back(
    engine: sa.Engine, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis grants one of four requests of the minute, dies; the database grants the other three, no more."""
    port = _free_port()
    shop = _new_shop()
    _connect(engine, "shopee", shop)
    settings = Settings(redis_url=f"redis://127.0.0.1:{port}/0", ratelimit_shopee_per_minute=4)
    with _private_redis(port) as process, caplog.at_level(logging.WARNING, logger="syncstore.ratelimit"):
        limiter = make_rate_limiter(settings, engine, redis_retry_s=0.2)
        assert isinstance(limiter, FailoverRateLimiter) and limiter.backend == "redis"
        gate = ShopGate(limiter, "shopee", shop, max_wait_s=1)
        assert limiter.try_acquire("shopee", shop).granted
        assert limiter.try_acquire("shopee", shop).outcome is Outcome.WAIT  # GCRA: the next slot is 15 s away

        _stop_redis(port, process)
        decisions = [limiter.try_acquire("shopee", shop) for _ in range(5)]
        assert limiter.backend == "database"
        assert [d.outcome for d in decisions] == [Outcome.GRANTED] * 3 + [Outcome.WAIT] * 2
        with pytest.raises(RateLimitWaitTooLong):
            gate.acquire()
        gate.throttled(retry_after=60)  # recorded on the connection row while Redis is away
        assert sum(row.request_count for row in _tracked(engine, shop, WINDOW_ENDPOINT)) == 4
        assert _connection(engine, "shopee", shop).api_quota_used == 4
        warnings = [r for r in caplog.records if "Redis does not answer" in r.getMessage()]
        assert len(warnings) == 1

    # A new, empty Redis on the same port: the limiter moves back and carries the database's pause and count.
    with _private_redis(port):
        deadline = time.monotonic() + 15
        decision = limiter.try_acquire("shopee", shop)
        while limiter.backend != "redis" and time.monotonic() < deadline:
            time.sleep(0.1)
            decision = limiter.try_acquire("shopee", shop)
        assert limiter.backend == "redis"
        assert decision.outcome is Outcome.PAUSED and decision.wait_s > 50
        assert decision.used_today == 4
        limiter.close()


# --- daily quota, the 80 % alert and the accounting -------------------------------------------------

QUOTA_LIMITS = Limits(per_minute=60_000, per_day=10, burst=20, day_utc_offset=SHOPEE_OFFSET)


def _exhaust_daily_quota(limiter: RateLimiter, engine: sa.Engine, alerts: list[tuple[str, str, int, int]]) -> None:
    shop = _new_shop()
    _connect(engine, "shopee", shop)
    gate = ShopGate(limiter, "shopee", shop, max_wait_s=5)
    for _ in range(10):
        gate.acquire()
    for _ in range(2):
        with pytest.raises(QuotaExhausted) as raised:
            gate.acquire()
    error = raised.value
    assert isinstance(error, DailyQuotaExhausted) and error.platform == "shopee"
    assert gate.last_decision is not None
    assert error.resets_at == _next_boundary(gate.last_decision.at, SHOPEE_OFFSET)  # 00:00 UTC+8
    assert "daily quota of 10" in str(error)

    assert alerts == [("shopee", shop, 8, 10)]
    connection = _connection(engine, "shopee", shop)
    assert (connection.api_quota_used, connection.api_quota_limit) == (10, 10)
    (day,) = _tracked(engine, shop, DAY_ENDPOINT)
    assert (day.request_count, day.quota_limit, day.connection_id) == (10, 10, connection.id)
    assert day.window_end - day.window_start == timedelta(days=1)
    windows = _tracked(engine, shop, WINDOW_ENDPOINT)
    assert sum(row.request_count for row in windows) == 10
    assert {row.connection_id for row in windows} == {connection.id}


def test_daily_quota_on_redis_alerts_once_and_counts_on_the_connection(
    engine: sa.Engine, redis_url: str, prefix: str
) -> None:
    alerts: list[tuple[str, str, int, int]] = []
    limiter = _redis_limiter(redis_url, engine, prefix, QUOTA_LIMITS, on_quota_alert=lambda *a: alerts.append(a))
    _exhaust_daily_quota(limiter, engine, alerts)
    limiter.close()


def test_daily_quota_on_the_database_alerts_once_and_counts_on_the_connection(engine: sa.Engine) -> None:
    alerts: list[tuple[str, str, int, int]] = []
    limiter = DatabaseRateLimiter(engine, {"shopee": QUOTA_LIMITS}, on_quota_alert=lambda *a: alerts.append(a))
    _exhaust_daily_quota(limiter, engine, alerts)


def test_redis_usage_reaches_the_database_in_batches(engine: sa.Engine, redis_url: str, prefix: str) -> None:
    shop = _new_shop()
    _connect(engine, "tiktokshop", shop)
    limiter = _redis_limiter(redis_url, engine, prefix, ROOMY, flush_every=5, flush_interval_s=3600)

    def used() -> int:
        return _connection(engine, "tiktokshop", shop).api_quota_used

    for _ in range(4):
        assert limiter.try_acquire("tiktokshop", shop).granted
    assert used() == 0 and _tracked(engine, shop, DAY_ENDPOINT) == []
    assert limiter.try_acquire("tiktokshop", shop).granted
    assert used() == 5
    for _ in range(2):
        limiter.try_acquire("tiktokshop", shop)
    assert used() == 5
    limiter.close()
    assert used() == 7


def test_day_boundaries_shopee_utc_plus_8_tiktok_utc(redis_url: str, prefix: str, engine: sa.Engine) -> None:
    limits = {"shopee": limits_for("shopee", Settings()), "tiktokshop": limits_for("tiktokshop", Settings())}
    shop = _new_shop()
    for limiter in (
        RedisRateLimiter(redis_client(redis_url), engine, limits, prefix=prefix),
        DatabaseRateLimiter(engine, limits),
    ):
        shopee, tiktok = limiter.try_acquire("shopee", shop), limiter.try_acquire("tiktokshop", shop)
        assert shopee.resets_at == _next_boundary(shopee.at, timedelta(hours=8))
        assert shopee.resets_at is not None and shopee.resets_at.hour == 16
        assert tiktok.resets_at == _next_boundary(tiktok.at, timedelta(0))
        assert tiktok.resets_at is not None and tiktok.resets_at.hour == 0
        limiter.close()


def test_a_new_day_starts_a_fresh_quota_on_redis(redis_url: str, prefix: str, sqlite_engine: sa.Engine) -> None:
    shop = _new_shop()
    limiter = _redis_limiter(redis_url, sqlite_engine, prefix, QUOTA_LIMITS)
    server = redis.Redis.from_url(redis_url)
    today = _us(_next_boundary(datetime.fromtimestamp(server.time()[0], UTC), SHOPEE_OFFSET)) - 86_400 * US
    server.hset(limiter.keys("shopee", shop)[0], mapping={"day": str(today - 86_400 * US), "used": "10"})
    decision = limiter.try_acquire("shopee", shop)
    assert decision.granted and decision.used_today == 1
    server.hset(limiter.keys("shopee", shop)[0], mapping={"day": str(today), "used": "10"})
    assert limiter.try_acquire("shopee", shop).outcome is Outcome.QUOTA_EXHAUSTED
    server.close()
    limiter.close()


def test_a_new_day_starts_a_fresh_quota_on_the_database(engine: sa.Engine) -> None:
    shop = _new_shop()
    limiter = DatabaseRateLimiter(engine, {"shopee": QUOTA_LIMITS})
    today = _next_boundary(datetime.now(UTC), SHOPEE_OFFSET) - timedelta(days=1)
    with transaction(engine) as session:
        session.add(
            RateLimitTracking(
                platform="shopee",
                shop_id=shop,
                endpoint=DAY_ENDPOINT,
                request_count=10,
                window_start=today - timedelta(days=1),
                window_end=today,
                quota_limit=10,
            )
        )
    decision = limiter.try_acquire("shopee", shop)
    assert decision.granted and decision.used_today == 1
