# Sync logs: one row per change pushed to a shop, its request and response with secrets redacted, and reads for the app.
"""Sync logs.

Every change the sync sends gets ONE `sync_logs` row, found again by its idempotency key: the row is
written `pending` (and committed) before the platform call and finished `success` or `failed` after
it. A re-run after a crash, or a retry of a failed change, reuses the row (attempts + 1) instead of
adding another, so the log shows each change once with how often it was tried.

Requests and responses pass through `redact` before they are stored: any key that names a token,
secret, signature, password or authorization header is replaced, and strings that look like bearer
tokens are cut (the one policy of `syncstore.redaction`, which the webhook log shares). The
connectors already keep secrets out of their error messages; this is the second lock on the door.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import PlatformConnection, SyncLog
from syncstore.db.types import utcnow
from syncstore.plan.changes import JsonObject
from syncstore.redaction import redact_keys, redact_text
from syncstore.security import audit

ERROR_MAX: Final = 2000
STATUSES: Final = ("pending", "success", "failed", "superseded")


def _leaf(value: Any) -> Any:
    return redact_text(value) if isinstance(value, str) else audit.to_json(value)


def redact(value: Any) -> Any:
    """A JSON-safe copy of `value` with secrets replaced (`syncstore.redaction`) and Decimals as strings."""
    return redact_keys(value, leaf=_leaf)


def redact_message(message: str) -> str:
    text = redact_text(message)
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


# --- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """A change about to be sent."""

    idempotency_key: str
    connection_id: int
    platform: str
    operation: str
    product_id: int | None
    variant_id: int | None
    remote_item_id: str | None
    request: JsonObject  # the change's request(): JSON, Decimal as text


def open_logs(session: Session, entries: Sequence[LogEntry], run_id: str | None) -> dict[str, int]:
    """A `pending` row per entry, reusing a pending or failed row with the same key; key -> row id."""
    ids: dict[str, int] = {}
    keys = [entry.idempotency_key for entry in entries]
    existing: dict[str, SyncLog] = {}
    for start in range(0, len(keys), 500):
        rows = session.scalars(
            sa.select(SyncLog)
            .where(SyncLog.idempotency_key.in_(keys[start : start + 500]), SyncLog.status.in_(("pending", "failed")))
            .order_by(SyncLog.id)
        )
        existing.update({row.idempotency_key: row for row in rows if row.idempotency_key})
    for entry in entries:
        row = existing.get(entry.idempotency_key)
        if row is None:
            row = SyncLog(
                connection_id=entry.connection_id, product_id=entry.product_id, variant_id=entry.variant_id,
                platform=entry.platform, operation=entry.operation, status="pending",
                platform_product_id=entry.remote_item_id, idempotency_key=entry.idempotency_key,
                request_data=redact(entry.request), attempts=0, run_id=run_id,
            )  # fmt: skip
            session.add(row)
            existing[entry.idempotency_key] = row
        row.status, row.run_id, row.error_message = "pending", run_id, None
        row.attempts += 1
    session.flush()
    for entry in entries:
        ids[entry.idempotency_key] = existing[entry.idempotency_key].id
    return ids


def finish_log(
    session: Session,
    log_id: int,
    *,
    ok: bool,
    response: Any = None,
    error: str | None = None,
    duration_ms: int | None = None,
    remote_item_id: str | None = None,
) -> None:
    row = session.get_one(SyncLog, log_id)
    row.status = "success" if ok else "failed"
    row.response_data = redact(response) if response is not None else None
    row.error_message = None if ok else redact_message(error or "failed")
    row.duration_ms = duration_ms
    if remote_item_id is not None:
        row.platform_product_id = remote_item_id
    if ok:
        row.synced_at = utcnow()


def supersede_stale(session: Session, connection_id: int, keep: Iterable[str], older_than: timedelta) -> int:
    """Pending rows of an earlier, interrupted run that the current plan no longer contains."""
    keep_keys = set(keep)
    cutoff = utcnow() - older_than
    rows = session.scalars(
        sa.select(SyncLog).where(
            SyncLog.connection_id == connection_id, SyncLog.status == "pending", SyncLog.created_at < cutoff
        )
    ).all()
    count = 0
    for row in rows:
        if row.idempotency_key not in keep_keys:
            row.status, row.error_message = "superseded", "no longer needed: a later plan replaced this change"
            count += 1
    return count


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncLogView:
    """What the app shows; request/response already redacted."""

    id: int
    connection_id: int | None
    shop_name: str
    platform: str
    product_id: int | None
    variant_id: int | None
    operation: str
    status: str
    error_message: str | None
    request_data: Any
    response_data: Any
    attempts: int
    duration_ms: int | None
    run_id: str | None
    created_at: datetime
    synced_at: datetime | None


def _view(row: SyncLog, shop_name: str | None) -> SyncLogView:
    return SyncLogView(
        id=row.id, connection_id=row.connection_id, shop_name=shop_name or "", platform=row.platform,
        product_id=row.product_id, variant_id=row.variant_id, operation=row.operation, status=row.status,
        error_message=row.error_message, request_data=row.request_data, response_data=row.response_data,
        attempts=row.attempts, duration_ms=row.duration_ms, run_id=row.run_id, created_at=row.created_at,
        synced_at=row.synced_at,
    )  # fmt: skip


def get_log(session: Session, log_id: int) -> SyncLogView | None:
    found = session.execute(
        sa.select(SyncLog, PlatformConnection.shop_name)
        .outerjoin(PlatformConnection, PlatformConnection.id == SyncLog.connection_id)
        .where(SyncLog.id == log_id)
    ).first()
    return _view(found[0], found[1]) if found else None


def list_sync_logs(
    session: Session,
    *,
    connection_id: int | None = None,
    status: str | None = None,
    operation: str | None = None,
    product_id: int | None = None,
    since: datetime | None = None,
    run_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[SyncLogView], int]:
    """Sync logs, newest first, with the total matching the filters (for paging)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if connection_id is not None:
        conditions.append(SyncLog.connection_id == connection_id)
    if status is not None:
        conditions.append(SyncLog.status == status)
    if operation is not None:
        conditions.append(SyncLog.operation == operation)
    if product_id is not None:
        conditions.append(SyncLog.product_id == product_id)
    if since is not None:
        conditions.append(SyncLog.created_at >= since)
    if run_id is not None:
        conditions.append(SyncLog.run_id == run_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(SyncLog).where(*conditions)) or 0
    rows = session.execute(
        sa.select(SyncLog, PlatformConnection.shop_name)
        .outerjoin(PlatformConnection, PlatformConnection.id == SyncLog.connection_id)
        .where(*conditions)
        .order_by(SyncLog.created_at.desc(), SyncLog.id.desc())
        .limit(max(0, limit))
        .offset(max(0, offset))
    ).all()
    return [_view(row, shop_name) for row, shop_name in rows], int(total)


def failure_rate(
    session: Session, *, connection_id: int | None = None, window: timedelta = timedelta(hours=24)
) -> float | None:
    """Failed / (succeeded + failed) among changes logged within `window`; None when there were none."""
    conditions = [SyncLog.created_at >= utcnow() - window, SyncLog.status.in_(("success", "failed"))]
    if connection_id is not None:
        conditions.append(SyncLog.connection_id == connection_id)
    counts = dict(
        session.execute(sa.select(SyncLog.status, sa.func.count()).where(*conditions).group_by(SyncLog.status)).all()
    )
    finished = int(counts.get("success", 0)) + int(counts.get("failed", 0))
    return None if finished == 0 else int(counts.get("failed", 0)) / finished
