# Choosing a rate limiter: Redis with database failover, the database alone, or none (benchmarks).
"""Failover between the limiters, the disabled limiter, and the factory.

Redis unavailable (R4)
    `make_rate_limiter` returns the database limiter when Redis does not answer at start, with a
    warning. If Redis stops answering mid-run, `FailoverRateLimiter` never raises: it writes the
    process's unwritten grants to the database, logs ONE warning and decides on the database, which
    sees the grants written so far, so limits stay enforced. It asks Redis again every
    REDIS_RETRY_S (30 s) and moves back when Redis answers (logged). The daily count and pauses carry
    across both ways; per-minute grants do not fully: within the window of a switch a shop may get
    up to 2 x (L + burst) (Redis -> database: only grants not yet written through are unseen;
    database -> Redis: Redis does not know the database's grants of that minute).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from redis.exceptions import RedisError

from connectors import registry
from syncstore.db.types import utcnow
from syncstore.ratelimit.database import DatabaseRateLimiter
from syncstore.ratelimit.limits import (
    Decision,
    Limits,
    Outcome,
    QuotaAlert,
    RateLimiter,
    limits_for,
    log_quota_alert,
)
from syncstore.ratelimit.redis_limiter import RedisRateLimiter, redis_client
from syncstore.settings import Settings

logger = logging.getLogger(__name__)

# After a Redis failure, how long the database decides before Redis is asked again.
REDIS_RETRY_S: Final = 30.0


class FailoverRateLimiter:
    """Redis while it answers; the database limiter from the first Redis error until Redis answers again."""

    def __init__(
        self, primary: RedisRateLimiter, fallback: DatabaseRateLimiter, *, retry_after_s: float = REDIS_RETRY_S
    ) -> None:
        self._primary, self._fallback, self._retry_after_s = primary, fallback, retry_after_s
        self._lock = threading.Lock()
        self._redis_down = False
        self._retry_at = 0.0

    @property
    def backend(self) -> str:
        return self._fallback.backend if self._redis_down else self._primary.backend

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        if self._use_redis():
            try:
                return self._primary.try_acquire(platform, shop_id)
            except RedisError as error:
                self._fail_over(error)
        return self._fallback.try_acquire(platform, shop_id)

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        if self._use_redis():
            try:
                return self._primary.pause(platform, shop_id, seconds)
            except RedisError as error:
                self._fail_over(error)
        return self._fallback.pause(platform, shop_id, seconds)

    def flush(self) -> None:
        self._primary.flush()

    def close(self) -> None:
        try:
            self._primary.close()
        except RedisError as error:
            logger.debug("closing the Redis client failed: %s", error)
        self._fallback.close()

    def _use_redis(self) -> bool:
        with self._lock:
            if not self._redis_down:
                return True
            if time.monotonic() < self._retry_at:
                return False
            self._retry_at = time.monotonic() + self._retry_after_s
        try:
            self._primary.ping()
        except RedisError:
            return False
        with self._lock:
            self._redis_down = False
        self._primary.forget_seeds()
        logger.info("Redis answers again: rate limits are decided on Redis again")
        return True

    def _fail_over(self, error: RedisError) -> None:
        with self._lock:
            first = not self._redis_down
            self._redis_down = True
            self._retry_at = time.monotonic() + self._retry_after_s
        if first:
            logger.warning(
                "Redis does not answer (%s: %s): rate limits are decided on the database until it does",
                type(error).__name__,
                error,
            )
        self._primary.flush()


class DisabledRateLimiter:
    """Grants everything (`ratelimit_enabled = false`, for benchmarks only)."""

    backend = "disabled"

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        return Decision(Outcome.GRANTED, at=utcnow())

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        return utcnow()

    def flush(self) -> None:
        """Nothing is counted."""

    def close(self) -> None:
        """Nothing to release."""


def make_rate_limiter(
    settings: Settings,
    engine: sa.Engine,
    *,
    on_quota_alert: QuotaAlert | None = None,
    redis_retry_s: float = REDIS_RETRY_S,
) -> RateLimiter:
    """Redis (with database failover) when `settings.redis_url` is set and answers, else the database limiter.

    `on_quota_alert` defaults to a warning in the log.
    """
    if not settings.ratelimit_enabled:
        logger.warning("rate limiting is disabled (SYNCSTORE_RATELIMIT_ENABLED=false): for benchmarks only")
        return DisabledRateLimiter()
    limits: dict[str, Limits] = {platform: limits_for(platform, settings) for platform in registry.names()}
    alert = on_quota_alert or log_quota_alert
    database = DatabaseRateLimiter(engine, limits, on_quota_alert=alert)
    if not settings.redis_url:
        return database
    client = redis_client(settings.redis_url)
    try:
        client.ping()
    except RedisError as error:
        logger.warning(
            "Redis at the configured URL does not answer (%s: %s): rate limits are decided on the database",
            type(error).__name__,
            error,
        )
        client.close()
        return database
    primary = RedisRateLimiter(client, engine, limits, on_quota_alert=alert)
    return FailoverRateLimiter(primary, database, retry_after_s=redis_retry_s)
