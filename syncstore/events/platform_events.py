# Normalized marketplace events as the pipelines read them: the pending queue, outcomes, and retention.
"""Platform events: what the events sensor and `apply_events` work on.

The webhook receiver writes each accepted event twice in ONE transaction (`syncstore.events.webhooks`):
its `webhook_logs` row (raw body, kept headers, signature, and the UNIQUE(platform, event_id) dedup
key) and its `platform_events` row (kind, shop, order, item, when; status pending). Why two tables:
webhook_logs is the receipt (wide, written once, kept for the dedup horizon), platform_events is
the narrow work queue the sensor polls every few seconds through its (status, id) index. The
outcome of an event is mirrored onto its log row (received -> processed / ignored / failed) in the
same transaction, so the Webhooks page reads one status.

Unknown event types are stored with status `ignored` on both rows: acknowledged, never acted on.

Retention: `prune` deletes events older than `webhook_retention_days` (never fewer than
`MIN_RETENTION_DAYS` = 14, so dedup keys outlive every platform retry horizon) and never an
event still pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import PlatformEvent, WebhookLog
from syncstore.db.types import utcnow
from syncstore.settings import get_settings

PENDING: Final = "pending"
PROCESSED: Final = "processed"
IGNORED: Final = "ignored"
FAILED: Final = "failed"
STATUSES: Final = (PENDING, PROCESSED, IGNORED, FAILED)
KINDS: Final = ("order_status", "product_change", "stock_change", "authorization", "unknown")

# Shopee retries for up to 3 h and TikTok Shop for 12 h; lost pushes can be fetched for 3 days.
# A dedup key must outlive all of them.
MIN_RETENTION_DAYS: Final = 14
MAX_ERROR_CHARS: Final = 2000

# The log row's status for each event status.
_LOG_STATUS: Final = {PENDING: "received", PROCESSED: "processed", IGNORED: "ignored", FAILED: "failed"}


@dataclass(frozen=True)
class Event:
    """One normalized event with the parsed body of its webhook."""

    id: int
    webhook_log_id: int
    platform: str
    kind: str
    event_type: str
    shop_id: str | None
    order_id: str | None
    item_id: str | None
    occurred_at: datetime | None
    status: str
    attempts: int
    created_at: datetime
    payload: Any


@dataclass(frozen=True)
class Backlog:
    """Pending events and the age of the oldest (the "webhook backlog older than 5 min" alert)."""

    pending: int
    oldest_created_at: datetime | None

    def oldest_age(self, now: datetime | None = None) -> timedelta | None:
        if self.oldest_created_at is None:
            return None
        return (now or utcnow()) - self.oldest_created_at


def pending(session: Session, limit: int = 100, *, kinds: Sequence[str] | None = None) -> list[Event]:
    """The oldest pending events first, up to `limit`.

    On PostgreSQL the rows are locked with SKIP LOCKED until the session's transaction ends, so two
    runs working at once never take the same event.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    query = (
        sa.select(PlatformEvent, WebhookLog.payload)
        .join(WebhookLog, WebhookLog.id == PlatformEvent.webhook_log_id)
        .where(PlatformEvent.status == PENDING)
        .order_by(PlatformEvent.id)
        .limit(limit)
    )
    if kinds:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown event kinds: {sorted(unknown)}")
        query = query.where(PlatformEvent.kind.in_(list(kinds)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=PlatformEvent, skip_locked=True)
    return [_event(row, payload) for row, payload in session.execute(query)]


def get(session: Session, event_id: int) -> Event | None:
    """One event by id (any status)."""
    found = session.execute(
        sa.select(PlatformEvent, WebhookLog.payload)
        .join(WebhookLog, WebhookLog.id == PlatformEvent.webhook_log_id)
        .where(PlatformEvent.id == event_id)
    ).first()
    return _event(found[0], found[1]) if found else None


def mark_processed(session: Session, event_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Mark events processed (and their log rows); the number of events changed."""
    return _finish(session, list(event_ids), PROCESSED, now=now)


def mark_ignored(session: Session, event_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Mark events ignored: looked at, nothing to do (e.g. a shop that is no longer connected)."""
    return _finish(session, list(event_ids), IGNORED, now=now)


def mark_failed(
    session: Session, event_id: int, error: str, *, max_attempts: int | None = None, now: datetime | None = None
) -> str:
    """Count one failed attempt; the event stays pending until `max_attempts`, then it is failed.

    Returns the event's new status. No backoff here: the sensor simply sees it again on its next tick.
    """
    limit = max_attempts if max_attempts is not None else get_settings().outbox_max_attempts
    event = session.get(PlatformEvent, event_id)
    if event is None:
        raise LookupError(f"no platform event {event_id}")
    if event.status != PENDING:  # another worker finished it meanwhile: its outcome stands
        return event.status
    event.attempts += 1
    event.error_message = error[:MAX_ERROR_CHARS]
    if event.attempts >= limit:
        event.status = FAILED
        event.processed_at = now or utcnow()
    session.execute(
        sa.update(WebhookLog)
        .where(WebhookLog.id == event.webhook_log_id)
        .values(
            status=_LOG_STATUS[event.status],
            attempts=event.attempts,
            error_message=event.error_message,
            processed_at=event.processed_at,
        )
    )
    session.flush()
    return event.status


def backlog(session: Session) -> Backlog:
    """How many events wait, and since when."""
    count, oldest = session.execute(
        sa.select(sa.func.count(PlatformEvent.id), sa.func.min(PlatformEvent.created_at)).where(
            PlatformEvent.status == PENDING
        )
    ).one()
    return Backlog(int(count), oldest)


def prune(
    engine: sa.Engine, older_than_days: int | None = None, *, now: datetime | None = None, batch_size: int = 5000
) -> int:
    """Delete webhook events received more than `older_than_days` ago (default: the retention setting).

    Pending events are kept whatever their age. Deletes in batches (short transactions); returns the
    number of webhook_logs rows deleted (their platform_events rows are deleted with them, in the same
    transaction: there is no cascading foreign key, see migration 0006).
    """
    days = get_settings().webhook_retention_days if older_than_days is None else older_than_days
    if days < MIN_RETENTION_DAYS:
        raise ValueError(
            f"webhook events are the dedup keys and must be kept at least {MIN_RETENTION_DAYS} days "
            f"(platforms retry for up to 3 days); got {days}"
        )
    cutoff = (now or utcnow()) - timedelta(days=days)
    still_pending = sa.select(PlatformEvent.webhook_log_id).where(PlatformEvent.status == PENDING)
    deleted = 0
    while True:
        with engine.begin() as connection:
            ids = list(
                connection.execute(
                    sa.select(WebhookLog.id)
                    .where(WebhookLog.received_at < cutoff, WebhookLog.id.not_in(still_pending))
                    .order_by(WebhookLog.id)
                    .limit(batch_size)
                ).scalars()
            )
            if not ids:
                return deleted
            connection.execute(sa.delete(PlatformEvent).where(PlatformEvent.webhook_log_id.in_(ids)))
            connection.execute(sa.delete(WebhookLog).where(WebhookLog.id.in_(ids)))
        deleted += len(ids)


def _finish(session: Session, event_ids: list[int], status: str, *, now: datetime | None) -> int:
    if not event_ids:
        return 0
    when = now or utcnow()
    changed = session.execute(
        sa.update(PlatformEvent)
        .where(PlatformEvent.id.in_(event_ids))
        .values(status=status, processed_at=when)
        .returning(PlatformEvent.webhook_log_id)
    ).scalars()
    log_ids = list(changed)
    if log_ids:
        session.execute(
            sa.update(WebhookLog)
            .where(WebhookLog.id.in_(log_ids))
            .values(status=_LOG_STATUS[status], processed_at=when)
        )
    return len(log_ids)


def _event(row: PlatformEvent, payload: Any) -> Event:
    return Event(
        id=row.id,
        webhook_log_id=row.webhook_log_id,
        platform=row.platform,
        kind=row.kind,
        event_type=row.event_type,
        shop_id=row.shop_id,
        order_id=row.order_id,
        item_id=row.item_id,
        occurred_at=row.occurred_at,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        payload=payload,
    )
