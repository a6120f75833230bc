# Audit rows for the API's reads: one per request, buffered in the process and written in batches.
"""Read audit.

Every API request is audited: a write by the core function it calls (in its own transaction, as
the app's actions), a read here. A read must not become a write on the request's path (64
clients paging products would then queue on the audit table), so `ReadAudit.add` only appends to
an in-process buffer; a background thread writes what was buffered as `api.read` audit rows (the
columns `audit.record` fills, as one multi-row INSERT: no ORM object per read), each with its
request's own time, in one transaction every `interval_s` (or at once when `batch` are waiting),
and at shutdown; it ends when it finds nothing to write and the next read
starts it again. Should the database refuse, the rows stay buffered for the next try (at most
`limit`; beyond it the oldest are dropped and the loss is logged).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog
from syncstore.db.types import utcnow
from syncstore.security.auth import Actor

logger = logging.getLogger(__name__)

ACTION = "api.read"


@dataclass(frozen=True)
class Read:
    actor: Actor
    path: str
    query: str
    at: datetime


class ReadAudit:
    """The buffer of one API process and the thread that writes it."""

    def __init__(self, engine: sa.Engine, *, interval_s: float = 1.0, batch: int = 1000, limit: int = 100_000) -> None:
        self.engine, self.interval_s, self.batch = engine, interval_s, batch
        self._reads: deque[Read] = deque(maxlen=limit)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    def add(self, actor: Actor, path: str, query: str) -> None:
        """Remember one read (no I/O; the writer thread starts with the first read)."""
        if len(self._reads) == self._reads.maxlen:
            logger.warning("API read audit: buffer full; the oldest buffered read is dropped")
        self._reads.append(Read(actor, path, query[:1000], utcnow()))
        self._start()
        if len(self._reads) >= self.batch:
            self._wake.set()

    def _start(self) -> None:
        with self._started:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="api-read-audit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Write every `interval_s` while reads come; end when a pass finds nothing (the next read restarts it)."""
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            self.flush()
            with self._started:
                if not self._reads:
                    self._thread = None
                    return

    def flush(self) -> int:
        """Write every buffered read as an audit row, in one transaction; how many were written."""
        with self._flushing:
            taken = [self._reads.popleft() for _ in range(len(self._reads))]
            if not taken:
                return 0
            try:
                rows = [
                    {"actor_id": read.actor.user_id, "actor_label": read.actor.label, "action": ACTION,
                     "entity_type": "api", "entity_id": None, "before": None,
                     "after": {"path": read.path, "query": read.query}, "created_at": read.at}
                    for read in taken
                ]  # fmt: skip
                with transaction(self.engine) as session:  # one multi-row INSERT, no ORM object per read
                    session.connection().execute(sa.insert(AuditLog), rows)
            except sa.exc.SQLAlchemyError as error:
                logger.warning("API read audit: %d rows not written yet (%s)", len(taken), type(error).__name__)
                self._reads.extendleft(reversed(taken))
                return 0
            return len(taken)

    def close(self) -> None:
        """Stop the writer thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()
