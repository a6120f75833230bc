# Audit rows: who did what, before and after, when (promise A3). Written in the caller's transaction.
"""The audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import AuditLog

if TYPE_CHECKING:
    from syncstore.security.auth import Actor


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


_INSERT = sa.insert(AuditLog)


def record_now(
    session: Session,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """`record`, written at once as one INSERT in the caller's transaction (no ORM object: for hot paths)."""
    session.connection().execute(
        _INSERT,
        {"actor_id": actor.user_id if actor else None, "actor_label": actor.label if actor else "anonymous",
         "action": action, "entity_type": entity_type, "entity_id": None if entity_id is None else str(entity_id),
         "before": to_json(before), "after": to_json(after)},
    )  # fmt: skip


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


@dataclass(frozen=True)
class AuditFilter:
    """What the Admin page filters the audit log by (every field given must hold)."""

    actor_label: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." such as "product."
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[AuditLog]
    total: int


def list_audit(session: Session, filters: AuditFilter | None = None, *, limit: int = 50, offset: int = 0) -> AuditPage:
    """A page of the audit log, newest first, and how many rows match in all."""
    filters = filters or AuditFilter()
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.actor_label:
        conditions.append(AuditLog.actor_label == filters.actor_label)
    if filters.action:
        if filters.action.endswith("."):
            conditions.append(AuditLog.action.startswith(filters.action, autoescape=True))
        else:
            conditions.append(AuditLog.action == filters.action)
    if filters.entity_type:
        conditions.append(AuditLog.entity_type == filters.entity_type)
    if filters.entity_id:
        conditions.append(AuditLog.entity_id == filters.entity_id)
    if filters.since is not None:
        conditions.append(AuditLog.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditLog.created_at < filters.until)
    where = sa.and_(sa.true(), *conditions)
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(where)) or 0
    rows = session.scalars(
        sa.select(AuditLog).where(where).order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    ).all()
    return AuditPage(rows=rows, total=total)


def audit_choices(session: Session) -> tuple[list[str], list[str], list[str]]:
    """The actors, actions and entity types present in the log (for filter drop-downs)."""

    def distinct(column: sa.orm.InstrumentedAttribute[str]) -> list[str]:
        return sorted(session.scalars(sa.select(column).distinct()))

    return distinct(AuditLog.actor_label), distinct(AuditLog.action), distinct(AuditLog.entity_type)
