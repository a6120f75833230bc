# The Overview's read side: per-shop health, the counts that need action, today's figures and sync activity by hour.
"""Overview reads (the app's landing page and its sidebar counts).

One query per figure, each on an index, so the page stays cheap on a big catalog:

- `shop_health`: every shop (the connections table is small) and its failure rate over the last 24 h
  (`sync_logs` by status and time);
- `attention`: pending conflicts, failed changes (sync log entries of the last 24 hours still failed,
  neither retried nor replaced), listings waiting for a platform's review, orphan SKUs (remote SKUs bound to no variant,
  not excluded), low-stock variants (at or under their threshold, as `syncstore.inventory.low_stock`
  judges them) and open alerts;
- `today`: stock moved (ledger rows and units, on hand) and orders first seen since a given start
  (the caller's local midnight, in UTC);
- `activity_by_hour`: sync log entries per hour and status over the last hours (a chart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.base import ListingStatus
from syncstore.db.models import (
    Alert,
    InventoryHistory,
    Order,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductConflict,
    ProductVariant,
    SyncLog,
)
from syncstore.db.types import utcnow
from syncstore.ops.alerts import QUOTA_THRESHOLD, quota_share
from syncstore.sync.logs import STATUSES as LOG_STATUSES
from syncstore.sync.snapshot import IN_REVIEW

FAILURE_WINDOW: Final = timedelta(hours=24)
# A shop whose refresh token (its authorization) ends sooner than this must be authorized again soon.
REAUTHORIZE_WARNING: Final = timedelta(days=7)
ACTIVITY_HOURS: Final = 24


@dataclass(frozen=True)
class ShopHealth:
    """One shop as the Overview shows it."""

    connection_id: int
    platform: str
    shop_id: str
    shop_name: str
    status: str  # connected | disconnected | expired | error
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    quota_used: int
    quota_limit: int
    paused_until: datetime | None
    last_synced_at: datetime | None
    last_error: str | None
    sent: int  # changes finished (succeeded or failed) in the last 24 h
    failed: int  # of them, failed

    @property
    def failure_rate(self) -> float | None:
        """Failed / finished over the last 24 h; None when nothing was sent."""
        return self.failed / self.sent if self.sent else None

    @property
    def quota_share(self) -> float:
        return quota_share(self.quota_used, self.quota_limit)

    @property
    def quota_high(self) -> bool:
        return self.quota_share >= QUOTA_THRESHOLD

    def token_trouble(self, now: datetime | None = None) -> bool:
        """The shop must be authorized again soon: its refresh token expires within REAUTHORIZE_WARNING,
        or its access token has expired with no refresh token left to renew it.

        An access token that merely expires soon is no trouble: the workers renew it with the refresh token.
        """
        moment = now or utcnow()
        refresh = self.refresh_token_expires_at
        if refresh is not None and refresh - moment < REAUTHORIZE_WARNING:
            return True
        access = self.access_token_expires_at
        return access is not None and access <= moment and refresh is None

    def healthy(self, now: datetime | None = None) -> bool:
        """Connected, its authorization good, not throttled, under its quota, and no failed change in 24 h."""
        moment = now or utcnow()
        paused = self.paused_until is not None and self.paused_until > moment
        return (
            self.status == "connected"
            and not self.token_trouble(moment)
            and not paused
            and not self.quota_high
            and not self.failed
        )


def shop_health(session: Session, *, now: datetime | None = None) -> list[ShopHealth]:
    """Every shop by name, with its sync failures over the last 24 h (two queries)."""
    since = (now or utcnow()) - FAILURE_WINDOW
    finished = session.execute(
        sa.select(SyncLog.connection_id, SyncLog.status, sa.func.count())
        .where(SyncLog.status.in_(("success", "failed")), SyncLog.created_at >= since)
        .group_by(SyncLog.connection_id, SyncLog.status)
    ).all()
    sent: dict[int, int] = {}
    failed: dict[int, int] = {}
    for connection_id, status, count in finished:
        if connection_id is None:
            continue
        sent[connection_id] = sent.get(connection_id, 0) + int(count)
        if status == "failed":
            failed[connection_id] = int(count)
    shops = session.scalars(sa.select(PlatformConnection).order_by(PlatformConnection.shop_name, PlatformConnection.id))
    return [_health(shop, sent.get(shop.id, 0), failed.get(shop.id, 0)) for shop in shops]


def _health(shop: PlatformConnection, sent: int, failed: int) -> ShopHealth:
    return ShopHealth(
        connection_id=shop.id, platform=shop.platform, shop_id=shop.shop_id, shop_name=shop.shop_name,
        status=shop.status, access_token_expires_at=shop.access_token_expires_at,
        refresh_token_expires_at=shop.refresh_token_expires_at, quota_used=shop.api_quota_used,
        quota_limit=shop.api_quota_limit, paused_until=shop.paused_until, last_synced_at=shop.last_synced_at,
        last_error=shop.last_error, sent=sent, failed=failed,
    )  # fmt: skip


@dataclass(frozen=True)
class Attention:
    """The counts that need someone's action (or, for listings in review, a platform's)."""

    pending_conflicts: int
    failed_changes: int
    listings_in_review: int
    orphan_skus: int
    low_stock_variants: int
    open_alerts: int


def pending_conflicts(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).where(ProductConflict.status == "pending")) or 0)


def failed_changes(session: Session, *, now: datetime | None = None) -> int:
    """Changes of the last 24 hours whose entry is still failed (a retry that worked, or a change no longer
    needed, moves it on). Older failures stay on Sync activity; the window keeps the count about now."""
    since = (now or utcnow()) - FAILURE_WINDOW
    return int(
        session.scalar(sa.select(sa.func.count()).where(SyncLog.status == "failed", SyncLog.created_at >= since)) or 0
    )


def _shop_ids(session: Session) -> list[int]:
    return list(session.scalars(sa.select(PlatformConnection.id)))


def listings_in_review(session: Session, shop_ids: Sequence[int] | None = None) -> int:
    """Listings the platform is auditing (per shop on the shop-and-status index)."""
    ids = list(shop_ids) if shop_ids is not None else _shop_ids(session)
    if not ids:
        return 0
    return int(
        session.scalar(
            sa.select(sa.func.count()).where(
                PlatformListing.connection_id.in_(ids), PlatformListing.sync_status == IN_REVIEW
            )
        )
        or 0
    )


def orphan_skus(session: Session) -> int:
    """Remote SKUs bound to no variant and not excluded, on listings still on the shop (the Listings page's orphans)."""
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(PlatformListingSku)
            .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
            .where(
                PlatformListingSku.variant_id.is_(None),
                PlatformListingSku.binding_excluded.is_(False),
                PlatformListing.remote_status != ListingStatus.DELETED.value,
            )
        )
        or 0
    )


def low_stock_variants(session: Session) -> int:
    """Active variants whose available stock is at or under their low-stock threshold."""
    return int(
        session.scalar(
            sa.select(sa.func.count()).where(
                ProductVariant.low_stock_threshold.is_not(None),
                ProductVariant.is_active,
                ProductVariant.stock - ProductVariant.reserved <= ProductVariant.low_stock_threshold,
            )
        )
        or 0
    )


def open_alerts(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).where(Alert.status == "open")) or 0)


def attention(session: Session) -> Attention:
    """Every count that needs action, one query each."""
    return Attention(
        pending_conflicts=pending_conflicts(session),
        failed_changes=failed_changes(session),
        listings_in_review=listings_in_review(session),
        orphan_skus=orphan_skus(session),
        low_stock_variants=low_stock_variants(session),
        open_alerts=open_alerts(session),
    )


@dataclass(frozen=True)
class Today:
    """What happened since `since` (the viewer's local midnight)."""

    since: datetime
    stock_changes: int  # ledger rows that moved on-hand stock
    units_moved: int  # sum of |new - previous| on hand
    orders: int  # orders first seen
    order_units: int


def today(session: Session, since: datetime) -> Today:
    """Stock moved and orders seen since `since` (timezone-aware)."""
    moved = sa.func.abs(InventoryHistory.new_quantity - InventoryHistory.previous_quantity)
    changes, units = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(moved), 0)).where(
            InventoryHistory.created_at >= since, InventoryHistory.new_quantity != InventoryHistory.previous_quantity
        )
    ).one()
    orders, order_units = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Order.units), 0)).where(Order.first_seen_at >= since)
    ).one()
    return Today(since, int(changes or 0), int(units or 0), int(orders or 0), int(order_units or 0))


def local_midnight(now: datetime, zone: tzinfo) -> datetime:
    """The start of `now`'s day in time zone `zone`, as UTC."""
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(UTC)


@dataclass(frozen=True)
class HourActivity:
    """Sync log entries created in one hour (its start, UTC), by status."""

    hour: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _hour_bucket(dialect: str) -> sa.ColumnElement[str]:
    """The UTC hour of a sync log entry as text "YYYY-MM-DD HH" (SQLite keeps UTC text; PostgreSQL a timestamptz)."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", SyncLog.created_at), "YYYY-MM-DD HH24")
    return sa.func.substr(sa.cast(SyncLog.created_at, sa.String), 1, 13)


def activity_by_hour(
    session: Session, *, hours: int = ACTIVITY_HOURS, now: datetime | None = None
) -> list[HourActivity]:
    """Sync log entries per hour and status for the last `hours` hours, oldest first, every hour present."""
    end = (now or utcnow()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = end - timedelta(hours=hours - 1)
    bucket = _hour_bucket(session.get_bind().dialect.name).label("hour")
    rows = session.execute(
        sa.select(bucket, SyncLog.status, sa.func.count())
        .where(SyncLog.status.in_(LOG_STATUSES), SyncLog.created_at >= first)
        .group_by(bucket, SyncLog.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for hour, status, count in rows:
        counts.setdefault(str(hour).replace("T", " ")[:13], {})[str(status)] = int(count)
    result = []
    for step in range(hours):
        start = first + timedelta(hours=step)
        found = counts.get(f"{start:%Y-%m-%d %H}", {})
        result.append(HourActivity(start, {status: found.get(status, 0) for status in LOG_STATUSES}))
    return result
