# The Redis rate limiter: one atomic Lua step per request on Redis' clock, grants written through in batches.
"""The Redis limiter (used when `SYNCSTORE_REDIS_URL` is set and answers).

Redis (`RedisRateLimiter`, used when `SYNCSTORE_REDIS_URL` is set and answers)
    One Lua script per request (EVALSHA, a single round trip) reads the clock with
    `redis.call('TIME')`, checks the pause key, the daily counter and the per-minute limit, and
    consumes one request, atomically. No worker's clock is an input (R1). Needs Redis >= 5 (scripts
    replicate their effects, so they may write after reading TIME). Keys, per shop:
    `syncstore:rl:{<platform>:<shop_id>}` (hash: `tat`, `day`, `used`; expires after two idle days)
    and `...:pause` (the pause end, expiring with it). The braces keep both in one Redis Cluster slot.

    Per-minute limit: GCRA (a leaky bucket run on one timestamp). Requests are spaced by the
    emission interval T = ceil(window / L) (microseconds) and up to `burst` may come early. Bound:
    the grants in ANY window of `window_s` (60 s) never exceed L + burst, and over time the rate is
    L per window (R2). With burst 0 the configured figure is a hard ceiling and requests are spaced
    evenly (Shopee: one a second).

Accounting on the Redis path
    Grants are written through to the database in batches, not one write per request: a process
    writes its unwritten grants (sub-window counts, the day's count, the connection's quota use)
    when it holds FLUSH_EVERY_GRANTS of them, on the first grant FLUSH_INTERVAL_S or more after its
    previous write, when a shop reaches the alert threshold or its quota, on `flush()`/`close()`,
    and on failover. A write that fails is logged and kept for the next one. The first request for
    a shop in a process also reads the database's day count and pause: a restarted Redis (which
    lost its keys) carries on from them rather than from zero.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.exc import SQLAlchemyError

from syncstore.ratelimit.limits import (
    DAY_US,
    US,
    Decision,
    Limits,
    Outcome,
    QuotaAlert,
    checked_pause,
    day_start_us,
    fire_alert,
    limits_of,
    to_datetime,
    to_us,
)
from syncstore.ratelimit.tracking import (
    DAY_ENDPOINT,
    WINDOW_ENDPOINT,
    Seed,
    bump,
    prune_windows,
    read_seed,
    set_quota_use,
    store_pause,
)

logger = logging.getLogger(__name__)

# Redis path: write grants through to the database after this many, or on the first grant this long after the last
# write.
FLUSH_EVERY_GRANTS: Final = 100
FLUSH_INTERVAL_S: Final = 10.0
REDIS_TIMEOUT_S: Final = 1.0
KEY_PREFIX: Final = "syncstore:rl"
STATE_TTL_MS: Final = 2 * 86_400_000


# KEYS[1] shop state (hash: tat, day, used), KEYS[2] pause end (µs).
# ARGV: interval µs, tolerance µs, daily limit, day offset µs, seed day start µs, seed used, seed pause end µs, ttl ms.
# Returns {outcome, wait µs, now µs, used today, quota reset µs}; outcome 0 granted, 1 wait, 2 paused, 3 exhausted.
ACQUIRE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local day_us = 86400000000
local offset = tonumber(ARGV[4])
local day_start = math.floor((now + offset) / day_us) * day_us - offset
local reset = day_start + day_us
local state = redis.call('HMGET', KEYS[1], 'tat', 'day', 'used')
local used = 0
if tonumber(state[2]) == day_start then used = tonumber(state[3]) or 0 end
if tonumber(ARGV[5]) == day_start and tonumber(ARGV[6]) > used then used = tonumber(ARGV[6]) end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[7]) > paused then paused = tonumber(ARGV[7]) end
if paused > now then return {2, paused - now, now, used, reset} end
if used >= tonumber(ARGV[3]) then return {3, reset - now, now, used, reset} end
local tat = tonumber(state[1]) or now
if tat < now then tat = now end
local allow_at = tat - tonumber(ARGV[2])
if allow_at > now then return {1, allow_at - now, now, used, reset} end
used = used + 1
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat + tonumber(ARGV[1])),
  'day', string.format('%.0f', day_start), 'used', string.format('%.0f', used))
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return {0, 0, now, used, reset}
"""

# KEYS[1] pause end (µs); ARGV[1] pause length µs. The later end wins. Returns {pause end µs, now µs}.
PAUSE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local new_end = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < new_end then
  local ttl_ms = math.ceil((new_end - now) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', new_end), 'PX', string.format('%.0f', ttl_ms))
  current = new_end
end
return {current, now}
"""

_OUTCOMES: Final = (Outcome.GRANTED, Outcome.WAIT, Outcome.PAUSED, Outcome.QUOTA_EXHAUSTED)


def redis_client(url: str) -> redis.Redis[bytes]:
    """A client that fails fast (1 s timeouts, one immediate retry) so a dead Redis means fallback, not a hang."""
    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
    )


@dataclass
class _Pending:
    """Grants of one shop and day not yet written to the database."""

    limits: Limits
    used: int = 0
    windows: dict[int, int] = field(default_factory=dict)


class _UsageWriter:
    """Batches the Redis path's grants into database writes (see the module docstring)."""

    def __init__(self, engine: sa.Engine, flush_every: int, flush_interval_s: float) -> None:
        self._engine, self._flush_every, self._flush_interval_s = engine, flush_every, flush_interval_s
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, int], _Pending] = {}
        self._unwritten = 0
        self._last_write = time.monotonic()

    def record(self, platform: str, shop_id: str, limits: Limits, at_us: int, used: int) -> bool:
        """Count one grant; True when a write is due."""
        with self._lock:
            pending = self._pending.setdefault((platform, shop_id, day_start_us(at_us, limits)), _Pending(limits))
            pending.used = max(pending.used, used)
            start = at_us - at_us % limits.subwindow_us
            pending.windows[start] = pending.windows.get(start, 0) + 1
            self._unwritten += 1
            due_by_time = time.monotonic() - self._last_write >= self._flush_interval_s
            return self._unwritten >= self._flush_every or due_by_time

    def has_pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending, self._unwritten = self._pending, {}, 0
            self._last_write = time.monotonic()
        if not pending:
            return
        try:
            with self._engine.begin() as conn:
                # One order (shop, then day) in every process: concurrent writes lock rows alike, no deadlock.
                for (platform, shop_id, day_start), usage in sorted(pending.items(), key=lambda item: item[0]):
                    self._write(conn, platform, shop_id, day_start, usage)
        except SQLAlchemyError as error:
            self._restore(pending)
            logger.warning("could not write rate-limit usage to the database (kept for the next try): %s", error)

    def _restore(self, pending: dict[tuple[str, str, int], _Pending]) -> None:
        with self._lock:
            for key, usage in pending.items():
                current = self._pending.setdefault(key, _Pending(usage.limits))
                current.used = max(current.used, usage.used)
                for start, count in usage.windows.items():
                    current.windows[start] = current.windows.get(start, 0) + count
                self._unwritten += sum(usage.windows.values())

    @staticmethod
    def _write(conn: sa.Connection, platform: str, shop_id: str, day_start: int, usage: _Pending) -> None:
        limits = usage.limits
        for start, count in sorted(usage.windows.items()):
            window = (start, limits.subwindow_us)
            bump(conn, platform, shop_id, WINDOW_ENDPOINT, window, limits.per_minute, add=count)
        prune_windows(conn, platform, shop_id, max(usage.windows))
        day = (day_start, DAY_US)
        used = bump(conn, platform, shop_id, DAY_ENDPOINT, day, limits.per_day, at_least=usage.used)
        set_quota_use(conn, platform, shop_id, day_start, used, limits.per_day)


class RedisRateLimiter:
    """Check-and-consume in one Lua script on Redis' clock; usage written through to the database in batches."""

    backend = "redis"

    def __init__(
        self,
        client: redis.Redis[bytes],
        engine: sa.Engine,
        limits: Mapping[str, Limits],
        *,
        on_quota_alert: QuotaAlert | None = None,
        prefix: str = KEY_PREFIX,
        flush_every: int = FLUSH_EVERY_GRANTS,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self._client, self._engine, self._limits = client, engine, dict(limits)
        self._on_quota_alert, self._prefix = on_quota_alert, prefix
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._pause = client.register_script(PAUSE_LUA)
        self._usage = _UsageWriter(engine, flush_every, flush_interval_s)
        self._seeds: dict[tuple[str, str], Seed] = {}
        self._seeds_lock = threading.Lock()

    def keys(self, platform: str, shop_id: str) -> tuple[str, str]:
        """The shop's state key and pause key."""
        state = f"{self._prefix}:{{{platform}:{shop_id}}}"
        return state, f"{state}:pause"

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        limits = limits_of(self._limits, platform, shop_id)
        seed = self._seed(platform, shop_id)
        args = (
            limits.interval_us,
            limits.tolerance_us,
            limits.per_day,
            limits.day_offset_us,
            seed.day_start_us,
            seed.used,
            seed.paused_until_us,
            STATE_TTL_MS,
        )
        reply = self._acquire(keys=self.keys(platform, shop_id), args=args, client=self._client)
        decision = _decision_from_reply(reply, limits)
        self._account(platform, shop_id, limits, decision)
        return decision

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        limits_of(self._limits, platform, shop_id)
        length_us = round(checked_pause(seconds) * US)
        end_us, _now = (int(value) for value in self._pause(keys=[self.keys(platform, shop_id)[1]], args=[length_us]))
        until = to_datetime(end_us)
        try:
            with self._engine.begin() as conn:
                store_pause(conn, platform, shop_id, until)
        except SQLAlchemyError as error:
            logger.warning("%s shop %s: pause stored in Redis only: %s", platform, shop_id, error)
        return until

    def ping(self) -> bool:
        return bool(self._client.ping())

    def forget_seeds(self) -> None:
        """Read each shop's day count and pause from the database again (after the database decided for a while)."""
        with self._seeds_lock:
            self._seeds.clear()

    def flush(self) -> None:
        self._usage.flush()

    def close(self) -> None:
        self.flush()
        self._client.close()

    def _seed(self, platform: str, shop_id: str) -> Seed:
        with self._seeds_lock:
            seed = self._seeds.get((platform, shop_id))
        if seed is not None:
            return seed
        try:
            seed = read_seed(self._engine, platform, shop_id)
        except SQLAlchemyError as error:  # Redis alone still limits; the next request reads again
            logger.warning("%s shop %s: no usage read from the database: %s", platform, shop_id, error)
            return Seed(day_start_us=-1, used=0, paused_until_us=0)
        with self._seeds_lock:
            self._seeds[(platform, shop_id)] = seed
        return seed

    def _account(self, platform: str, shop_id: str, limits: Limits, decision: Decision) -> None:
        if decision.granted:
            alert = decision.used_today == limits.alert_at
            due = self._usage.record(platform, shop_id, limits, to_us(decision.at), decision.used_today)
            if due or alert or decision.used_today >= limits.per_day:
                self._usage.flush()
            if alert:
                fire_alert(self._on_quota_alert, platform, shop_id, decision.used_today, limits.per_day)
        elif decision.outcome is Outcome.QUOTA_EXHAUSTED and self._usage.has_pending():
            self._usage.flush()


def _decision_from_reply(reply: Any, limits: Limits) -> Decision:
    code, wait_us, now_us, used, reset_us = (int(value) for value in reply)
    return Decision(
        _OUTCOMES[code],
        at=to_datetime(now_us),
        wait_s=wait_us / US,
        used_today=used,
        daily_limit=limits.per_day,
        resets_at=to_datetime(reset_us),
    )
