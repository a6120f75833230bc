# Per-shop outbound rate limiting: one atomic Redis (Lua) step on Redis' clock, with a database fallback.
"""Outbound rate limits per shop (promises R1 to R4 in reference/reliability.md).

Every request a connector makes for a shop first passes `ShopGate.acquire()`, which asks a
`RateLimiter` for a `Decision`: granted, wait N seconds, paused by the platform, or daily quota
exhausted. Limits come from settings (`limits_for`): Shopee 60/min and 10,000/day, TikTok Shop
100/min and 50,000/day per shop, plus `ratelimit_burst`.

One module per role:

- `limits`: the limits, decisions, errors and the `RateLimiter` protocol;
- `tracking`: the database rows both limiters share (counters, the daily quota, pauses);
- `database`: the database limiter (no Redis, or Redis gone);
- `redis_limiter`: the Redis limiter (one Lua script per request) and its batched write-through;
- `failover`: Redis with database failover, the disabled limiter, and `make_rate_limiter`;
- `gate`: `ShopGate`, what a connector calls before each request.

This module is the package's public surface: the names other packages use, nothing for convenience.
"""

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
from syncstore.ratelimit.redis_limiter import ACQUIRE_LUA, REDIS_TIMEOUT_S, RedisRateLimiter, redis_client
from syncstore.ratelimit.tracking import DAY_ENDPOINT, WINDOW_ENDPOINT

__all__ = [
    "ACQUIRE_LUA",
    "DAY_ENDPOINT",
    "DEFAULT_PAUSE_S",
    "REDIS_TIMEOUT_S",
    "WINDOW_ENDPOINT",
    "DailyQuotaExhausted",
    "DatabaseRateLimiter",
    "Decision",
    "DisabledRateLimiter",
    "FailoverRateLimiter",
    "Limits",
    "Outcome",
    "RateLimitWaitTooLong",
    "RateLimiter",
    "RedisRateLimiter",
    "ShopGate",
    "day_start_utc_offset",
    "limits_for",
    "make_rate_limiter",
    "pause_seconds",
    "redis_client",
]
