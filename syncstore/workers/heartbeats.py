# Worker heartbeats: the events worker says it is alive, so Dagster's queue sensors know when to stand in for it.
"""Heartbeats of long-running workers (one row per worker process in `worker_heartbeats`).

The events worker (`syncstore worker events`, `dispatch.serve_events`) is the one consumer of both
work queues (marketplace events and the outbox). It calls `beat` every
`worker_heartbeat_seconds` and `forget` when it stops. Dagster's outbox and events sensors call
`fresh_heartbeat`: while a heartbeat is younger than `STALE_FACTOR` x the interval they start no
run; when none is (no worker, or a worker that died or hangs), they are the fallback consumer.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import WorkerHeartbeat
from syncstore.db.types import utcnow
from syncstore.settings import get_settings

EVENTS: Final = "events"
# A heartbeat older than this many intervals is stale: its worker is taken for dead.
STALE_FACTOR: Final = 3.0


@dataclass(frozen=True)
class Heartbeat:
    """A worker's last sign of life, and how old it was when read."""

    worker_id: str
    kind: str
    host: str
    pid: int
    last_seen_at: datetime
    age_s: float


def worker_id(kind: str = EVENTS) -> str:
    """An id for this process: `<kind>:<host>:<pid>` (at most 100 characters)."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"[:100]


def beat(engine: sa.Engine, worker: str, *, kind: str = EVENTS, now: datetime | None = None) -> None:
    """Record that `worker` is alive now (the row is created on its first beat)."""
    at = now or utcnow()
    with transaction(engine) as session:
        row = session.get(WorkerHeartbeat, worker, with_for_update=True)
        if row is None:
            session.add(
                WorkerHeartbeat(
                    worker_id=worker,
                    kind=kind,
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    started_at=at,
                    last_seen_at=at,
                )
            )
        else:
            row.last_seen_at = at


def forget(engine: sa.Engine, worker: str) -> None:
    """Remove a stopping worker's row: the sensors take over at once instead of after the stale delay."""
    with transaction(engine) as session:
        session.execute(sa.delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker))


def stale_after_s(interval_s: float | None = None) -> float:
    """Age past which a heartbeat no longer counts (3 x `worker_heartbeat_seconds` by default)."""
    return STALE_FACTOR * (get_settings().worker_heartbeat_seconds if interval_s is None else interval_s)


def fresh_heartbeat(
    engine: sa.Engine, *, kind: str = EVENTS, within_s: float | None = None, now: datetime | None = None
) -> Heartbeat | None:
    """The most recent heartbeat of a `kind` worker younger than `within_s` (default `stale_after_s()`), or None."""
    at = now or utcnow()
    window = stale_after_s() if within_s is None else within_s
    with transaction(engine) as session:
        row = session.scalars(
            sa.select(WorkerHeartbeat)
            .where(WorkerHeartbeat.kind == kind, WorkerHeartbeat.last_seen_at >= at - timedelta(seconds=window))
            .order_by(WorkerHeartbeat.last_seen_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return Heartbeat(
            worker_id=row.worker_id, kind=row.kind, host=row.host, pid=row.pid, last_seen_at=row.last_seen_at,
            age_s=max((at - row.last_seen_at).total_seconds(), 0.0),
        )  # fmt: skip
