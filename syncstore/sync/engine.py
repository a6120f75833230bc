# The sync engine's front door: dry runs, syncing a shop, the stock fast path, retries and bulk syncs.
"""Sync.

- `dry_run`: what a sync would do to each shop, from the stored snapshot: every change with its
  payload and validation issues, conflicts, the API calls it would cost and whether it would succeed.
  No API call, no write.
- `sync_shop`: plan (`syncstore.plan.build` over `syncstore.plan.reconcile`), record new conflicts and close
  settled ones (`syncstore.plan.conflicts`), move lagging baselines where both sides already agree,
  adopt marketplace values a rule asks for, then apply the changes through the shop's connector
  (`syncstore.sync.apply` running each change's handler, `syncstore.plan.handlers`: batched, logged,
  idempotent, the baseline moved only on success). The
  caller pulls the snapshot first when it wants fresh remote values (`syncstore.sync.snapshot.pull`):
  a master change needs no pull.
- `push_stock` (`syncstore.sync.stock`): after orders, the stock of some variants to every shop
  listing them, through the rules (buffer, allocation, maximum). No pull, no other field.
- `retry_failed`, bulk syncs with progress (`sync_jobs`), the category map (`syncstore.publishing.mappings`),
  and the sync log reads (`syncstore.sync.logs`) the app shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.base import Connector, ConnectorError
from syncstore.db.engine import transaction
from syncstore.db.models import (
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    SyncJob,
    SyncLog,
)
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, NotFoundError, SyncStoreError, msg
from syncstore.events import outbox
from syncstore.plan import build, conflicts, store
from syncstore.plan import inputs as sync_inputs
from syncstore.plan.calls import estimate_calls
from syncstore.plan.changes import Adopt, PlannedChange
from syncstore.plan.inputs import Shop
from syncstore.publishing import logistics
from syncstore.publishing.mappings import (
    CategoryMappingView,
    delete_category_mapping,
    list_category_mappings,
    set_category_mapping,
)
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.sync import logs as sync_logs
from syncstore.sync import snapshot
from syncstore.sync.apply import ConnectorFactory, SyncReport, apply, log_entry
from syncstore.sync.logs import SyncLogView, failure_rate, list_sync_logs
from syncstore.sync.stock import push_stock

__all__ = [
    "BulkProgress",
    "CategoryMappingView",
    "ConnectorFactory",
    "PlannedSync",
    "ShopPlan",
    "SyncLogView",
    "SyncReport",
    "bulk_progress",
    "delete_category_mapping",
    "dry_run",
    "failure_rate",
    "list_category_mappings",
    "list_sync_logs",
    "push_stock",
    "retry_failed",
    "run_bulk_sync",
    "set_category_mapping",
    "start_bulk_sync",
    "sync_planned",
    "sync_shop",
]  # fmt: skip

BULK_CHUNK: Final = 50
# The sync log operation of a platform's audit result (`syncstore.sync.snapshot`): a refusal is a failed change.
REVIEW: Final = "review"
# A pending log row older than this, which the current plan does not contain, was left by a run that died.
STALE_PENDING: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class ShopPlan:
    connection_id: int
    platform: str
    shop_name: str
    shop_key: str
    changes: tuple[PlannedChange, ...]
    conflicts: int
    api_calls: int
    would_succeed: bool
    summary: dict[str, int]
    plan_id: int | None = None  # the stored plan shown (catalog_diff's, still current); None: planned now


# --- dry run --------------------------------------------------------------------------------


def dry_run(
    engine: sa.Engine, *, product_ids: Sequence[int] | None = None, connection_ids: Sequence[int] | None = None
) -> list[ShopPlan]:
    """One ShopPlan per connected shop (or per shop given); reads the stored snapshot only.

    A whole-shop dry run shows the shop's stored plan (the one `catalog_diff` computed and
    `listing_sync` applies) while it is current; otherwise, and for some products, it plans now.
    """
    inputs: sync_inputs.CatalogInputs | None = None
    plans = []
    for shop in sync_inputs.shops(engine, connection_ids):
        stored = store.current(engine, shop) if product_ids is None else None
        if stored is not None:
            planned = stored.planned
        else:
            inputs = inputs or sync_inputs.load_inputs(engine, product_ids=product_ids)
            planning = build.plan_shop(engine, shop, inputs)
            planned = store.Planned(shop, planning.changes, planning.conflicts, ({}, {}), planning.summary)
        changes = tuple(planned.changes)
        invalid = sum(1 for change in changes if not change.valid)
        summary = {
            **planned.summary,
            "changes": len(changes),
            "invalid": invalid,
            "conflicts": len(planned.conflicts),
        }
        plans.append(
            ShopPlan(
                connection_id=shop.connection_id, platform=shop.platform, shop_name=shop.shop_name,
                shop_key=shop.shop_key, changes=changes, conflicts=len(planned.conflicts),
                api_calls=estimate_calls(shop.platform, changes),
                would_succeed=invalid == 0 and shop.status == "connected", summary=summary,
                plan_id=planned.plan_id,
            )
        )  # fmt: skip
    return plans


# --- sync one shop --------------------------------------------------------------------------


def sync_shop(
    engine: sa.Engine,
    connection_id: int,
    connector: Connector,
    *,
    product_ids: Sequence[int] | None = None,
    run_id: str | None = None,
    resubmit_refused: bool = False,
) -> SyncReport:
    """Plan, record conflicts, adopt, apply: see the module docstring.

    `resubmit_refused` sends the content of listings the platform's audit refused again, for review
    (`retry_failed` of a refused audit, and a publish); otherwise a refused listing waits for a fix.

    A shop never read before is pulled in full first: planned against an empty snapshot, every
    listing it already has would look missing and be created a second time.
    """
    if _never_pulled(engine, connection_id):
        snapshot.pull(engine, connection_id, connector, full=True)
    logistics.ensure_fetched(engine, connection_id, connector)
    [shop] = sync_inputs.shops(engine, [connection_id])
    planned = store.plan_now(engine, shop, product_ids, resubmit_refused=resubmit_refused)
    return _apply_planned(engine, connector, planned, product_ids, run_id)


@dataclass(frozen=True)
class PlannedSync:
    """What `sync_planned` applied: the stored plan's id, and how it came to be."""

    report: SyncReport
    plan_id: int
    # stored: the plan catalog_diff stored, still current; refreshed: the products edited since were
    # planned again (`replanned`); planned: nothing current was stored, the whole shop was planned.
    source: str
    replanned: tuple[int, ...]


def sync_planned(
    engine: sa.Engine, connection_id: int, connector: Connector, *, run_id: str | None = None
) -> PlannedSync:
    """Apply the shop's stored plan while it is current, planning again only what changed since.

    The plan applied is stored (a refreshed or new one as a new plan) and marked applied by this
    run, so what was pushed is the plan one can read back (`store.latest`) and the sync logs of `run_id`.
    """
    if _never_pulled(engine, connection_id):
        snapshot.pull(engine, connection_id, connector, full=True)
    logistics.ensure_fetched(engine, connection_id, connector)
    [shop] = sync_inputs.shops(engine, [connection_id])
    planned, at = store.refresh(engine, shop)
    if planned.plan_id is not None and planned.replanned is None:
        plan_id, source = planned.plan_id, "stored"
    else:
        plan_id = store.save(engine, planned, at, run_id=run_id)
        source = "planned" if planned.plan_id is None else "refreshed"
    report = _apply_planned(engine, connector, planned, None, run_id)
    store.mark_applied(engine, plan_id, run_id)
    return PlannedSync(report, plan_id, source, planned.replanned or ())


def _apply_planned(
    engine: sa.Engine,
    connector: Connector,
    planned: store.Planned,
    product_ids: Sequence[int] | None,
    run_id: str | None,
) -> SyncReport:
    shop, connection_id = planned.shop, planned.shop.connection_id
    sku_baselines, listing_baselines = planned.baselines
    with transaction(engine) as session:
        conflicts.record(session, planned.conflicts)
        conflicts.close_settled(
            session, connection_id, [c.key for c in planned.conflicts],
            product_ids=list(product_ids) if product_ids is not None else None,
        )  # fmt: skip
        if product_ids is None:  # a whole-shop plan: pending rows of an interrupted run it no longer contains
            sync_logs.supersede_stale(
                session, connection_id, [c.idempotency_key for c in planned.changes], STALE_PENDING
            )
        for model, baselines in ((PlatformListingSku, sku_baselines), (PlatformListing, listing_baselines)):
            for row_id, values in baselines.items():
                row = session.get(model, row_id)
                for name, value in values.items() if row is not None else ():
                    setattr(row, f"base_{name}", value)
    adopts = [change for change in planned.changes if isinstance(change, Adopt)]
    if adopts:
        _adopt(engine, shop, adopts, run_id)
    outcome = apply(engine, shop, connector, planned.changes, run_id)
    return SyncReport(
        connection_id=connection_id, planned=len(planned.changes) - len(adopts), succeeded=outcome.succeeded,
        failed=outcome.failed, invalid=outcome.invalid, conflicts=len(planned.conflicts), adopted=len(adopts),
        api_calls=outcome.api_calls,
    )  # fmt: skip


def _never_pulled(engine: sa.Engine, connection_id: int) -> bool:
    with transaction(engine) as session:
        cursor = session.scalar(
            sa.select(PlatformConnection.snapshot_cursor).where(PlatformConnection.id == connection_id)
        )
    return cursor is None


def _adopt(engine: sa.Engine, shop: Shop, changes: Sequence[Adopt], run_id: str | None) -> None:
    """The Adopt handler: marketplace values into the platform override (final: rules leave it) and the baseline."""
    with transaction(engine) as session:
        ids = sync_logs.open_logs(session, [log_entry(shop, change) for change in changes], run_id)
        for change in changes:
            name, value = change.field, change.json_value()
            assert change.product_id is not None
            variant_id = change.variant_id if name == "price" else None
            override = session.scalar(
                sa.select(PlatformOverride).where(
                    PlatformOverride.product_id == change.product_id,
                    PlatformOverride.variant_id.is_(None)
                    if variant_id is None
                    else PlatformOverride.variant_id == variant_id,
                    PlatformOverride.platform == shop.platform,
                    PlatformOverride.field == name,
                )
            )
            if override is None:
                override = PlatformOverride(product_id=change.product_id, variant_id=variant_id,
                                            platform=shop.platform, field=name)  # fmt: skip
                session.add(override)
            override.value, override.from_platform, override.updated_by = value, True, "system:adopt"
            if name == "price" and change.listing_sku_id is not None:
                sku = session.get_one(PlatformListingSku, change.listing_sku_id)
                sku.base_price = sku.remote_price
            elif change.listing_id is not None:
                listing = session.get_one(PlatformListing, change.listing_id)
                setattr(listing, f"base_{name}", getattr(listing, f"remote_{name}"))
            sync_logs.finish_log(session, ids[change.idempotency_key], ok=True, response={"adopted": name})
            audit.record_system(session, "sync", "override.adopt", "product", change.product_id,
                                after={"platform": shop.platform, "field": name, "value": value,
                                       "variant_id": variant_id})  # fmt: skip


# --- retries --------------------------------------------------------------------------------


@requires(Permission.SYNC_RUN)
def retry_failed(
    actor: Actor | None, engine: sa.Engine, log_id: int, connectors: ConnectorFactory, *, force: bool = False
) -> SyncLogView:
    """Plan the log's product on its shop again and send what is still needed (the same change reuses its row).

    Refuses a log that is not `failed` unless `force`. When the change is no longer needed (in sync
    now, or replaced by a newer value) the failed row is marked `superseded`. A refused audit (`review`)
    is retried by sending the listing's content again for review (after the merchant fixed it).
    """
    with transaction(engine) as session:
        row = session.get(SyncLog, log_id)
        if row is None:
            raise NotFoundError("sync log {log_id} not found", log_id=log_id)
        if row.status != "failed" and not force:
            raise InvalidInput(
                {
                    "log": msg(
                        "log {log_id} is {status}; only failed changes are retried", log_id=log_id, status=row.status
                    )
                }
            )
        if row.connection_id is None or row.product_id is None:
            raise InvalidInput({"log": msg("log {log_id} names no shop or product any more", log_id=log_id)})
        connection_id, product_id, attempts = row.connection_id, row.product_id, row.attempts
        refused_review = row.operation == REVIEW
        audit.record(session, actor, "sync.retry", "sync_log", log_id, after={"force": force})
    run_id = f"retry-{log_id}-{uuid.uuid4().hex[:8]}"
    sync_shop(engine, connection_id, connectors(connection_id), product_ids=[product_id], run_id=run_id,
              resubmit_refused=refused_review)  # fmt: skip
    with transaction(engine) as session:
        row = session.get_one(SyncLog, log_id)
        if row.status == "failed" and row.attempts == attempts and row.operation == REVIEW:
            # A refused audit is not a change of its own: the plan sent the listing again (run_id's logs).
            resent = _run_succeeded(session, run_id, connection_id, product_id)
            row.status = "superseded"
            row.error_message = (f"sent again for review in run {run_id}" if resent
                                 else "nothing to send again: the listing is as the platform refused it")  # fmt: skip
        elif row.status == "failed" and row.attempts == attempts:
            row.status, row.error_message = "superseded", "no longer needed: in sync now, or a newer change replaced it"
        session.flush()
        view = sync_logs.get_log(session, log_id)
    assert view is not None
    return view


def _run_succeeded(session: Session, run_id: str, connection_id: int, product_id: int) -> bool:
    query = sa.select(sa.func.count()).where(
        SyncLog.run_id == run_id, SyncLog.connection_id == connection_id, SyncLog.product_id == product_id,
        SyncLog.status == "success",
    )  # fmt: skip
    return (session.scalar(query) or 0) > 0


# --- bulk sync ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkProgress:
    job_id: int
    status: str
    total: int
    done: int
    failed: int
    started_at: datetime | None
    finished_at: datetime | None
    run_id: str | None


def _progress(job: SyncJob) -> BulkProgress:
    return BulkProgress(
        job.id, job.status, job.total, job.done, job.failed, job.started_at, job.finished_at, job.run_id
    )


@requires(Permission.SYNC_RUN)
def start_bulk_sync(
    actor: Actor | None, session: Session, product_ids: Sequence[int], connection_ids: Sequence[int] | None = None
) -> int:
    """Queue a sync of these products (to these shops, or every connected one); the worker runs it."""
    products = sorted(set(product_ids))
    if not products:
        raise InvalidInput({"product_ids": "choose at least one product"})
    shop_query = sa.select(sa.func.count()).select_from(PlatformConnection)
    if connection_ids is None:
        shop_query = shop_query.where(PlatformConnection.status == "connected")
    else:
        shop_query = shop_query.where(PlatformConnection.id.in_(list(connection_ids)))
    shop_count = session.scalar(shop_query) or 0
    if shop_count == 0:
        raise InvalidInput({"connection_ids": "no connected shop to sync to"})
    job = SyncJob(status="queued", product_ids=products, total=len(products) * shop_count,
                  connection_ids=sorted(set(connection_ids)) if connection_ids is not None else None,
                  requested_by=actor.label if actor else "")  # fmt: skip
    session.add(job)
    session.flush()
    outbox.publish(session, aggregate_type="sync_job", aggregate_id=job.id, event_type="sync.bulk_requested",
                   payload={"job_id": job.id})  # fmt: skip
    audit.record(session, actor, "sync.bulk_request", "sync_job", job.id,
                 after={"products": len(products), "connection_ids": job.connection_ids})  # fmt: skip
    return job.id


def bulk_progress(session: Session, job_id: int) -> BulkProgress:
    job = session.get(SyncJob, job_id)
    if job is None:
        raise NotFoundError("sync job {job_id} not found", job_id=job_id)
    return _progress(job)


def run_bulk_sync(
    engine: sa.Engine, job_id: int, connectors: ConnectorFactory, *, run_id: str | None = None
) -> BulkProgress:
    """Run a queued job chunk by chunk, recording progress after each chunk; a finished job is left as is."""
    run_id = run_id or f"bulk-{job_id}-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as session:
        job = session.get(SyncJob, job_id, with_for_update=True)
        if job is None:
            raise NotFoundError("sync job {job_id} not found", job_id=job_id)
        if job.status == "done":
            return _progress(job)
        job.status, job.run_id, job.done, job.failed = "running", run_id, 0, 0
        job.started_at, job.finished_at, job.error_message = utcnow(), None, None
        product_ids, connection_ids = list(job.product_ids), job.connection_ids
    try:
        shop_list = sync_inputs.shops(engine, connection_ids)
        for start in range(0, len(product_ids), BULK_CHUNK):
            chunk = product_ids[start : start + BULK_CHUNK]
            done = failed = 0
            for shop in shop_list:
                failed += _bulk_chunk(engine, shop, chunk, connectors, run_id)
                done += len(chunk)
            with transaction(engine) as session:
                job = session.get_one(SyncJob, job_id)
                job.done, job.failed = job.done + done, job.failed + failed
    except Exception as error:
        with transaction(engine) as session:
            job = session.get_one(SyncJob, job_id)
            job.status, job.finished_at = "failed", utcnow()
            job.error_message = sync_logs.redact_message(f"{type(error).__name__}: {error}")
        raise
    with transaction(engine) as session:
        job = session.get_one(SyncJob, job_id)
        job.status, job.finished_at = "done", utcnow()
        return _progress(job)


def _bulk_chunk(engine: sa.Engine, shop: Shop, chunk: Sequence[int], connectors: ConnectorFactory, run_id: str) -> int:
    """Sync one chunk of products to one shop; returns how many of them had a failed change."""
    try:
        sync_shop(engine, shop.connection_id, connectors(shop.connection_id), product_ids=chunk, run_id=run_id)
    except (SyncStoreError, ConnectorError):
        return len(chunk)
    with transaction(engine) as session:
        failed = session.scalar(
            sa.select(sa.func.count(sa.distinct(SyncLog.product_id))).where(
                SyncLog.run_id == run_id, SyncLog.connection_id == shop.connection_id,
                SyncLog.status == "failed", SyncLog.product_id.in_(list(chunk)),
            )
        )  # fmt: skip
    return int(failed or 0)
