# Alerts open when a condition is met, refresh while it lasts, resolve when it clears, and reach the webhook once.
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.simulator.common import free_port
from syncstore.db.engine import transaction
from syncstore.db.models import Alert, PlatformConnection, PlatformEvent, SyncLog, WebhookLog
from syncstore.db.types import utcnow
from syncstore.ops import alerts
from syncstore.settings import Settings


def shop(engine: sa.Engine, *, used: int = 0) -> int:
    with transaction(engine) as session:
        connection = PlatformConnection(
            platform="shopee", shop_id="100001", api_quota_used=used, api_quota_limit=10_000
        )
        session.add(connection)
        session.flush()
        return connection.id


def sync_logs(engine: sa.Engine, connection_id: int, *, ok: int, failed: int) -> None:
    with transaction(engine) as session:
        for status in ["success"] * ok + ["failed"] * failed:
            session.add(
                SyncLog(connection_id=connection_id, platform="shopee", operation="update_stock", status=status)
            )


def test_a_high_sync_failure_rate_opens_once_and_resolves(engine: sa.Engine, hook: tuple[str, list[Any]]) -> None:
    url, received = hook
    settings = Settings(alert_webhook_url=url)
    connection_id = shop(engine)
    sync_logs(engine, connection_id, ok=8, failed=2)
    [opened] = alerts.evaluate(engine, settings)
    assert opened.kind == "sync_failure_rate" and "20%" in opened.message
    assert alerts.evaluate(engine, settings) == []  # still open: refreshed, not re-sent
    assert len(received) == 1 and received[0]["kind"] == "sync_failure_rate"
    sync_logs(engine, connection_id, ok=30, failed=0)
    alerts.evaluate(engine, settings)
    with transaction(engine) as session:
        assert alerts.open_alerts(session) == []
        alert = session.scalars(sa.select(Alert)).one()
        assert alert.status == "resolved" and alert.occurrences == 2 and alert.notified_at is not None


def test_few_samples_do_not_alarm(engine: sa.Engine) -> None:
    sync_logs(engine, shop(engine), ok=1, failed=2)
    assert alerts.evaluate(engine, Settings()) == []


def test_quota_over_80_percent(engine: sa.Engine) -> None:
    shop(engine, used=8_001)
    [opened] = alerts.evaluate(engine, Settings())
    assert opened.kind == "quota" and opened.subject == "shopee-100001" and opened.details["used"] == 8_001


def test_the_alert_of_a_shop_no_longer_checked_is_resolved(engine: sa.Engine) -> None:
    connection_id = shop(engine, used=8_001)
    sync_logs(engine, connection_id, ok=8, failed=2)
    assert {alert.kind for alert in alerts.evaluate(engine, Settings())} == {"quota", "sync_failure_rate"}
    # The shop is disconnected and its logs age past the hour: nothing checks it any more.
    with transaction(engine) as session:
        session.get(PlatformConnection, connection_id).status = "disconnected"  # type: ignore[union-attr]
        session.execute(sa.update(SyncLog).values(created_at=utcnow() - timedelta(hours=2)))
    alerts.evaluate(engine, Settings())
    with transaction(engine) as session:
        assert alerts.open_alerts(session) == []


def test_an_event_pending_for_over_5_minutes_is_a_backlog(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        raw = WebhookLog(platform="shopee", event_id="e1", event_type="3", raw_body="{}")
        session.add(raw)
        session.flush()
        session.add(
            PlatformEvent(
                webhook_log_id=raw.id, platform="shopee", kind="order_status", event_type="3",
                created_at=utcnow() - timedelta(minutes=6),
            )
        )  # fmt: skip
    [opened] = alerts.evaluate(engine, Settings())
    assert opened.kind == "webhook_backlog" and opened.details["oldest_pending_s"] >= 360


def test_an_unreachable_hook_is_logged_not_raised(engine: sa.Engine, caplog: pytest.LogCaptureFixture) -> None:
    shop(engine, used=9_999)
    opened = alerts.evaluate(engine, Settings(alert_webhook_url=f"http://127.0.0.1:{free_port()}/hook"))
    assert len(opened) == 1 and "alert webhook failed" in caplog.text


def test_a_failure_report_opens_once_and_notifies_once(engine: sa.Engine, hook: tuple[str, list[Any]]) -> None:
    url, received = hook
    settings = Settings(alert_webhook_url=url)
    details = {"run_id": "r1", "job": "push_changes"}
    first = alerts.report_failure(engine, alerts.RUN_FAILED, "push_changes", "run r1 failed", details=details,
                                  settings=settings)  # fmt: skip
    again = alerts.report_failure(engine, alerts.RUN_FAILED, "push_changes", "run r2 failed", details=details,
                                  settings=settings)  # fmt: skip
    assert (first, again) == (True, False)
    assert [(body["kind"], body["subject"], body["severity"]) for body in received] == [
        ("run_failed", "push_changes", "critical")
    ]
    with transaction(engine) as session:
        [alert] = session.scalars(sa.select(Alert)).all()
    assert alert.occurrences == 2 and alert.message == "run r2 failed" and alert.notified_at is not None


def test_a_database_error_still_reaches_the_hook_when_it_cannot_be_recorded(hook: tuple[str, list[Any]]) -> None:
    url, received = hook
    unreachable = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    opened = alerts.report_failure(
        unreachable, alerts.DATABASE_ERROR, "events-worker", "the database did not answer",
        details={"error": "OperationalError"}, settings=Settings(alert_webhook_url=url),
    )  # fmt: skip
    assert opened is False
    assert [(body["kind"], body["recorded"]) for body in received] == [("database_error", False)]
    assert alerts.is_database_error(None, "sqlalchemy.exc.OperationalError: connection refused")
    assert not alerts.is_database_error(RuntimeError("the platform is on fire"))
