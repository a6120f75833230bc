# The database rate limiter: the same limits without Redis, one short locked transaction per decision.
"""The database limiter (no Redis, or Redis gone: the R4 fallback).

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
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from syncstore.db.engine import is_postgres
from syncstore.db.models import PlatformConnection
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
    TRACKING,
    WINDOW_ENDPOINT,
    bump,
    connection_of,
    prune_windows,
    set_quota_use,
    shop_rows,
    store_pause,
)

# First half of the PostgreSQL advisory lock key ("RL"): keeps these locks apart from any other user's.
PG_LOCK_CLASS: Final = 0x524C


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
        limits = limits_of(self._limits, platform, shop_id)
        with self._engine.begin() as conn:
            now_us = self._lock_shop(conn, platform, shop_id)
            decision = self._decide(limits, now_us, self._read_state(conn, platform, shop_id, limits, now_us))
            if decision.granted:
                decision = self._consume(conn, platform, shop_id, limits, now_us, decision)
        if decision.granted and decision.used_today == limits.alert_at:
            fire_alert(self._on_quota_alert, platform, shop_id, decision.used_today, limits.per_day)
        return decision

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        limits_of(self._limits, platform, shop_id)
        with self._engine.begin() as conn:
            now_us = self._lock_shop(conn, platform, shop_id)
            until = to_datetime(now_us + round(checked_pause(seconds) * US))
            return store_pause(conn, platform, shop_id, until) or until

    def flush(self) -> None:
        """Nothing to do: every grant is written as it is made."""

    def close(self) -> None:
        """Nothing to release; the engine belongs to the caller."""

    def _lock_shop(self, conn: sa.Connection, platform: str, shop_id: str) -> int:
        """Serialise this shop's decisions and return the clock (µs), read after the lock."""
        if is_postgres(conn):
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_LOCK_CLASS, _advisory_key(platform, shop_id))))
            now: datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            return to_us(now)
        # SQLite: BEGIN IMMEDIATE already holds the database's write lock; every writer shares this host's clock.
        return time.time_ns() // 1000

    def _read_state(self, conn: sa.Connection, platform: str, shop_id: str, limits: Limits, now_us: int) -> _DbState:
        paused = conn.execute(
            sa.select(PlatformConnection.paused_until).where(*connection_of(platform, shop_id))
        ).scalar_one_or_none()
        used = conn.execute(
            sa.select(TRACKING.c.request_count).where(
                *shop_rows(platform, shop_id, DAY_ENDPOINT),
                TRACKING.c.window_start == to_datetime(day_start_us(now_us, limits)),
            )
        ).scalar_one_or_none()
        current = now_us - now_us % limits.subwindow_us
        first = current - (limits.subwindows_checked - 1) * limits.subwindow_us
        rows = conn.execute(
            sa.select(TRACKING.c.window_start, TRACKING.c.request_count)
            .where(
                *shop_rows(platform, shop_id, WINDOW_ENDPOINT),
                TRACKING.c.window_start >= to_datetime(first),
                TRACKING.c.window_start <= to_datetime(current),
            )
            .order_by(TRACKING.c.window_start)
        ).all()
        return _DbState(
            paused_until_us=to_us(paused) if paused else 0,
            used=int(used or 0),
            windows=[(to_us(row.window_start), int(row.request_count)) for row in rows],
        )

    @staticmethod
    def _decide(limits: Limits, now_us: int, state: _DbState) -> Decision:
        reset_us = day_start_us(now_us, limits) + DAY_US
        base: dict[str, Any] = {
            "at": to_datetime(now_us),
            "used_today": state.used,
            "daily_limit": limits.per_day,
            "resets_at": to_datetime(reset_us),
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
        if bump(conn, platform, shop_id, WINDOW_ENDPOINT, window, limits.per_minute, add=1) == 1:
            prune_windows(conn, platform, shop_id, now_us)
        day_start = day_start_us(now_us, limits)
        used = bump(conn, platform, shop_id, DAY_ENDPOINT, (day_start, DAY_US), limits.per_day, add=1)
        set_quota_use(conn, platform, shop_id, day_start, used, limits.per_day)
        return Decision(
            Outcome.GRANTED,
            at=decision.at,
            used_today=used,
            daily_limit=limits.per_day,
            resets_at=decision.resets_at,
        )
