# Read functions over received webhooks (webhook_logs joined with platform_events) for the Webhooks page.
"""The webhook event log, as people read it.

`list_webhooks` pages through received events newest first, filtered by platform, event type,
kind, status, shop and time, with LIMIT/OFFSET in SQL and the total count of the filtered set;
`get_webhook` returns one event with its payload. Nothing secret is ever returned: the HMAC
signature is only reported as present or not, header values whose names suggest a credential
are replaced by REDACTED, and so are payload values under such keys (at any depth); which names
those are is the one policy of `syncstore.redaction`, shared with the sync logs. The raw body
is not returned at all (it is the unredacted payload); only its size is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.db.models import PlatformEvent, WebhookLog
from syncstore.errors import InvalidInput, Message, NotFoundError, msg
from syncstore.redaction import REDACTED, is_secret_key, redact_keys

# webhook_logs.status mirrors its platform event: received (pending) -> processed / ignored / failed.
STATUSES: Final = ("received", "processed", "ignored", "failed")
KINDS: Final = ("order_status", "product_change", "stock_change", "authorization", "unknown")
MAX_PAGE: Final = 500


class WebhookLogError(InvalidInput):
    """A filter of the webhook log is not one the log knows."""


@dataclass(frozen=True)
class WebhookEntry:
    """One received event as the log lists it."""

    id: int  # webhook_logs.id
    event_row_id: int | None  # platform_events.id (absent only for rows written before normalization)
    platform: str
    event_id: str
    event_type: str
    kind: str | None
    shop_id: str | None
    order_id: str | None
    item_id: str | None
    status: str
    attempts: int
    error_message: str | None
    occurred_at: datetime | None
    received_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True)
class WebhookDetail:
    """One event with what the payload viewer shows: redacted payload and headers, never the signature."""

    entry: WebhookEntry
    payload: Any
    headers: dict[str, str]
    signature_present: bool
    body_bytes: int


def redact(value: Any) -> Any:
    """`value` with every value under a secret key (`syncstore.redaction`) replaced by REDACTED, at any depth."""
    return redact_keys(value, keep_none=True)


def redact_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """Kept request headers, credential-carrying ones replaced by REDACTED."""
    if not isinstance(headers, Mapping):
        return {}
    return {str(name): REDACTED if is_secret_key(str(name)) else str(value) for name, value in headers.items()}


def _columns() -> tuple[Any, ...]:
    return (
        WebhookLog.id,
        PlatformEvent.id,
        WebhookLog.platform,
        WebhookLog.event_id,
        WebhookLog.event_type,
        PlatformEvent.kind,
        WebhookLog.shop_id,
        PlatformEvent.order_id,
        PlatformEvent.item_id,
        WebhookLog.status,
        WebhookLog.attempts,
        WebhookLog.error_message,
        PlatformEvent.occurred_at,
        WebhookLog.received_at,
        WebhookLog.processed_at,
    )


def _entry(values: tuple[Any, ...]) -> WebhookEntry:
    return WebhookEntry(*values)


def _checked_filters(
    platform: str | None, status: str | None, kind: str | None, since: datetime | None, until: datetime | None
) -> None:
    errors: dict[str, Message] = {}
    if platform is not None and not registry.is_platform(platform):
        errors["platform"] = msg("must be one of {choices}", choices=", ".join(registry.names()))
    if status is not None and status not in STATUSES:
        errors["status"] = msg("must be one of {choices}", choices=", ".join(STATUSES))
    if kind is not None and kind not in KINDS:
        errors["kind"] = msg("must be one of {choices}", choices=", ".join(KINDS))
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.utcoffset() is None:
            errors[name] = msg("must be a timezone-aware time")
    if not errors and since is not None and until is not None and until < since:
        errors["until"] = msg("must not be before since")
    if errors:
        raise WebhookLogError(errors)


def list_webhooks(
    session: Session,
    *,
    platform: str | None = None,
    event_type: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    shop_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[WebhookEntry], int]:
    """Received events newest first, one page of them, and how many match the filters in all.

    `since` is inclusive and `until` exclusive, on the time the event was received.
    """
    _checked_filters(platform, status, kind, since, until)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise WebhookLogError({"limit": msg("limit must be 1 to {limit} and offset not negative", limit=MAX_PAGE)})
    conditions: list[sa.ColumnElement[bool]] = []
    if platform is not None:
        conditions.append(WebhookLog.platform == platform)
    if event_type:
        conditions.append(WebhookLog.event_type == event_type)
    if status is not None:
        conditions.append(WebhookLog.status == status)
    if shop_id:
        conditions.append(WebhookLog.shop_id == shop_id)
    if since is not None:
        conditions.append(WebhookLog.received_at >= since)
    if until is not None:
        conditions.append(WebhookLog.received_at < until)
    if kind is not None:
        conditions.append(PlatformEvent.kind == kind)
    joined = sa.select(*_columns()).outerjoin(PlatformEvent, PlatformEvent.webhook_log_id == WebhookLog.id)
    page = joined.where(*conditions).order_by(WebhookLog.received_at.desc(), WebhookLog.id.desc())
    rows = session.execute(page.limit(limit).offset(offset)).all()
    counted = sa.select(sa.func.count()).select_from(WebhookLog)
    if kind is not None:  # only the kind lives on platform_events: join only when filtering on it
        counted = counted.join(PlatformEvent, PlatformEvent.webhook_log_id == WebhookLog.id)
    total = int(session.scalar(counted.where(*conditions)) or 0)
    return [_entry(tuple(row)) for row in rows], total


def get_webhook(session: Session, log_id: int) -> WebhookDetail:
    """One received event (by its webhook_logs id) with its redacted payload and headers."""
    query = (
        sa.select(*_columns(), WebhookLog.payload, WebhookLog.headers, WebhookLog.signature, WebhookLog.raw_body)
        .outerjoin(PlatformEvent, PlatformEvent.webhook_log_id == WebhookLog.id)
        .where(WebhookLog.id == log_id)
    )
    row = session.execute(query).first()
    if row is None:
        raise NotFoundError("webhook event {log_id} not found", log_id=log_id)
    *entry, payload, headers, signature, raw_body = tuple(row)
    return WebhookDetail(
        entry=_entry(tuple(entry)),
        payload=redact(payload),
        headers=redact_headers(headers),
        signature_present=bool(signature),
        body_bytes=len((raw_body or "").encode("utf-8")),
    )


def event_types(session: Session, platform: str | None = None) -> list[str]:
    """The event types received so far (for a filter's choices), sorted."""
    _checked_filters(platform, None, None, None, None)
    query = sa.select(WebhookLog.event_type).distinct().order_by(WebhookLog.event_type)
    if platform is not None:
        query = query.where(WebhookLog.platform == platform)
    return list(session.scalars(query))


def status_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """Received events per status (every status present, zero when none), optionally since a time."""
    _checked_filters(None, None, None, since, None)
    query = sa.select(WebhookLog.status, sa.func.count()).group_by(WebhookLog.status)
    if since is not None:
        query = query.where(WebhookLog.received_at >= since)
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({str(status): int(count) for status, count in session.execute(query)})
    return counts
