# Alerts: the seed design's operational alarms, kept where the app shows them and sent to a webhook if configured.
"""Alerts.

`evaluate` checks the conditions the design names and opens or resolves alerts accordingly:

- sync failure rate over 10 % (per shop, last hour, at least 10 changes sent);
- API quota at 80 % of the daily limit or more (per shop);
- webhook processing delay: an event still pending after 5 minutes.

The measures (`failure_rates`, `quota_over`, `backlog_late`) are the ones the Dagster asset checks
(`assets.checks`) call too, so a check and an alert never judge the same shop differently.

Callers report the others with `report_failure`: failed runs (`run_failed`, from the Dagster run
failure sensor) and database errors (`database_error`). An alert is one row per kind and subject,
updated while open and reopened when the condition returns. When `SYNCSTORE_ALERT_WEBHOOK_URL` is
set, opening an alert POSTs it there as JSON (once per opening). A database error that keeps the
alert from being recorded is still POSTed (it cannot be shown in the app then, but the hook hears it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncstore.db.engine import transaction
from syncstore.db.models import Alert, PlatformConnection, PlatformEvent, SyncLog
from syncstore.db.types import utcnow
from syncstore.settings import Settings, get_settings
from syncstore.shops.keys import ShopKey

log = logging.getLogger(__name__)

RUN_FAILED = "run_failed"
DATABASE_ERROR = "database_error"
FAILURE_RATE_THRESHOLD = 0.10
FAILURE_RATE_MIN_SAMPLES = 10
# The sync failure rate is measured over the changes logged in this window (finished ones: success or failed).
FAILURE_RATE_WINDOW: Final = timedelta(hours=1)
QUOTA_THRESHOLD = 0.80
WEBHOOK_DELAY = timedelta(minutes=5)
# The alerts `evaluate` opens and closes itself (the others are raised and resolved by their callers).
EVALUATED_KINDS = frozenset({"sync_failure_rate", "quota", "webhook_backlog"})


def raise_alert(
    session: Session, kind: str, subject: str, message: str, *, severity: str = "warning", details: dict[str, Any]
) -> tuple[Alert, bool]:
    """Open (or refresh) the alert of this kind and subject; returns it and whether it opened just now."""
    key = f"{kind}:{subject}"
    alert = session.scalar(sa.select(Alert).where(Alert.alert_key == key).with_for_update())
    now = utcnow()
    if alert is None:
        alert = Alert(alert_key=key, kind=kind, subject=subject, severity=severity, message=message, details=details)
        session.add(alert)
        session.flush()
        return alert, True
    opened = alert.status != "open"
    if opened:
        alert.status, alert.first_seen_at, alert.resolved_at, alert.notified_at = "open", now, None, None
    alert.message, alert.details, alert.severity, alert.last_seen_at = message, details, severity, now
    alert.occurrences += 1
    return alert, opened


def resolve_alert(session: Session, kind: str, subject: str) -> bool:
    """Close an open alert whose condition has cleared; True if one was open."""
    alert = session.scalar(sa.select(Alert).where(Alert.alert_key == f"{kind}:{subject}", Alert.status == "open"))
    if alert is None:
        return False
    alert.status, alert.resolved_at = "resolved", utcnow()
    return True


def open_alerts(session: Session) -> Sequence[Alert]:
    """Open alerts, most recent first (for the app)."""
    return session.scalars(sa.select(Alert).where(Alert.status == "open").order_by(Alert.last_seen_at.desc())).all()


# --- the measures (shared with the asset checks) ---------------------------------------------


@dataclass(frozen=True)
class FailureRate:
    """One shop's finished changes in the failure-rate window, and whether that is failing."""

    connection_id: int
    failed: int
    total: int  # success + failed

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0

    @property
    def failing(self) -> bool:
        """Over the threshold (strictly) with enough changes to say so."""
        return self.total >= FAILURE_RATE_MIN_SAMPLES and self.rate > FAILURE_RATE_THRESHOLD


def failure_rates(session: Session, *, now: datetime | None = None) -> dict[int, FailureRate]:
    """Connection id -> its sync failure rate over FAILURE_RATE_WINDOW (shops with no finished change are absent)."""
    since = (now or utcnow()) - FAILURE_RATE_WINDOW
    rows = session.execute(
        sa.select(
            SyncLog.connection_id,
            sa.func.count(),
            sa.func.sum(sa.case((SyncLog.status == "failed", 1), else_=0)),
        )
        .where(
            SyncLog.created_at >= since,
            SyncLog.connection_id.is_not(None),
            SyncLog.status.in_(("success", "failed")),
        )
        .group_by(SyncLog.connection_id)
    ).all()
    return {
        int(connection_id): FailureRate(int(connection_id), int(failed or 0), int(total))
        for connection_id, total, failed in rows
    }


def quota_share(used: int, limit: int | None) -> float:
    """The share of the daily API quota used (0 when no limit is known)."""
    return used / limit if limit else 0.0


def quota_over(used: int, limit: int | None) -> bool:
    """Whether a shop has used QUOTA_THRESHOLD (80 %) of its daily quota or more."""
    return quota_share(used, limit) >= QUOTA_THRESHOLD


def backlog_late(oldest_age: timedelta | None) -> bool:
    """Whether the oldest pending marketplace event has waited longer than WEBHOOK_DELAY."""
    return oldest_age is not None and oldest_age > WEBHOOK_DELAY


# --- the alerts `evaluate` opens and resolves ---------------------------------------------------


def _check_failure_rates(session: Session) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    results: list[tuple[str, str, str, dict[str, Any] | None]] = []
    for connection_id, measure in sorted(failure_rates(session).items()):
        rate, failed, total = measure.rate, measure.failed, measure.total
        details = {"failed": failed, "total": total, "rate": round(rate, 3)} if measure.failing else None
        message = f"{rate:.0%} of syncs failed in the last hour ({failed} of {total})"
        results.append(("sync_failure_rate", f"connection-{connection_id}", message, details))
    return results


def _check_quotas(session: Session) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    results: list[tuple[str, str, str, dict[str, Any] | None]] = []
    for connection in session.scalars(sa.select(PlatformConnection).where(PlatformConnection.status == "connected")):
        limit = connection.api_quota_limit or 0
        share = quota_share(connection.api_quota_used, limit)
        over = quota_over(connection.api_quota_used, limit)
        details = {"used": connection.api_quota_used, "limit": limit} if over else None
        shop = str(ShopKey(connection.platform, connection.shop_id))
        message = f"{shop} used {share:.0%} of its daily API quota"
        results.append(("quota", shop, message, details))
    return results


def _check_webhook_backlog(session: Session) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    oldest = session.scalar(sa.select(sa.func.min(PlatformEvent.created_at)).where(PlatformEvent.status == "pending"))
    late = backlog_late(utcnow() - oldest if oldest is not None else None)
    delay = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    message = f"the oldest marketplace event has waited {delay / 60:.0f} minutes to be processed"
    return [("webhook_backlog", "all", message, {"oldest_pending_s": round(delay)} if late else None)]


def evaluate(engine: sa.Engine, settings: Settings | None = None) -> list[Alert]:
    """Check every condition; open, refresh or resolve alerts; notify newly opened ones."""
    opened: list[Alert] = []
    with transaction(engine) as session:
        checks = [*_check_failure_rates(session), *_check_quotas(session), *_check_webhook_backlog(session)]
        # A shop that went quiet or was disconnected is no longer checked: its open alert is over too.
        checked = {(kind, subject) for kind, subject, _, _ in checks}
        for alert in open_alerts(session):
            if alert.kind in EVALUATED_KINDS and (alert.kind, alert.subject) not in checked:
                resolve_alert(session, alert.kind, alert.subject)
        for kind, subject, message, details in checks:
            if details is None:
                resolve_alert(session, kind, subject)
                continue
            alert, is_new = raise_alert(session, kind, subject, message, details=details)
            if is_new:
                opened.append(alert)
    notify(engine, opened, settings)
    return opened


def notify(engine: sa.Engine, alerts: Sequence[Alert], settings: Settings | None = None) -> int:
    """POST each alert to the configured webhook (never raises: an unreachable hook is logged)."""
    url = (settings or get_settings()).alert_webhook_url
    if not url or not alerts:
        return 0
    sent: list[int] = []
    with httpx.Client(timeout=5.0) as client:
        for alert in alerts:
            body = {"kind": alert.kind, "subject": alert.subject, "severity": alert.severity,
                    "message": alert.message, "details": alert.details}  # fmt: skip
            try:
                client.post(url, json=body).raise_for_status()
                sent.append(alert.id)
            except httpx.HTTPError as error:
                log.warning("alert webhook failed for %s: %s", alert.alert_key, type(error).__name__)
    if sent:
        with transaction(engine) as session:
            session.execute(sa.update(Alert).where(Alert.id.in_(sent)).values(notified_at=utcnow()))
    return len(sent)


def post_summary(
    kind: str, subject: str, message: str, details: dict[str, Any], *, settings: Settings | None = None
) -> bool | None:
    """POST one summary that is not an alert (e.g. the daily low-stock digest) to the alert webhook.

    True when the hook took it, False when it failed (logged, never raised), None when no hook is configured.
    """
    url = (settings or get_settings()).alert_webhook_url
    if not url:
        return None
    body = {"kind": kind, "subject": subject, "severity": "info", "message": message, "details": details}
    try:
        with httpx.Client(timeout=10.0) as client:
            client.post(url, json=body).raise_for_status()
    except httpx.HTTPError as error:
        log.warning("alert webhook failed for the %s of %s: %s", kind, subject, type(error).__name__)
        return False
    return True


def is_database_error(error: BaseException | None, text: str = "") -> bool:
    """Whether an error (or an error's class name in `text`, e.g. from a failed run) is the database failing."""
    if isinstance(error, SQLAlchemyError):
        return True
    return any(name in text for name in ("OperationalError", "DatabaseError", "InterfaceError", "DBAPIError"))


def report_failure(
    engine: sa.Engine,
    kind: str,
    subject: str,
    message: str,
    *,
    details: dict[str, Any],
    severity: str = "critical",
    settings: Settings | None = None,
) -> bool:
    """Open (or refresh) an alert for a failure and notify it if it opened now; True when it opened.

    When the database cannot record it, the alert is POSTed to the webhook anyway (unrecorded).
    """
    try:
        with transaction(engine) as session:
            alert, opened = raise_alert(session, kind, subject, message, severity=severity, details=details)
    except SQLAlchemyError as error:
        log.warning("could not record the %s alert for %s (%s)", kind, subject, type(error).__name__)
        _post_unrecorded(kind, subject, severity, message, details, settings)
        return False
    if opened:
        notify(engine, [alert], settings)
    return opened


def _post_unrecorded(
    kind: str, subject: str, severity: str, message: str, details: dict[str, Any], settings: Settings | None
) -> None:
    url = (settings or get_settings()).alert_webhook_url
    if not url:
        return
    body = {"kind": kind, "subject": subject, "severity": severity, "message": message, "details": details,
            "recorded": False}  # fmt: skip
    try:
        with httpx.Client(timeout=5.0) as client:
            client.post(url, json=body).raise_for_status()
    except httpx.HTTPError as error:
        log.warning("alert webhook failed for %s:%s: %s", kind, subject, type(error).__name__)
