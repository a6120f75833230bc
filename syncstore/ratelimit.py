# Per-shop outbound rate limiting: one atomic Redis (Lua) step on Redis' clock, with a database fallback.
"""Outbound rate limits per shop (promises R1 to R4 in reference/reliability.md).

Every request a connector makes for a shop first passes `ShopGate.acquire()`, which asks a
`RateLimiter` for a `Decision`: granted, wait N seconds, paused by the platform, or daily quota
exhausted. Limits come from settings (`limits_for`): Shopee 60/min and 10,000/day, TikTok Shop
100/min and 50,000/day per shop, plus `ratelimit_burst`.

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

Database (`DatabaseRateLimiter`, no Redis, or Redis gone)
    One short transaction per decision. PostgreSQL: a per-shop transaction-level advisory lock,
    then `clock_timestamp()` (the database clock, read after the lock). SQLite: `BEGIN IMMEDIATE`
    holds the single write lock and the clock is the host's (every SQLite writer shares the file,
    hence the host). Counters are `rate_limit_tracking` rows upserted with
    `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` (SQLite >= 3.35).

    Per-minute limit: counts per sub-window of window/10 (6 s; endpoint `*`), epoch aligned. A
    request is granted while the sub-windows overlapping the last window plus one (11) hold fewer
    than L + burst grants. Any 60 s window lies inside 11 consecutive sub-windows, so the bound is
    the same L + burst as on Redis (not the 2L of a fixed minute); the price is a long-run rate of
    about 10/11 L, and grants come in bursts rather than evenly spaced. Sub-window rows older than
    an hour are deleted by the limiter as it goes.

Daily quota
    Counted per platform day: Shopee's quota resets at 00:00 UTC+8 (16:00 UTC); no reset time is
    known for TikTok Shop, so its day is the UTC day (DAY_START_UTC_OFFSET). `rate_limit_tracking` keeps one row per
    shop and day (endpoint `*/day`, `quota_limit` = the daily limit), and
    `platform_connections.api_quota_used` / `api_quota_limit` mirror the current day (until a
    shop's first request of a new day, the column still shows the previous day's count).
    `on_quota_alert(platform, shop_id, used, limit)` is called once per shop and day, by the
    process whose grant reaches `ratelimit_quota_alert_threshold` (80 %) of the quota.

Accounting on the Redis path
    Grants are written through to the database in batches, not one write per request: a process
    writes its unwritten grants (sub-window counts, the day's count, the connection's quota use)
    when it holds FLUSH_EVERY_GRANTS of them, on the first grant FLUSH_INTERVAL_S or more after its
    previous write, when a shop reaches the alert threshold or its quota, on `flush()`/`close()`,
    and on failover. A write that fails is logged and kept for the next one. The first request for
    a shop in a process also reads the database's day count and pause: a restarted Redis (which
    lost its keys) carries on from them rather than from zero.

Pauses (R3)
    `pause(platform, shop_id, seconds)` (from `ShopGate.throttled`, after a platform throttle
    answer) makes every worker's acquire wait until it ends; the later of an existing and a new
    pause end wins. Without a `Retry-After` the pause is DEFAULT_PAUSE_S (5 s). Redis pauses are
    also written to `platform_connections.paused_until`, which is where the database limiter keeps
    them (a shop without a connection row cannot be paused there; that is logged).

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

import enum
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol, cast

import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import PLATFORMS, QuotaExhausted
from syncstore.db.engine import is_postgres
from syncstore.db.models import PlatformConnection, RateLimitTracking
from syncstore.db.types import UTCDateTime, utcnow
from syncstore.errors import InvalidInput, SyncStoreError
from syncstore.settings import Settings, get_settings

logger = logging.getLogger(__name__)

US: Final = 1_000_000
DAY_US: Final = 86_400 * US
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Where each platform's daily quota resets, as an offset from UTC (Shopee: 00:00 UTC+8; TikTok Shop: UTC).
DAY_START_UTC_OFFSET: Final[Mapping[str, timedelta]] = {"shopee": timedelta(hours=8), "tiktokshop": timedelta(0)}
# Pause after a throttle answer that named no Retry-After; no pause is longer than a day.
DEFAULT_PAUSE_S: Final = 5.0
MAX_PAUSE_S: Final = 86_400.0
# The database limiter's sub-windows per window, and how long their rows are kept.
SUBWINDOWS: Final = 10
TRACKING_RETENTION: Final = timedelta(hours=1)
# rate_limit_tracking.endpoint of the per-sub-window and per-day rows (all endpoints of a shop together).
WINDOW_ENDPOINT: Final = "*"
DAY_ENDPOINT: Final = "*/day"
# Redis path: write grants through to the database after this many, or on the first grant this long after the last
# write.
FLUSH_EVERY_GRANTS: Final = 100
FLUSH_INTERVAL_S: Final = 10.0
# After a Redis failure, how long the database decides before Redis is asked again.
REDIS_RETRY_S: Final = 30.0
REDIS_TIMEOUT_S: Final = 1.0
KEY_PREFIX: Final = "syncstore:rl"
STATE_TTL_MS: Final = 2 * 86_400_000
# First half of the PostgreSQL advisory lock key ("RL"): keeps these locks apart from any other user's.
PG_LOCK_CLASS: Final = 0x524C

QuotaAlert = Callable[[str, str, int, int], None]


# --- errors -----------------------------------------------------------------------------------


class RateLimitWaitTooLong(SyncStoreError):
    """A request would wait longer for its shop's rate limit than allowed; try it again later."""

    def __init__(self, platform: str, shop_id: str, wait_s: float, max_wait_s: float, reason: str) -> None:
        self.platform, self.shop_id, self.wait_s, self.max_wait_s, self.reason = (
            platform,
            shop_id,
            wait_s,
            max_wait_s,
            reason,
        )
        super().__init__(
            f"{platform} shop {shop_id} would wait {wait_s:.1f} s more ({reason}), longer than the "
            f"{max_wait_s:g} s allowed; try again later"
        )


class DailyQuotaExhausted(QuotaExhausted):
    """The shop's daily request quota (SyncStore's own count) is used up until `resets_at`."""

    def __init__(self, platform: str, shop_id: str, used: int, limit: int, resets_at: datetime | None) -> None:
        self.shop_id, self.used, self.limit, self.resets_at = shop_id, used, limit, resets_at
        when = f"; it resets at {resets_at:%Y-%m-%d %H:%M} UTC" if resets_at else ""
        super().__init__(f"shop {shop_id} used its daily quota of {limit} requests{when}", platform=platform)


# --- limits and decisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """One platform's limits per shop. `window_s` is the "minute" (shorter only in tests)."""

    per_minute: int
    per_day: int
    burst: int = 0
    window_s: float = 60.0
    day_utc_offset: timedelta = timedelta(0)
    alert_threshold: float = 0.8

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if self.per_minute < 1:
            errors["per_minute"] = "must be at least 1"
        if self.per_day < 1:
            errors["per_day"] = "must be at least 1"
        if self.burst < 0:
            errors["burst"] = "must not be negative"
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            errors["window_s"] = "must be a positive number of seconds"
        if not 0 < self.alert_threshold <= 1:
            errors["alert_threshold"] = "must be in (0, 1]"
        if errors:
            raise InvalidInput(errors)

    @property
    def window_us(self) -> int:
        return round(self.window_s * US)

    @property
    def interval_us(self) -> int:
        """GCRA emission interval, rounded up so the rate never exceeds the limit."""
        return max(1, math.ceil(self.window_us / self.per_minute))

    @property
    def tolerance_us(self) -> int:
        return self.burst * self.interval_us

    @property
    def capacity(self) -> int:
        """Most grants in any window."""
        return self.per_minute + self.burst

    @property
    def subwindow_us(self) -> int:
        return max(1, self.window_us // SUBWINDOWS)

    @property
    def subwindows_checked(self) -> int:
        """Sub-windows the database limiter sums: enough to cover any window wherever it starts."""
        return math.ceil(self.window_us / self.subwindow_us) + 1

    @property
    def day_offset_us(self) -> int:
        return self.day_utc_offset // timedelta(microseconds=1)

    @property
    def alert_at(self) -> int:
        """The day's request count at which the quota alert fires."""
        return max(1, math.ceil(self.alert_threshold * self.per_day - 1e-9))


def limits_for(platform: str, settings: Settings | None = None) -> Limits:
    """The configured limits of `platform` ("shopee" or "tiktokshop")."""
    settings = settings or get_settings()
    if platform == "shopee":
        per_minute, per_day = settings.ratelimit_shopee_per_minute, settings.ratelimit_shopee_per_day
    elif platform == "tiktokshop":
        per_minute, per_day = settings.ratelimit_tiktokshop_per_minute, settings.ratelimit_tiktokshop_per_day
    else:
        raise InvalidInput({"platform": f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}"})
    return Limits(
        per_minute=per_minute,
        per_day=per_day,
        burst=settings.ratelimit_burst,
        day_utc_offset=DAY_START_UTC_OFFSET[platform],
        alert_threshold=settings.ratelimit_quota_alert_threshold,
    )


class Outcome(enum.StrEnum):
    GRANTED = "granted"
    WAIT = "wait"  # the per-minute limit: ask again after wait_s
    PAUSED = "paused"  # the platform throttled this shop: ask again after wait_s
    QUOTA_EXHAUSTED = "quota_exhausted"  # the daily quota is used up until resets_at


@dataclass(frozen=True)
class Decision:
    """One answer of a limiter. `at` is the limiter's clock (Redis TIME or the database's)."""

    outcome: Outcome
    at: datetime
    wait_s: float = 0.0
    used_today: int = 0
    daily_limit: int = 0
    resets_at: datetime | None = None

    @property
    def granted(self) -> bool:
        return self.outcome is Outcome.GRANTED


class RateLimiter(Protocol):
    """Per-shop limits shared by every worker that uses the same Redis or database."""

    @property
    def backend(self) -> str: ...

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        """Consume one request for the shop if allowed now; never blocks."""
        ...

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        """Refuse the shop's requests for `seconds` (a longer existing pause stays); returns the pause end."""
        ...

    def flush(self) -> None:
        """Write usage not yet in the database."""
        ...

    def close(self) -> None: ...


# --- small helpers ----------------------------------------------------------------------------


def _to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _day_start_us(now_us: int, limits: Limits) -> int:
    offset = limits.day_offset_us
    return (now_us + offset) // DAY_US * DAY_US - offset


def _limits_of(limits: Mapping[str, Limits], platform: str, shop_id: str) -> Limits:
    if not shop_id or not shop_id.strip():
        raise InvalidInput({"shop_id": "must not be empty"})
    try:
        return limits[platform]
    except KeyError:
        known = ", ".join(sorted(limits))
        raise InvalidInput({"platform": f"unknown platform {platform!r}; expected one of {known}"}) from None


def pause_seconds(retry_after: float | None, default: float = DEFAULT_PAUSE_S) -> float:
    """How long to pause after a throttle answer: Retry-After when it is usable, else `default`; at most a day."""
    if retry_after is None or not math.isfinite(retry_after) or retry_after <= 0:
        return default
    return min(float(retry_after), MAX_PAUSE_S)


def _checked_pause(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInput({"seconds": "must be a finite number of seconds, not negative"})
    return min(seconds, MAX_PAUSE_S)


def log_quota_alert(platform: str, shop_id: str, used: int, limit: int) -> None:
    """The default quota alert: a warning in the log."""
    logger.warning(
        "%s shop %s used %d of its %d daily requests (%.0f %%)", platform, shop_id, used, limit, 100 * used / limit
    )


def _fire_alert(callback: QuotaAlert | None, platform: str, shop_id: str, used: int, limit: int) -> None:
    if callback is None:
        return
    try:
        callback(platform, shop_id, used, limit)
    except Exception:  # an alert channel failing must not fail the request it is about
        logger.exception("quota alert callback failed for %s shop %s", platform, shop_id)


# --- the database side: rows shared by both limiters -------------------------------------------

_TRACKING = cast(sa.Table, RateLimitTracking.__table__)


def _shop_rows(platform: str, shop_id: str, endpoint: str) -> list[sa.ColumnElement[bool]]:
    return [_TRACKING.c.platform == platform, _TRACKING.c.shop_id == shop_id, _TRACKING.c.endpoint == endpoint]


def _connection_of(platform: str, shop_id: str) -> list[sa.ColumnElement[bool]]:
    return [PlatformConnection.platform == platform, PlatformConnection.shop_id == shop_id]


def _bump(
    conn: sa.Connection,
    platform: str,
    shop_id: str,
    endpoint: str,
    window: tuple[int, int],
    quota_limit: int,
    *,
    add: int = 0,
    at_least: int = 0,
) -> int:
    """Add `add` to the counter of one window (start, length in µs), raising it to `at_least`; returns it."""
    start_us, length_us = window
    insert = postgresql.insert(_TRACKING) if is_postgres(conn) else sqlite.insert(_TRACKING)
    connection_id = sa.select(PlatformConnection.id).where(*_connection_of(platform, shop_id)).scalar_subquery()
    stmt = insert.values(
        connection_id=connection_id,
        platform=platform,
        shop_id=shop_id,
        endpoint=endpoint,
        request_count=max(add, at_least),
        window_start=_to_datetime(start_us),
        window_end=_to_datetime(start_us + length_us),
        quota_limit=quota_limit,
        created_at=utcnow(),
    )
    greatest = sa.func.greatest if is_postgres(conn) else sa.func.max
    upsert = stmt.on_conflict_do_update(
        index_elements=[_TRACKING.c.platform, _TRACKING.c.shop_id, _TRACKING.c.endpoint, _TRACKING.c.window_start],
        set_={"request_count": greatest(_TRACKING.c.request_count + add, at_least), "quota_limit": quota_limit},
    ).returning(_TRACKING.c.request_count)
    return int(conn.execute(upsert).scalar_one())


def _prune_windows(conn: sa.Connection, platform: str, shop_id: str, now_us: int) -> None:
    cutoff = _to_datetime(now_us) - TRACKING_RETENTION
    conn.execute(
        sa.delete(_TRACKING).where(*_shop_rows(platform, shop_id, WINDOW_ENDPOINT), _TRACKING.c.window_start < cutoff)
    )


def _set_quota_use(conn: sa.Connection, platform: str, shop_id: str, day_start_us: int, used: int, limit: int) -> None:
    """Mirror the day's count on the connection row, unless a later day has begun there already."""
    later_day = sa.exists().where(
        *_shop_rows(platform, shop_id, DAY_ENDPOINT), _TRACKING.c.window_start > _to_datetime(day_start_us)
    )
    conn.execute(
        sa.update(PlatformConnection)
        .where(*_connection_of(platform, shop_id), ~later_day)
        .values(api_quota_used=used, api_quota_limit=limit)
    )


def _store_pause(conn: sa.Connection, platform: str, shop_id: str, until: datetime) -> datetime | None:
    """Extend the connection's paused_until to `until` (a later one stays); None when there is no connection row."""
    column = PlatformConnection.paused_until
    new_end = sa.case((sa.or_(column.is_(None), column < until), sa.literal(until, UTCDateTime())), else_=column)
    stmt = (
        sa.update(PlatformConnection)
        .where(*_connection_of(platform, shop_id))
        .values(paused_until=new_end)
        .returning(column)
    )
    stored: datetime | None = conn.execute(stmt).scalar_one_or_none()
    if stored is None:
        logger.warning("%s shop %s has no connection row: its pause is not stored in the database", platform, shop_id)
    return stored


@dataclass(frozen=True)
class _Seed:
    """What the database knows of a shop when a process first sees it: the last day's count and the pause."""

    day_start_us: int
    used: int
    paused_until_us: int


def _read_seed(engine: sa.Engine, platform: str, shop_id: str) -> _Seed:
    with engine.connect() as conn:
        day = conn.execute(
            sa.select(_TRACKING.c.window_start, _TRACKING.c.request_count)
            .where(*_shop_rows(platform, shop_id, DAY_ENDPOINT))
            .order_by(_TRACKING.c.window_start.desc())
            .limit(1)
        ).first()
        paused = conn.execute(
            sa.select(PlatformConnection.paused_until).where(*_connection_of(platform, shop_id))
        ).scalar_one_or_none()
    return _Seed(
        day_start_us=_to_us(day.window_start) if day else -1,
        used=int(day.request_count) if day else 0,
        paused_until_us=_to_us(paused) if paused else 0,
    )


# --- the database limiter (R4 fallback) -------------------------------------------------------


def _advisory_key(platform: str, shop_id: str) -> int:
    digest = hashlib.blake2b(f"{platform}:{shop_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class _DbState:
    paused_until_us: int
    used: int
    windows: list[tuple[int, int]]  # (sub-window start µs, grants), oldest first


class DatabaseRateLimiter:
    """The same limits on `rate_limit_tracking` rows and `platform_connections.paused_until`."""

    backend = "database"

    def __init__(
        self, engine: sa.Engine, limits: Mapping[str, Limits], *, on_quota_alert: QuotaAlert | None = None
    ) -> None:
        self._engine, self._limits, self._on_quota_alert = engine, dict(limits), on_quota_alert

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        limits = _limits_of(self._limits, platform, shop_id)
        with self._engine.begin() as conn:
            now_us = self._lock_shop(conn, platform, shop_id)
            decision = self._decide(limits, now_us, self._read_state(conn, platform, shop_id, limits, now_us))
            if decision.granted:
                decision = self._consume(conn, platform, shop_id, limits, now_us, decision)
        if decision.granted and decision.used_today == limits.alert_at:
            _fire_alert(self._on_quota_alert, platform, shop_id, decision.used_today, limits.per_day)
        return decision

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        _limits_of(self._limits, platform, shop_id)
        with self._engine.begin() as conn:
            now_us = self._lock_shop(conn, platform, shop_id)
            until = _to_datetime(now_us + round(_checked_pause(seconds) * US))
            return _store_pause(conn, platform, shop_id, until) or until

    def flush(self) -> None:
        """Nothing to do: every grant is written as it is made."""

    def close(self) -> None:
        """Nothing to release; the engine belongs to the caller."""

    def _lock_shop(self, conn: sa.Connection, platform: str, shop_id: str) -> int:
        """Serialise this shop's decisions and return the clock (µs), read after the lock."""
        if is_postgres(conn):
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_LOCK_CLASS, _advisory_key(platform, shop_id))))
            now: datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            return _to_us(now)
        # SQLite: BEGIN IMMEDIATE already holds the database's write lock; every writer shares this host's clock.
        return time.time_ns() // 1000

    def _read_state(self, conn: sa.Connection, platform: str, shop_id: str, limits: Limits, now_us: int) -> _DbState:
        paused = conn.execute(
            sa.select(PlatformConnection.paused_until).where(*_connection_of(platform, shop_id))
        ).scalar_one_or_none()
        used = conn.execute(
            sa.select(_TRACKING.c.request_count).where(
                *_shop_rows(platform, shop_id, DAY_ENDPOINT),
                _TRACKING.c.window_start == _to_datetime(_day_start_us(now_us, limits)),
            )
        ).scalar_one_or_none()
        current = now_us - now_us % limits.subwindow_us
        first = current - (limits.subwindows_checked - 1) * limits.subwindow_us
        rows = conn.execute(
            sa.select(_TRACKING.c.window_start, _TRACKING.c.request_count)
            .where(
                *_shop_rows(platform, shop_id, WINDOW_ENDPOINT),
                _TRACKING.c.window_start >= _to_datetime(first),
                _TRACKING.c.window_start <= _to_datetime(current),
            )
            .order_by(_TRACKING.c.window_start)
        ).all()
        return _DbState(
            paused_until_us=_to_us(paused) if paused else 0,
            used=int(used or 0),
            windows=[(_to_us(row.window_start), int(row.request_count)) for row in rows],
        )

    @staticmethod
    def _decide(limits: Limits, now_us: int, state: _DbState) -> Decision:
        reset_us = _day_start_us(now_us, limits) + DAY_US
        base: dict[str, Any] = {
            "at": _to_datetime(now_us),
            "used_today": state.used,
            "daily_limit": limits.per_day,
            "resets_at": _to_datetime(reset_us),
        }
        if state.paused_until_us > now_us:
            return Decision(Outcome.PAUSED, wait_s=(state.paused_until_us - now_us) / US, **base)
        if state.used >= limits.per_day:
            return Decision(Outcome.QUOTA_EXHAUSTED, wait_s=(reset_us - now_us) / US, **base)
        if sum(count for _, count in state.windows) >= limits.capacity:
            oldest = next(start for start, count in state.windows if count > 0)
            frees_at = oldest + limits.subwindows_checked * limits.subwindow_us
            return Decision(Outcome.WAIT, wait_s=max(frees_at - now_us, 1) / US, **base)
        return Decision(Outcome.GRANTED, **base)

    @staticmethod
    def _consume(
        conn: sa.Connection, platform: str, shop_id: str, limits: Limits, now_us: int, decision: Decision
    ) -> Decision:
        sub = limits.subwindow_us
        window = (now_us - now_us % sub, sub)
        if _bump(conn, platform, shop_id, WINDOW_ENDPOINT, window, limits.per_minute, add=1) == 1:
            _prune_windows(conn, platform, shop_id, now_us)
        day_start = _day_start_us(now_us, limits)
        used = _bump(conn, platform, shop_id, DAY_ENDPOINT, (day_start, DAY_US), limits.per_day, add=1)
        _set_quota_use(conn, platform, shop_id, day_start, used, limits.per_day)
        return Decision(
            Outcome.GRANTED,
            at=decision.at,
            used_today=used,
            daily_limit=limits.per_day,
            resets_at=decision.resets_at,
        )


# --- the Redis limiter ------------------------------------------------------------------------

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
            pending = self._pending.setdefault((platform, shop_id, _day_start_us(at_us, limits)), _Pending(limits))
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
            _bump(conn, platform, shop_id, WINDOW_ENDPOINT, window, limits.per_minute, add=count)
        _prune_windows(conn, platform, shop_id, max(usage.windows))
        day = (day_start, DAY_US)
        used = _bump(conn, platform, shop_id, DAY_ENDPOINT, day, limits.per_day, at_least=usage.used)
        _set_quota_use(conn, platform, shop_id, day_start, used, limits.per_day)


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
        self._seeds: dict[tuple[str, str], _Seed] = {}
        self._seeds_lock = threading.Lock()

    def keys(self, platform: str, shop_id: str) -> tuple[str, str]:
        """The shop's state key and pause key."""
        state = f"{self._prefix}:{{{platform}:{shop_id}}}"
        return state, f"{state}:pause"

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        limits = _limits_of(self._limits, platform, shop_id)
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
        _limits_of(self._limits, platform, shop_id)
        length_us = round(_checked_pause(seconds) * US)
        end_us, _now = (int(value) for value in self._pause(keys=[self.keys(platform, shop_id)[1]], args=[length_us]))
        until = _to_datetime(end_us)
        try:
            with self._engine.begin() as conn:
                _store_pause(conn, platform, shop_id, until)
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

    def _seed(self, platform: str, shop_id: str) -> _Seed:
        with self._seeds_lock:
            seed = self._seeds.get((platform, shop_id))
        if seed is not None:
            return seed
        try:
            seed = _read_seed(self._engine, platform, shop_id)
        except SQLAlchemyError as error:  # Redis alone still limits; the next request reads again
            logger.warning("%s shop %s: no usage read from the database: %s", platform, shop_id, error)
            return _Seed(day_start_us=-1, used=0, paused_until_us=0)
        with self._seeds_lock:
            self._seeds[(platform, shop_id)] = seed
        return seed

    def _account(self, platform: str, shop_id: str, limits: Limits, decision: Decision) -> None:
        if decision.granted:
            alert = decision.used_today == limits.alert_at
            due = self._usage.record(platform, shop_id, limits, _to_us(decision.at), decision.used_today)
            if due or alert or decision.used_today >= limits.per_day:
                self._usage.flush()
            if alert:
                _fire_alert(self._on_quota_alert, platform, shop_id, decision.used_today, limits.per_day)
        elif decision.outcome is Outcome.QUOTA_EXHAUSTED and self._usage.has_pending():
            self._usage.flush()


def _decision_from_reply(reply: Any, limits: Limits) -> Decision:
    code, wait_us, now_us, used, reset_us = (int(value) for value in reply)
    return Decision(
        _OUTCOMES[code],
        at=_to_datetime(now_us),
        wait_s=wait_us / US,
        used_today=used,
        daily_limit=limits.per_day,
        resets_at=_to_datetime(reset_us),
    )


# --- failover, the disabled limiter, the factory ----------------------------------------------


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
    limits: dict[str, Limits] = {platform: limits_for(platform, settings) for platform in PLATFORMS}
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


# --- the gate connectors use ------------------------------------------------------------------


class ShopGate:
    """`connectors.base.RequestGate` for one shop: blocks until a request may go out."""

    def __init__(
        self,
        limiter: RateLimiter,
        platform: str,
        shop_id: str,
        *,
        max_wait_s: float | None = None,
        default_pause_s: float = DEFAULT_PAUSE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter, self.platform, self.shop_id = limiter, platform, shop_id
        self.max_wait_s = get_settings().ratelimit_max_wait_seconds if max_wait_s is None else max_wait_s
        self.default_pause_s = default_pause_s
        self._sleep = sleep
        # The limiter's last answer (its `at` is when the last request was granted).
        self.last_decision: Decision | None = None

    def acquire(self) -> None:
        """Wait (sleeping the limiter's answers) until the shop may make one more request.

        Raises DailyQuotaExhausted (a `connectors.base.QuotaExhausted`) when the day's quota is used up,
        and RateLimitWaitTooLong, without sleeping, as soon as the total wait would pass `max_wait_s`.
        """
        deadline = time.monotonic() + self.max_wait_s
        while True:
            decision = self.limiter.try_acquire(self.platform, self.shop_id)
            self.last_decision = decision
            if decision.granted:
                return
            if decision.outcome is Outcome.QUOTA_EXHAUSTED:
                raise DailyQuotaExhausted(
                    self.platform, self.shop_id, decision.used_today, decision.daily_limit, decision.resets_at
                )
            if time.monotonic() + decision.wait_s > deadline:
                reason = "paused after a throttle answer" if decision.outcome is Outcome.PAUSED else "per-minute limit"
                raise RateLimitWaitTooLong(self.platform, self.shop_id, decision.wait_s, self.max_wait_s, reason)
            self._sleep(max(decision.wait_s, 0.001))

    def throttled(self, retry_after: float | None) -> None:
        """The platform said "too many requests": pause this shop for every worker (Retry-After, else 5 s)."""
        until = self.limiter.pause(self.platform, self.shop_id, pause_seconds(retry_after, self.default_pause_s))
        logger.info("%s shop %s throttled by the platform: paused until %s", self.platform, self.shop_id, until)
