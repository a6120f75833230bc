# Asset checks: the seed design's operational thresholds, shown next to the assets they concern.
"""Asset checks.

Each check looks at every connected shop (a check result is not per partition: partitioned checks
are still a preview feature of Dagster) and fails when any shop crosses its threshold, naming it:
sync failure rate at most 10 % over the last hour (`listing_sync`), no conflict pending for more
than a day (`catalog_diff`), API quota use under 80 % (`shop_snapshot`). Marketplace events must
wait at most 5 minutes (`master_catalog`, which order events move). The failure rate, quota and
backlog are judged by the same functions of `syncstore.ops.alerts` the alerts use (window, threshold
and comparison), so a check fails exactly when the alert opens.
"""

from datetime import timedelta
from typing import Final

import dagster as dg
import sqlalchemy as sa

from assets.catalog import master_catalog
from assets.resources import DatabaseResource
from assets.shops import catalog_diff, listing_sync, shop_snapshot
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from syncstore.db.types import utcnow
from syncstore.events import platform_events
from syncstore.ops import alerts
from syncstore.plan import conflicts
from syncstore.shops import connections
from syncstore.shops.keys import ShopKey

CONFLICT_MAX_AGE: Final = timedelta(days=1)


def _connected(engine: sa.Engine) -> list[PlatformConnection]:
    with transaction(engine) as session:
        return [row for row in connections.list_connections(session) if row.status == "connected"]


def _shop(row: PlatformConnection) -> str:
    return str(ShopKey(row.platform, row.shop_id))


def _table(header: str, rows: list[tuple[str, str]]) -> dg.MetadataValue:
    lines = [f"| shop | {header} |", "|---|---|", *(f"| {shop} | {value} |" for shop, value in rows)]
    return dg.MetadataValue.md("\n".join(lines) if rows else "no connected shop")


@dg.asset_check(asset=listing_sync, blocking=False)
def sync_failure_rate_under_10_percent(database: DatabaseResource) -> dg.AssetCheckResult:
    """Per shop, the share of the last hour's changes that failed (`alerts.failure_rates`): 10 % at most."""
    engine = database.get_engine()
    with transaction(engine) as session:
        measured = alerts.failure_rates(session)
    rates = [(_shop(row), measured.get(row.id)) for row in _connected(engine)]
    failing = [shop for shop, measure in rates if measure is not None and measure.failing]
    return dg.AssetCheckResult(
        passed=not failing,
        description=f"over 10 %: {', '.join(failing)}" if failing else None,
        metadata={
            "shops_failing": len(failing),
            "failure_rates": _table(
                "failed, last hour", [(s, "-" if m is None else f"{m.rate:.1%} of {m.total}") for s, m in rates]
            ),
        },
    )


@dg.asset_check(asset=catalog_diff, blocking=False)
def no_conflict_pending_over_a_day(database: DatabaseResource) -> dg.AssetCheckResult:
    """Conflicts waiting for a person: none may be older than a day."""
    engine = database.get_engine()
    now = utcnow()
    oldest: list[tuple[str, float, int]] = []
    with transaction(engine) as session:
        for row in _connected(engine):
            pending = conflicts.list_conflicts(session, connection_id=row.id, limit=1000)
            if pending:
                age_h = (now - pending[0].detected_at).total_seconds() / 3600
                oldest.append((_shop(row), age_h, len(pending)))
    late = [shop for shop, age_h, _ in oldest if age_h > CONFLICT_MAX_AGE.total_seconds() / 3600]
    return dg.AssetCheckResult(
        passed=not late,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"conflicts older than a day in {', '.join(late)}" if late else None,
        metadata={
            "pending_conflicts": sum(count for _, _, count in oldest),
            "oldest_per_shop": _table("oldest pending (hours), count", [(s, f"{a:.1f}, {c}") for s, a, c in oldest]),
        },
    )


@dg.asset_check(asset=shop_snapshot, blocking=False)
def api_quota_under_80_percent(database: DatabaseResource) -> dg.AssetCheckResult:
    """Per shop, the API calls made today against the daily quota: under 80 %."""
    rows = _connected(database.get_engine())
    shares = [(_shop(row), alerts.quota_share(row.api_quota_used, row.api_quota_limit)) for row in rows]
    over = [_shop(row) for row in rows if alerts.quota_over(row.api_quota_used, row.api_quota_limit)]
    return dg.AssetCheckResult(
        passed=not over,
        description=f"80 % or more of the daily quota used: {', '.join(over)}" if over else None,
        metadata={
            "shops_over": len(over),
            "quota_used": _table("share of daily quota", [(s, f"{q:.0%}") for s, q in shares]),
        },
    )


@dg.asset_check(asset=master_catalog, blocking=False)
def webhook_backlog_under_5_minutes(database: DatabaseResource) -> dg.AssetCheckResult:
    """Marketplace events (orders, product edits) still waiting: the oldest must be younger than 5 minutes."""
    with transaction(database.get_engine()) as session:
        backlog = platform_events.backlog(session)
    age = backlog.oldest_age()
    return dg.AssetCheckResult(
        passed=not alerts.backlog_late(age),
        metadata={"pending": backlog.pending, "oldest_age_s": 0.0 if age is None else round(age.total_seconds(), 1)},
    )


CHECKS: Final = [
    sync_failure_rate_under_10_percent,
    no_conflict_pending_over_a_day,
    api_quota_under_80_percent,
    webhook_backlog_under_5_minutes,
]
