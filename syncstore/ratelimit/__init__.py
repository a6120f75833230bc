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

The package exports nothing itself: callers import its modules (`from syncstore.ratelimit.gate import ShopGate`).
"""
