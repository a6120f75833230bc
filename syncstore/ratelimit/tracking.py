# Rate-limit rows: the database side both limiters share (counters, quota use, pauses).
"""The `rate_limit_tracking` and `platform_connections` rows both limiters write.

Daily quota
    Counted per platform day: Shopee's quota resets at 00:00 UTC+8 (16:00 UTC); no reset time is
    known for TikTok Shop, so its day is the UTC day (each spec's `day_start_utc_offset`).
    `rate_limit_tracking` keeps one row per shop and day (endpoint `*/day`, `quota_limit` = the daily limit), and
    `platform_connections.api_quota_used` / `api_quota_limit` mirror the current day (until a
    shop's first request of a new day, the column still shows the previous day's count).
    `on_quota_alert(platform, shop_id, used, limit)` is called once per shop and day, by the
    process whose grant reaches `ratelimit_quota_alert_threshold` (80 %) of the quota.

Pauses (R3)
    `pause(platform, shop_id, seconds)` (from `ShopGate.throttled`, after a platform throttle
    answer) makes every worker's acquire wait until it ends; the later of an existing and a new
    pause end wins. Without a `Retry-After` the pause is DEFAULT_PAUSE_S (5 s). Redis pauses are
    also written to `platform_connections.paused_until`, which is where the database limiter keeps
    them (a shop without a connection row cannot be paused there; that is logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from syncstore.db.engine import is_postgres
from syncstore.db.models import PlatformConnection, RateLimitTracking
from syncstore.db.types import UTCDateTime, utcnow
from syncstore.ratelimit.limits import to_datetime, to_us

logger = logging.getLogger(__name__)

# How long the per-sub-window rows are kept.
TRACKING_RETENTION: Final = timedelta(hours=1)
# rate_limit_tracking.endpoint of the per-sub-window and per-day rows (all endpoints of a shop together).
WINDOW_ENDPOINT: Final = "*"
DAY_ENDPOINT: Final = "*/day"

TRACKING = cast(sa.Table, RateLimitTracking.__table__)


def shop_rows(platform: str, shop_id: str, endpoint: str) -> list[sa.ColumnElement[bool]]:
    return [TRACKING.c.platform == platform, TRACKING.c.shop_id == shop_id, TRACKING.c.endpoint == endpoint]


def connection_of(platform: str, shop_id: str) -> list[sa.ColumnElement[bool]]:
    return [PlatformConnection.platform == platform, PlatformConnection.shop_id == shop_id]


def bump(
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
    insert = postgresql.insert(TRACKING) if is_postgres(conn) else sqlite.insert(TRACKING)
    connection_id = sa.select(PlatformConnection.id).where(*connection_of(platform, shop_id)).scalar_subquery()
    stmt = insert.values(
        connection_id=connection_id,
        platform=platform,
        shop_id=shop_id,
        endpoint=endpoint,
        request_count=max(add, at_least),
        window_start=to_datetime(start_us),
        window_end=to_datetime(start_us + length_us),
        quota_limit=quota_limit,
        created_at=utcnow(),
    )
    greatest = sa.func.greatest if is_postgres(conn) else sa.func.max
    upsert = stmt.on_conflict_do_update(
        index_elements=[TRACKING.c.platform, TRACKING.c.shop_id, TRACKING.c.endpoint, TRACKING.c.window_start],
        set_={"request_count": greatest(TRACKING.c.request_count + add, at_least), "quota_limit": quota_limit},
    ).returning(TRACKING.c.request_count)
    return int(conn.execute(upsert).scalar_one())


def prune_windows(conn: sa.Connection, platform: str, shop_id: str, now_us: int) -> None:
    cutoff = to_datetime(now_us) - TRACKING_RETENTION
    conn.execute(
        sa.delete(TRACKING).where(*shop_rows(platform, shop_id, WINDOW_ENDPOINT), TRACKING.c.window_start < cutoff)
    )


def set_quota_use(conn: sa.Connection, platform: str, shop_id: str, day_start_us: int, used: int, limit: int) -> None:
    """Mirror the day's count on the connection row, unless a later day has begun there already."""
    later_day = sa.exists().where(
        *shop_rows(platform, shop_id, DAY_ENDPOINT), TRACKING.c.window_start > to_datetime(day_start_us)
    )
    conn.execute(
        sa.update(PlatformConnection)
        .where(*connection_of(platform, shop_id), ~later_day)
        .values(api_quota_used=used, api_quota_limit=limit)
    )


def store_pause(conn: sa.Connection, platform: str, shop_id: str, until: datetime) -> datetime | None:
    """Extend the connection's paused_until to `until` (a later one stays); None when there is no connection row."""
    column = PlatformConnection.paused_until
    new_end = sa.case((sa.or_(column.is_(None), column < until), sa.literal(until, UTCDateTime())), else_=column)
    stmt = (
        sa.update(PlatformConnection)
        .where(*connection_of(platform, shop_id))
        .values(paused_until=new_end)
        .returning(column)
    )
    stored: datetime | None = conn.execute(stmt).scalar_one_or_none()
    if stored is None:
        logger.warning("%s shop %s has no connection row: its pause is not stored in the database", platform, shop_id)
    return stored


@dataclass(frozen=True)
class Seed:
    """What the database knows of a shop when a process first sees it: the last day's count and the pause."""

    day_start_us: int
    used: int
    paused_until_us: int


def read_seed(engine: sa.Engine, platform: str, shop_id: str) -> Seed:
    with engine.connect() as conn:
        day = conn.execute(
            sa.select(TRACKING.c.window_start, TRACKING.c.request_count)
            .where(*shop_rows(platform, shop_id, DAY_ENDPOINT))
            .order_by(TRACKING.c.window_start.desc())
            .limit(1)
        ).first()
        paused = conn.execute(
            sa.select(PlatformConnection.paused_until).where(*connection_of(platform, shop_id))
        ).scalar_one_or_none()
    return Seed(
        day_start_us=to_us(day.window_start) if day else -1,
        used=int(day.request_count) if day else 0,
        paused_until_us=to_us(paused) if paused else 0,
    )
