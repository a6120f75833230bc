# The asset checks and the alerts judge a shop alike: one window, one threshold, one comparison (syncstore.ops.alerts).
from __future__ import annotations

from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from assets.checks import api_quota_under_80_percent, sync_failure_rate_under_10_percent
from assets.resources import DatabaseResource
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, SyncLog
from syncstore.db.types import utcnow
from syncstore.ops import alerts
from syncstore.settings import Settings


def connect(engine: sa.Engine, *, used: int = 0) -> int:
    with transaction(engine) as session:
        row = PlatformConnection(platform="shopee", shop_id="100001", api_quota_used=used, api_quota_limit=10_000)
        session.add(row)
        session.flush()
        return row.id


def log(engine: sa.Engine, connection_id: int, *, ok: int = 0, failed: int = 0, age: timedelta = timedelta()) -> None:
    with transaction(engine) as session:
        for status in ["success"] * ok + ["failed"] * failed:
            session.add(
                SyncLog(
                    connection_id=connection_id, platform="shopee", operation="update_stock", status=status,
                    created_at=utcnow() - age,
                )
            )  # fmt: skip


def check_passes(check: dg.AssetChecksDefinition, engine: sa.Engine) -> bool:
    result = check(database=DatabaseResource(url=engine.url.render_as_string(hide_password=False)))
    assert isinstance(result, dg.AssetCheckResult)
    return result.passed


def alert_kinds(engine: sa.Engine) -> set[str]:
    alerts.evaluate(engine, Settings())
    with transaction(engine) as session:
        return {alert.kind for alert in alerts.open_alerts(session)}


def test_a_shop_exactly_at_the_threshold_and_an_old_failure_are_judged_alike(engine: sa.Engine) -> None:
    connection_id = connect(engine)
    log(engine, connection_id, ok=9, failed=1)  # exactly 10 % of the last hour's changes
    log(engine, connection_id, failed=20, age=timedelta(hours=2))  # outside the window
    assert check_passes(sync_failure_rate_under_10_percent, engine)
    assert "sync_failure_rate" not in alert_kinds(engine)

    log(engine, connection_id, failed=1)  # 2 of 11: over the threshold
    assert not check_passes(sync_failure_rate_under_10_percent, engine)
    assert "sync_failure_rate" in alert_kinds(engine)


def test_a_shop_at_80_percent_of_its_quota_is_over_for_both(engine: sa.Engine) -> None:
    connect(engine, used=8_000)
    assert not check_passes(api_quota_under_80_percent, engine)
    assert "quota" in alert_kinds(engine)


def test_the_measure_is_the_one_both_use() -> None:
    exactly = alerts.FailureRate(connection_id=1, failed=1, total=10)
    over = alerts.FailureRate(connection_id=1, failed=2, total=11)
    assert (exactly.failing, over.failing) == (False, True)
    assert alerts.quota_over(8_000, 10_000) and not alerts.quota_over(7_999, 10_000)
    assert not alerts.backlog_late(alerts.WEBHOOK_DELAY) and alerts.backlog_late(alerts.WEBHOOK_DELAY * 2)
