# Recent sync runs from the sync log, every change of each run counted in SQL (never a sample of the newest rows).
"""Recent runs.

`recent_runs` finds the newest runs among the last `scan` log rows (the primary key's order, cheap),
then counts ALL of those runs' changes grouped in SQL (`ix_sync_logs_run_id`), however many rows a
run wrote: a run of 100,000 changes shows 100,000, not the part of it that fitted in a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import PlatformConnection, SyncLog

RECENT_RUNS: Final = 20
SCAN_ROWS: Final = 5000


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    shops: tuple[str, ...]  # shop names (the platform when a shop has none or is gone)
    changes: int
    succeeded: int
    failed: int
    started_at: datetime
    finished_at: datetime


def recent_runs(session: Session, *, limit: int = RECENT_RUNS, scan: int = SCAN_ROWS) -> list[RunSummary]:
    """The `limit` runs with the newest changes, newest first, each with every one of its changes counted."""
    newest = (
        sa.select(SyncLog.id, SyncLog.run_id)
        .where(SyncLog.run_id.is_not(None))
        .order_by(SyncLog.id.desc())
        .limit(scan)
        .subquery()
    )
    run_ids = [
        run_id
        for run_id in session.scalars(
            sa.select(newest.c.run_id).group_by(newest.c.run_id).order_by(sa.func.max(newest.c.id).desc()).limit(limit)
        )
        if run_id is not None
    ]
    if not run_ids:
        return []
    finished = sa.func.max(sa.func.coalesce(SyncLog.synced_at, SyncLog.created_at))
    counted = session.execute(
        sa.select(
            SyncLog.run_id,
            sa.func.count(),
            sa.func.sum(sa.case((SyncLog.status == "success", 1), else_=0)),
            sa.func.sum(sa.case((SyncLog.status == "failed", 1), else_=0)),
            sa.func.min(SyncLog.created_at),
            finished.label("finished_at"),
        )
        .where(SyncLog.run_id.in_(run_ids))
        .group_by(SyncLog.run_id)
    ).all()
    shops: dict[str, set[str]] = {}
    for run_id, platform, name in session.execute(
        sa.select(SyncLog.run_id, SyncLog.platform, PlatformConnection.shop_name)
        .outerjoin(PlatformConnection, PlatformConnection.id == SyncLog.connection_id)
        .where(SyncLog.run_id.in_(run_ids))
        .distinct()
    ):
        shops.setdefault(str(run_id), set()).add(name or platform)
    runs = [
        RunSummary(
            run_id=str(run_id),
            shops=tuple(sorted(shops.get(str(run_id), ()))),
            changes=int(changes),
            succeeded=int(succeeded or 0),
            failed=int(failed or 0),
            started_at=started,
            finished_at=ended,
        )
        for run_id, changes, succeeded, failed, started, ended in counted
    ]
    return sorted(runs, key=lambda run: run.finished_at, reverse=True)
