# Low-stock alerts: a variant at or under its threshold opens a `low_stock` alert, notified once, resolved above it.
"""Low stock.

A variant is low when it is active, has a `low_stock_threshold`, and its available stock is at
or below it. Available is `stock - reserved` of the variant row (never below 0); a bundle's is what
its components make over every active location (`syncstore.inventory.availability.available_totals`),
its own row being ignored. Judging a component judges the bundles containing it too.

`evaluate(session_or_engine, variant_ids)` reads ONLY the variants named (None: every variant, the
daily sweep) and, per variant:

- low: opens the `low_stock` alert of subject `variant-<id>` (or refreshes it while open, with the
  current quantities); a newly opened alert is POSTed to the alert webhook
  (`SYNCSTORE_ALERT_WEBHOOK_URL`) ONCE, after its transaction commits, never again while it stays
  open (an order lowering the stock further does not notify);
- not low (stock back above the threshold, threshold removed, variant inactive or deleted): the
  open alert is resolved. It opens, and notifies, again when the variant crosses its threshold again.

The events worker calls it after every stock change it handles (`after_stock_change`), and the
daily digest job sweeps every variant before `digest` POSTs one summary of the open low-stock
alerts to the webhook. The digest is recorded once per UTC day as a resolved alert row of kind
`low_stock_digest` (subject the date, details the summary): a second run the same day posts nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncstore.db.engine import transaction
from syncstore.db.models import Alert, BundleComponent, ProductVariant
from syncstore.db.types import utcnow
from syncstore.inventory import availability
from syncstore.ops import alerts
from syncstore.settings import Settings

log = logging.getLogger(__name__)

KIND: Final = "low_stock"
DIGEST_KIND: Final = "low_stock_digest"
SUBJECT_PREFIX: Final = "variant-"
# Variants read per query (an IN list well under every database's parameter limit).
CHUNK: Final = 1000


def subject(variant_id: int) -> str:
    """The alert subject of a variant: `variant-<id>` (stable when the SKU is renamed)."""
    return f"{SUBJECT_PREFIX}{variant_id}"


def _variant_of(alert_subject: str) -> int | None:
    number = alert_subject.removeprefix(SUBJECT_PREFIX)
    return int(number) if number.isdigit() else None


@dataclass(frozen=True)
class Level:
    """One variant's quantities as the evaluation judges them."""

    variant_id: int
    sku: str
    available: int  # stock - reserved, at least 0
    threshold: int | None
    active: bool

    @property
    def is_low(self) -> bool:
        return self.active and self.threshold is not None and self.available <= self.threshold

    def message(self) -> str:
        return f"{self.sku}: {self.available} available, at or under its low-stock threshold of {self.threshold}"

    def details(self) -> dict[str, Any]:
        return {"variant_id": self.variant_id, "sku": self.sku, "available": self.available,
                "threshold": self.threshold}  # fmt: skip


@dataclass
class Evaluation:
    """What one evaluation did: SKUs whose alert opened now, was updated with new quantities, or was resolved."""

    opened: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    notified: int = 0


_AVAILABLE = sa.case(
    (ProductVariant.stock - ProductVariant.reserved > 0, ProductVariant.stock - ProductVariant.reserved), else_=0
)
_LEVEL_COLUMNS = (ProductVariant.id, ProductVariant.sku, _AVAILABLE, ProductVariant.low_stock_threshold,
                  ProductVariant.is_active)  # fmt: skip


def _with_bundles(session: Session, variant_ids: Sequence[int]) -> list[int]:
    """The variants and the bundles containing any of them (a component's change moves its bundles)."""
    found = set(variant_ids)
    for start in range(0, len(variant_ids), CHUNK):
        chunk = variant_ids[start : start + CHUNK]
        query = sa.select(BundleComponent.bundle_variant_id).where(BundleComponent.component_variant_id.in_(chunk))
        found.update(session.scalars(query))
    return sorted(found)


def _bundle_ids(session: Session, variant_ids: Sequence[int]) -> list[int]:
    """The bundles among the variants (every bundle read once when the variants are many: the sweep)."""
    if len(variant_ids) > CHUNK:
        every = session.scalars(sa.select(BundleComponent.bundle_variant_id).distinct())
        return sorted(set(every) & set(variant_ids))
    found: set[int] = set()
    for start in range(0, len(variant_ids), CHUNK):
        chunk = variant_ids[start : start + CHUNK]
        query = sa.select(BundleComponent.bundle_variant_id).where(BundleComponent.bundle_variant_id.in_(chunk))
        found.update(session.scalars(query))
    return sorted(found)


def _as_levels(session: Session, rows: Sequence[Any]) -> list[Level]:
    """Level per row; a bundle's available is the computed one, not its own row's."""
    levels = [Level(int(r[0]), r[1], int(r[2]), r[3], bool(r[4])) for r in rows]
    computed = availability.available_totals(session, _bundle_ids(session, [level.variant_id for level in levels]))
    return [
        Level(lv.variant_id, lv.sku, max(computed[lv.variant_id], 0), lv.threshold, lv.active)
        if lv.variant_id in computed else lv
        for lv in levels
    ]  # fmt: skip


def _levels(session: Session, variant_ids: Sequence[int] | None) -> list[Level]:
    if variant_ids is None:
        rows = list(session.execute(sa.select(*_LEVEL_COLUMNS)))
    else:
        rows = []
        for start in range(0, len(variant_ids), CHUNK):
            chunk = variant_ids[start : start + CHUNK]
            rows.extend(session.execute(sa.select(*_LEVEL_COLUMNS).where(ProductVariant.id.in_(chunk))))
    return _as_levels(session, rows)


def _open_alerts(session: Session, subjects: Sequence[str] | None) -> dict[str, Alert]:
    """Open low-stock alerts by subject (all of them when `subjects` is None)."""
    query = sa.select(Alert).where(Alert.kind == KIND, Alert.status == "open")
    if subjects is None:
        return {a.subject: a for a in session.scalars(query)}
    found: dict[str, Alert] = {}
    for start in range(0, len(subjects), CHUNK):
        chunk = subjects[start : start + CHUNK]
        found.update({a.subject: a for a in session.scalars(query.where(Alert.subject.in_(chunk)))})
    return found


def _judge(session: Session, variant_ids: Sequence[int] | None) -> tuple[Evaluation, list[Alert]]:
    """Open, refresh or resolve the alerts of these variants in `session`; the alerts opened now."""
    result, opened = Evaluation(), []
    if variant_ids is not None:
        variant_ids = _with_bundles(session, variant_ids)
    levels = _levels(session, variant_ids)
    subjects = None if variant_ids is None else [subject(v) for v in variant_ids]
    open_now = _open_alerts(session, subjects)
    for level in levels:
        key = subject(level.variant_id)
        if level.is_low:
            if key in open_now and open_now[key].details == level.details():
                continue  # open and unchanged: nothing to write
            alert, is_new = alerts.raise_alert(session, KIND, key, level.message(), details=level.details())
            (result.opened if is_new else result.refreshed).append(level.sku)
            if is_new:
                opened.append(alert)
        elif key in open_now:
            alerts.resolve_alert(session, KIND, key)
            result.resolved.append(level.sku)
    # An alert whose variant is gone (deleted) is over too.
    seen = {subject(level.variant_id) for level in levels}
    for key in sorted(set(open_now) - seen):
        alerts.resolve_alert(session, KIND, key)
        result.resolved.append(str(open_now[key].details.get("sku", key)))
    return result, opened


def evaluate(
    target: Session | sa.Engine, variant_ids: Iterable[int] | None, *, settings: Settings | None = None
) -> Evaluation:
    """Judge these variants (None: every variant) against their thresholds; see the module docstring.

    With an engine: one transaction, then the newly opened alerts are notified. With a session: the
    alerts are written in the caller's transaction and notified once it commits (never if it rolls back).
    """
    ids = None if variant_ids is None else sorted(set(variant_ids))
    if ids == []:
        return Evaluation()
    if isinstance(target, Session):
        result, opened = _judge(target, ids)
        if opened:
            engine = target.get_bind()
            assert isinstance(engine, sa.Engine)  # a session of this project is bound to one engine
            sa.event.listen(target, "after_commit", lambda _: alerts.notify(engine, opened, settings), once=True)
        return result
    with transaction(target) as session:
        result, opened = _judge(session, ids)
    result.notified = alerts.notify(target, opened, settings)
    return result


def after_stock_change(engine: sa.Engine, variant_ids: Iterable[int], *, settings: Settings | None = None) -> None:
    """`evaluate` for the worker after it moved or pushed stock: a database error is logged, never raised.

    The stock change is done by then; the daily sweep catches a variant this evaluation missed.
    """
    try:
        result = evaluate(engine, variant_ids, settings=settings)
    except SQLAlchemyError as error:
        log.warning("low-stock evaluation failed (%s); the daily sweep retries it", type(error).__name__)
        return
    if result.opened or result.resolved:
        log.info("low stock: opened %s, resolved %s", result.opened, result.resolved)


# --- reads for the app ---------------------------------------------------------------------


@dataclass(frozen=True)
class LowStockRow:
    """A variant low now or with an open low-stock alert: what the Inventory page and the alerts list show."""

    variant_id: int
    sku: str
    available: int
    threshold: int | None
    since: datetime | None  # when its open alert opened; None: low, the alert opens on its next evaluation


def overview(session: Session, *, limit: int = 200) -> list[LowStockRow]:
    """Variants at or under their threshold now, and those with an open low-stock alert, by SKU."""
    open_now = _open_alerts(session, None)
    since = {v: a.first_seen_at for key, a in open_now.items() if (v := _variant_of(key)) is not None}
    low_now = (
        ProductVariant.is_active
        & ProductVariant.low_stock_threshold.is_not(None)
        & (ProductVariant.stock - ProductVariant.reserved <= ProductVariant.low_stock_threshold)
    )
    is_bundle = ProductVariant.id.in_(sa.select(BundleComponent.bundle_variant_id))
    with_threshold = ProductVariant.is_active & ProductVariant.low_stock_threshold.is_not(None)
    # A bundle's own row says nothing: every bundle with a threshold is read and judged by what it makes.
    condition = sa.or_((low_now & ~is_bundle) | (with_threshold & is_bundle), ProductVariant.id.in_(sorted(since)))
    query = sa.select(*_LEVEL_COLUMNS).where(condition).order_by(ProductVariant.sku)
    levels = _as_levels(session, list(session.execute(query)))
    shown = [level for level in levels if level.is_low or level.variant_id in since][:limit]
    return [LowStockRow(lv.variant_id, lv.sku, lv.available, lv.threshold, since.get(lv.variant_id)) for lv in shown]


# --- the daily digest ----------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """One day's summary of the open low-stock alerts, and whether it reached the webhook."""

    day: str  # YYYY-MM-DD (UTC)
    variants: list[dict[str, Any]]
    posted: bool
    already_sent: bool = False

    @property
    def message(self) -> str:
        count = len(self.variants)
        return f"{count} variant{'s' if count != 1 else ''} at or under their low-stock threshold"


def _digest_rows(session: Session) -> list[dict[str, Any]]:
    return [
        {"sku": row.sku, "available": row.available, "threshold": row.threshold,
         "since": row.since.isoformat() if row.since else None}
        for row in overview(session, limit=10_000)
        if row.since is not None
    ]  # fmt: skip


def digest(engine: sa.Engine, *, settings: Settings | None = None, now: datetime | None = None) -> Digest:
    """POST one summary of the open low-stock alerts to the webhook (once per UTC day) and record it.

    Nothing is POSTed when no low-stock alert is open or no webhook is configured; the day is
    recorded either way, so a run repeated the same day sends nothing more.
    """
    day = (now or utcnow()).strftime("%Y-%m-%d")
    with transaction(engine) as session:
        rows = _digest_rows(session)
        done = session.scalar(sa.select(Alert).where(Alert.alert_key == f"{DIGEST_KIND}:{day}"))
        if done is not None:
            return Digest(day, list(done.details.get("variants", [])), done.notified_at is not None, already_sent=True)
    unsent = Digest(day, rows, posted=False)
    posted = (
        alerts.post_summary(DIGEST_KIND, day, unsent.message, {"variants": rows}, settings=settings) if rows else None
    )
    if posted is False:
        return unsent  # not recorded: the next run tries again
    result = Digest(day, rows, posted=bool(posted))
    _record(engine, result)
    return result


def _record(engine: sa.Engine, result: Digest) -> None:
    """The digest as a resolved alert row (kind `low_stock_digest`, subject the day): its record, once a day."""
    now = utcnow()
    with transaction(engine) as session:
        session.add(
            Alert(
                alert_key=f"{DIGEST_KIND}:{result.day}", kind=DIGEST_KIND, subject=result.day, severity="info",
                message=result.message, details={"variants": result.variants}, status="resolved",
                resolved_at=now, notified_at=now if result.posted else None,
            )
        )  # fmt: skip
