# Audit rows: who did what, before and after, when (promise A3). Written in the caller's transaction.
"""The audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import AuditLog

if TYPE_CHECKING:
    from syncstore.auth import Actor


def to_json(value: Any) -> Any:
    """Decimals as strings, times as ISO 8601: exact values in a JSON column."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _add(
    session: Session,
    actor_id: int | None,
    actor_label: str,
    action: str,
    entity_type: str,
    entity_id: object | None,
    before: Any,
    after: Any,
) -> AuditLog:
    row = AuditLog(
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=to_json(before),
        after=to_json(after),
    )
    session.add(row)
    return row


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    """Add one audit row to the current transaction."""
    label = actor.label if actor else "anonymous"
    return _add(session, actor.user_id if actor else None, label, action, entity_type, entity_id, before, after)


def record_system(
    session: Session,
    process: str,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    """An audit row for something SyncStore did on its own (a token refresh, a scheduled sync)."""
    return _add(session, None, f"system:{process}", action, entity_type, entity_id, before, after)


def recent(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    actor_label: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[AuditLog]:
    """Newest audit rows first, optionally for one entity or one actor."""
    query = sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    if entity_type is not None:
        query = query.where(AuditLog.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == str(entity_id))
    if actor_label is not None:
        query = query.where(AuditLog.actor_label == actor_label)
    return session.scalars(query).all()
