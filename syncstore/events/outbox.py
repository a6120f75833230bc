# The transactional outbox: publish events with a change, claim them under a lease, complete or back off.
"""The outbox (promises O1 to O5 in reference/reliability.md).

A change and the event announcing it commit together: `publish` adds the event to the caller's
session, so a rollback drops both (O1). Workers then run the queue through short transactions of
their own, which is why these functions take an engine rather than a session:

* `claim` hands out due `pending` events under a lease: `locked_until` = now + lease and
  `locked_by` = a fresh claim token. On PostgreSQL the candidate rows are read with
  `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers never wait on or take each other's
  rows, and the lease keeps a claimed event away from everyone else after the claim commits (O2).
  On SQLite every transaction starts with `BEGIN IMMEDIATE` (see `syncstore.db.engine`), so a claim
  holds the database's single write lock from its first statement to its commit: claims are
  serialised and no two can pick the same row.
* Events are picked by status and due time, never by a "highest id seen" cursor, so an event whose
  transaction commits after one with a higher id is still claimed (O4).
* `complete` and `fail` act only while the caller's claim token still holds the event. A worker
  whose lease ran out and whose event another worker re-claimed gets False / None back and changes
  nothing. A worker that dies mid-job simply lets its lease run out; the event is claimed again and
  the push carries `ClaimedEvent.idempotency_key`, the same on every attempt, so the platform sees
  one effect (O3).
* `hold` leases events in the transaction that publishes them, for a caller that does their work
  at once (the events worker pushing an order's stock): no other consumer claims them, and the
  caller completes them when its push went through or fails them (the outbox retries). One push
  per change, never a second consumer racing the first.
* Every claim counts as an attempt. `fail` backs off exponentially with jitter and marks the event
  `failed` after `outbox_max_attempts` (O5); an event whose worker kept dying is marked `failed` by
  the next claim once its attempts are used up, so a poison event cannot crash workers forever.
  `failed` events stay in the table for the app to show, and `retry` re-queues one by hand.

Times come from the worker's clock (`utcnow()`, or `now=` in tests); lease lengths (60 s by
default) dwarf the clock skew between hosts. PostgreSQL must run these at READ COMMITTED (its
default): a concurrent claim of the same row is then re-checked and skipped, not an error.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.engine import transaction
from syncstore.db.models import OutboxEvent
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, Message, NotFoundError, msg
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.settings import get_settings

STATUSES: Final = ("pending", "done", "failed")
# A failed attempt is never retried sooner than this, whatever the jitter draws.
MIN_BACKOFF_SECONDS: Final = 0.5
# Longest error text kept in `last_error` (the rest is cut, with a note saying how much).
MAX_ERROR_CHARS: Final = 2000
MAX_CLAIM_BATCH: Final = 1000

FailOutcome = Literal["pending", "failed"]


@dataclass(frozen=True)
class ClaimedEvent:
    """An event a worker holds until `locked_until`; pass `claim_token` back to complete or fail it."""

    id: int
    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: dict[str, Any]
    # Attempts so far, this one included (1 on the first claim).
    attempts: int
    claim_token: str
    locked_until: datetime

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt of this event: a re-run after a crash has one effect on a platform."""
        return f"outbox-{self.id}"


# --- publishing -----------------------------------------------------------------------------


def publish(
    session: Session,
    *,
    aggregate_type: str,
    aggregate_id: str | int,
    event_type: str,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Add an event to the caller's transaction; it commits or rolls back with the change it announces.

    Nothing is flushed or committed here: the event gets its id at the session's next flush.
    Decimals in the payload are stored as strings and datetimes as ISO 8601 text.
    """
    event = OutboxEvent(**_event_values(aggregate_type, aggregate_id, event_type, payload))
    session.add(event)
    return event


_INSERT: Final = sa.insert(OutboxEvent)


def publish_now(
    session: Session,
    *,
    aggregate_type: str,
    aggregate_id: str | int,
    event_type: str,
    payload: dict[str, Any],
) -> None:
    """`publish`, written at once as one INSERT in the caller's transaction (no ORM object: for hot paths)."""
    session.connection().execute(_INSERT, _event_values(aggregate_type, aggregate_id, event_type, payload))


def _event_values(
    aggregate_type: str, aggregate_id: str | int, event_type: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """The columns of a new pending event, checked."""
    errors: dict[str, Message] = {}
    for field, value, limit in (
        ("aggregate_type", aggregate_type, 50),
        ("aggregate_id", str(aggregate_id), 64),
        ("event_type", event_type, 100),
    ):
        if not value.strip():
            errors[field] = msg("must not be empty")
        elif len(value) > limit:
            errors[field] = msg("must be at most {limit} characters", limit=limit)
    if not isinstance(payload, dict):
        errors["payload"] = msg("must be a JSON object (a dict)")
    if errors:
        raise InvalidInput(errors)
    data = audit.to_json(payload)
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInput({"payload": msg("is not JSON-serialisable: {error}", error=error)}) from None
    return {"aggregate_type": aggregate_type, "aggregate_id": str(aggregate_id), "event_type": event_type,
            "payload": data, "status": "pending", "attempts": 0}  # fmt: skip


# --- the worker side ------------------------------------------------------------------------


def _claimable(now: datetime, event_types: Sequence[str] | None) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [
        OutboxEvent.status == "pending",
        OutboxEvent.next_attempt_at <= now,
        sa.or_(OutboxEvent.locked_until.is_(None), OutboxEvent.locked_until <= now),
    ]
    if event_types is not None:
        conditions.append(OutboxEvent.event_type.in_(list(event_types)))
    return conditions


def claim(
    engine: sa.Engine,
    *,
    worker_id: str,
    limit: int = 100,
    lease_seconds: int | None = None,
    event_types: Sequence[str] | None = None,
    now: datetime | None = None,
) -> list[ClaimedEvent]:
    """Lease up to `limit` due pending events, earliest due first, in one transaction.

    Each claimed event gets attempts + 1 and `locked_until` = now + lease (default
    `outbox_lease_seconds`). All events of one call share one fresh claim token, which starts with
    (up to 31 characters of) `worker_id` so the app can show who holds an event. Events that
    already used `outbox_max_attempts` (their workers died before completing or failing them) are
    marked `failed` instead of being handed out again.
    """
    if not worker_id.strip():
        raise InvalidInput({"worker_id": "must not be empty"})
    if not 1 <= limit <= MAX_CLAIM_BATCH:
        raise InvalidInput({"limit": msg("must be between 1 and {limit}", limit=MAX_CLAIM_BATCH)})
    settings = get_settings()
    lease = settings.outbox_lease_seconds if lease_seconds is None else lease_seconds
    if lease < 1:
        raise InvalidInput({"lease_seconds": "must be at least 1"})
    if event_types is not None and not event_types:
        return []
    token = f"{worker_id.strip()[:31]}:{uuid.uuid4().hex}"
    claimed: list[ClaimedEvent] = []
    with transaction(engine) as session:
        # Start the transaction (on SQLite: take the write lock) before reading the clock.
        session.connection()
        at = utcnow() if now is None else now
        until = at + timedelta(seconds=lease)
        while len(claimed) < limit:
            candidates = session.execute(
                sa.select(OutboxEvent.id, OutboxEvent.attempts, OutboxEvent.locked_until)
                .where(*_claimable(at, event_types))
                .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
                .limit(limit - len(claimed))
                .with_for_update(skip_locked=True)
            ).all()
            if not candidates:
                break
            exhausted = [row for row in candidates if row.attempts >= settings.outbox_max_attempts]
            for row in exhausted:
                reason = (
                    "the last one did not finish within its lease (the worker crashed or timed out)"
                    if row.locked_until is not None
                    else f"the limit is {settings.outbox_max_attempts}"
                )
                session.execute(
                    sa.update(OutboxEvent)
                    .where(OutboxEvent.id == row.id)
                    .values(
                        status="failed",
                        locked_until=None,
                        locked_by=None,
                        last_error=f"gave up after {row.attempts} attempts: {reason}",
                    )
                    .execution_options(synchronize_session=False)
                )
            order = {row.id: position for position, row in enumerate(candidates)}
            fresh = [row.id for row in candidates if row.attempts < settings.outbox_max_attempts]
            if fresh:
                rows = session.execute(
                    sa.update(OutboxEvent)
                    .where(OutboxEvent.id.in_(fresh), *_claimable(at, None))
                    .values(locked_until=until, locked_by=token, attempts=OutboxEvent.attempts + 1)
                    .returning(
                        OutboxEvent.id,
                        OutboxEvent.aggregate_type,
                        OutboxEvent.aggregate_id,
                        OutboxEvent.event_type,
                        OutboxEvent.payload,
                        OutboxEvent.attempts,
                    )
                    .execution_options(synchronize_session=False)
                ).all()
                for row in sorted(rows, key=lambda r: order[r.id]):
                    claimed.append(
                        ClaimedEvent(
                            id=row.id,
                            aggregate_type=row.aggregate_type,
                            aggregate_id=row.aggregate_id,
                            event_type=row.event_type,
                            payload=row.payload,
                            attempts=row.attempts,
                            claim_token=token,
                            locked_until=until,
                        )
                    )
            if not exhausted:
                break  # everything due was taken; otherwise fill the places the exhausted ones used
    return claimed


def hold(
    session: Session,
    event_ids: Sequence[int],
    *,
    worker_id: str,
    lease_seconds: int | None = None,
    now: datetime | None = None,
) -> list[ClaimedEvent]:
    """Lease events the caller has just published, in the caller's transaction: it does their work itself.

    The events commit already held (attempts 1, leased for `outbox_lease_seconds`), so no other
    consumer claims them in the meantime. The caller then `complete_many`s them when its own push
    went through, or `fail`s them: the outbox is the retry path. If the caller dies before either,
    the lease runs out and the events are claimed as usual.
    """
    if not worker_id.strip():
        raise InvalidInput({"worker_id": "must not be empty"})
    ids = sorted(set(event_ids))
    if not ids:
        return []
    lease = get_settings().outbox_lease_seconds if lease_seconds is None else lease_seconds
    if lease < 1:
        raise InvalidInput({"lease_seconds": "must be at least 1"})
    token = f"{worker_id.strip()[:31]}:{uuid.uuid4().hex}"
    at = utcnow() if now is None else now
    until = at + timedelta(seconds=lease)
    session.flush()
    rows = session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), *_claimable(at, None))
        .values(locked_until=until, locked_by=token, attempts=OutboxEvent.attempts + 1)
        .returning(
            OutboxEvent.id,
            OutboxEvent.aggregate_type,
            OutboxEvent.aggregate_id,
            OutboxEvent.event_type,
            OutboxEvent.payload,
            OutboxEvent.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return [
        ClaimedEvent(
            id=row.id,
            aggregate_type=row.aggregate_type,
            aggregate_id=row.aggregate_id,
            event_type=row.event_type,
            payload=row.payload,
            attempts=row.attempts,
            claim_token=token,
            locked_until=until,
        )
        for row in sorted(rows, key=lambda r: r.id)
    ]


def complete(engine: sa.Engine, event_id: int, claim_token: str, *, now: datetime | None = None) -> bool:
    """Mark the event done if `claim_token` still holds it; False (and no change) if it does not."""
    with transaction(engine) as session:
        result = session.execute(
            sa.update(OutboxEvent)
            .where(
                OutboxEvent.id == event_id,
                OutboxEvent.locked_by == claim_token,
                OutboxEvent.status == "pending",
            )
            .values(status="done", processed_at=now or utcnow(), locked_until=None, locked_by=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1


def complete_many(engine: sa.Engine, events: Iterable[ClaimedEvent], *, now: datetime | None = None) -> set[int]:
    """`complete` for a batch in one transaction; returns the ids that were still held and are now done."""
    by_token: dict[str, list[int]] = {}
    for event in events:
        by_token.setdefault(event.claim_token, []).append(event.id)
    done: set[int] = set()
    if not by_token:
        return done
    with transaction(engine) as session:
        at = now or utcnow()
        for token, ids in by_token.items():
            rows = session.execute(
                sa.update(OutboxEvent)
                .where(OutboxEvent.id.in_(ids), OutboxEvent.locked_by == token, OutboxEvent.status == "pending")
                .values(status="done", processed_at=at, locked_until=None, locked_by=None)
                .returning(OutboxEvent.id)
                .execution_options(synchronize_session=False)
            ).scalars()
            done.update(rows)
    return done


def settle(engine: sa.Engine, held: Sequence[ClaimedEvent], error: str | None, *, now: datetime | None = None) -> None:
    """Complete held events whose work went through (`error` None), else `fail` each with `error` (retried later)."""
    if not held:
        return
    if error is None:
        complete_many(engine, held, now=now)
        return
    for event in held:
        fail(engine, event.id, event.claim_token, error, now=now)


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """Delay before the next attempt after `attempts` failed ones: exponential, with full jitter.

    Drawn uniformly from [MIN_BACKOFF_SECONDS, cap] where cap = min(outbox_backoff_max_seconds,
    outbox_backoff_base_seconds * 2 ** (attempts - 1)): with the defaults at most 2 s after the first
    failure, 4 s after the second, 8 s after the third and never more than 300 s. The jitter spreads
    retries of events that failed together (a platform outage) instead of sending them back at once;
    the floor keeps a retry from being immediate.
    """
    settings = get_settings()
    exponent = min(max(attempts, 1) - 1, 62)
    cap = min(settings.outbox_backoff_max_seconds, settings.outbox_backoff_base_seconds * 2.0**exponent)
    low = min(MIN_BACKOFF_SECONDS, cap)
    return (rng or random).uniform(low, cap)


def _truncate(error: str) -> str:
    if len(error) <= MAX_ERROR_CHARS:
        return error
    cut = len(error) - MAX_ERROR_CHARS
    return f"{error[:MAX_ERROR_CHARS]}... [{cut} more characters cut]"


def fail(
    engine: sa.Engine,
    event_id: int,
    claim_token: str,
    error: str,
    *,
    now: datetime | None = None,
) -> FailOutcome | None:
    """Record a failed attempt and release the lease; returns the event's new status.

    "pending" with `next_attempt_at` = now + `backoff_seconds(attempts)` while attempts remain,
    "failed" once `outbox_max_attempts` attempts were made (the event stays listed, with
    `last_error`, until `retry`). None if `claim_token` no longer holds the event: nothing changes.
    """
    with transaction(engine) as session:
        event = session.scalar(
            sa.select(OutboxEvent)
            .where(
                OutboxEvent.id == event_id,
                OutboxEvent.locked_by == claim_token,
                OutboxEvent.status == "pending",
            )
            .with_for_update()
        )
        if event is None:
            return None
        at = utcnow() if now is None else now
        event.last_error = _truncate(error)
        event.locked_until = None
        event.locked_by = None
        outcome: FailOutcome
        if event.attempts >= get_settings().outbox_max_attempts:
            event.status = outcome = "failed"
        else:
            event.status = outcome = "pending"
            event.next_attempt_at = at + timedelta(seconds=backoff_seconds(event.attempts))
        return outcome


# --- operators and the app ------------------------------------------------------------------


def _view(event: OutboxEvent) -> dict[str, Any]:
    return {
        "status": event.status,
        "attempts": event.attempts,
        "next_attempt_at": event.next_attempt_at,
        "last_error": event.last_error,
    }


@requires(Permission.SYNC_RUN)
def retry(actor: Actor | None, session: Session, event_id: int, *, now: datetime | None = None) -> OutboxEvent:
    """Re-queue a failed event now with a fresh attempt budget, and audit it ("outbox.retry")."""
    event = session.get(OutboxEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFoundError("outbox event {event_id} not found", event_id=event_id)
    if event.status != "failed":
        raise InvalidInput(
            {
                "status": msg(
                    "only failed events can be retried; event {event_id} is {status}",
                    event_id=event_id,
                    status=event.status,
                )
            }
        )
    before = _view(event)
    event.status = "pending"
    event.attempts = 0
    event.next_attempt_at = utcnow() if now is None else now
    event.locked_until = None
    event.locked_by = None
    event.processed_at = None
    session.flush()
    audit.record(session, actor, "outbox.retry", "outbox_event", event.id, before=before, after=_view(event))
    return event


def pending_count(session: Session, *, event_types: Sequence[str] | None = None) -> int:
    """Events not yet done or failed (claimed ones included)."""
    query = sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.status == "pending")
    if event_types is not None:
        query = query.where(OutboxEvent.event_type.in_(list(event_types)))
    return int(session.scalar(query) or 0)


def status_counts(session: Session) -> dict[str, int]:
    """Number of events per status, every status present (zero when none)."""
    rows = session.execute(sa.select(OutboxEvent.status, sa.func.count()).group_by(OutboxEvent.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def list_events(
    session: Session,
    *,
    status: str | None = None,
    event_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[OutboxEvent]:
    """Newest events first, optionally of one status and one event type."""
    if status is not None and status not in STATUSES:
        raise InvalidInput({"status": msg("must be one of {choices}", choices=", ".join(STATUSES))})
    if not 1 <= limit <= MAX_CLAIM_BATCH or offset < 0:
        raise InvalidInput({"limit": msg("limit must be 1 to {limit} and offset not negative", limit=MAX_CLAIM_BATCH)})
    query = sa.select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(limit).offset(offset)
    if status is not None:
        query = query.where(OutboxEvent.status == status)
    if event_type is not None:
        query = query.where(OutboxEvent.event_type == event_type)
    return session.scalars(query).all()


def _rowcount(result: sa.Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0))
