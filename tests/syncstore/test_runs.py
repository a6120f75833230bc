# Recent runs count every change of a run in SQL, however many log rows it wrote, newest run first.
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import SyncLog
from syncstore.db.types import utcnow
from syncstore.sync import runs


def _log(run_id: str, status: str, minutes_ago: float) -> dict[str, object]:
    at = utcnow() - timedelta(minutes=minutes_ago)
    return {"platform": "shopee", "operation": "update_price", "status": status, "run_id": run_id,
            "created_at": at, "synced_at": at}  # fmt: skip


def test_every_change_of_a_big_run_is_counted_and_runs_come_newest_first(engine: sa.Engine) -> None:
    rows = [_log("big", "success" if i % 10 else "failed", 30 - i / 100) for i in range(1200)]
    rows += [_log("small", "success", 5), _log("small", "pending", 4)]
    rows.append({**_log("x", "success", 50), "run_id": None})  # not part of any run
    with transaction(engine) as session:
        session.execute(sa.insert(SyncLog), rows)
    with transaction(engine) as session:
        found = runs.recent_runs(session, scan=100)  # 100 rows find the runs; all 1,200 are counted
    assert [(r.run_id, r.changes, r.succeeded, r.failed) for r in found] == [
        ("small", 2, 1, 0),
        ("big", 1200, 1080, 120),
    ]
    assert found[1].started_at < found[1].finished_at < found[0].started_at
    assert found[0].shops == ("shopee",)  # no shop row: the platform stands in


def test_no_run_yet(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        assert runs.recent_runs(session) == []
