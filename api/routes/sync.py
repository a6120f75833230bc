# /v1/sync: dry runs, starting a (bulk) sync and following it, sync logs, retrying a failed change.
"""Sync, through `syncstore.sync.engine` (the dry run reads only stored data; starting a sync queues a job
the events worker runs; a retry calls the marketplace, rate limited like every other call)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api import idempotency, pagination
from api.deps import Caller, caller, engine, writer
from api.ids import MAX_ID, Id
from api.problems import responses
from api.schemas import ChangeOut, DryRunIn, DryRunOut, IssueOut, JobOut, ShopPlanOut, SyncLogOut, SyncStartIn
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection, SyncLog
from syncstore.errors import NotFoundError
from syncstore.security.auth import Permission
from syncstore.shops import marketplaces
from syncstore.sync import engine as sync
from syncstore.sync import logs as sync_logs

router = APIRouter(tags=["sync"], responses=responses(401, 429))
RUN = Depends(writer(Permission.SYNC_RUN))
MAX_CHANGES_SHOWN = 500


def _plan(plan: sync.ShopPlan) -> ShopPlanOut:
    changes = [
        ChangeOut(operation=c.operation, product_id=c.product_id, variant_id=c.variant_id, sku=c.sku,
                  remote_item_id=c.remote_item_id, valid=c.valid,
                  issues=[IssueOut(field=i.field, message=i.message) for i in c.issues], request=c.request())
        for c in plan.changes[:MAX_CHANGES_SHOWN]
    ]  # fmt: skip
    return ShopPlanOut(connection_id=plan.connection_id, platform=plan.platform, shop_name=plan.shop_name,
                       shop_key=plan.shop_key, conflicts=plan.conflicts, api_calls=plan.api_calls,
                       would_succeed=plan.would_succeed, summary=plan.summary, changes=changes)  # fmt: skip


def _checked_ids(values: list[int] | None, name: str) -> list[int] | None:
    if values is not None and any(v < 1 or v > MAX_ID for v in values):
        from api.problems import ApiProblem

        raise ApiProblem(422, f"{name}: ids are between 1 and {MAX_ID}", kind="invalid-input")
    return values


@router.post("/sync/dry-run", response_model=DryRunOut, responses=responses(404, 422))
def dry_run(request: Request, body: DryRunIn, who: Caller = Depends(caller)) -> DryRunOut:
    """What a sync would do to each shop (or the shops given), for the products given or all: no call, no write."""
    plans = sync.dry_run(engine(request), product_ids=_checked_ids(body.product_ids, "product_ids"),
                         connection_ids=_checked_ids(body.connection_ids, "connection_ids"))  # fmt: skip
    return DryRunOut(shops=[_plan(p) for p in plans])


def _job(session: Session, job_id: int) -> JobOut:
    progress = sync.bulk_progress(session, job_id)
    return JobOut(job_id=progress.job_id, status=progress.status, total=progress.total, done=progress.done,
                  failed=progress.failed, started_at=progress.started_at, finished_at=progress.finished_at)  # fmt: skip


@router.post("/sync/jobs", status_code=202, response_model=JobOut, responses=responses(403, 404, 422))
def start_sync(
    request: Request,
    body: SyncStartIn,
    who: Caller = RUN,
    idempotency_key: str | None = idempotency.IdempotencyKey,
) -> JSONResponse:
    """Queue a sync of the products given (every active one when null) to the shops given (every connected one)."""
    product_ids = _checked_ids(body.product_ids, "product_ids")
    connection_ids = _checked_ids(body.connection_ids, "connection_ids")

    def work(session: Session) -> BaseModel:
        ids = product_ids
        if ids is None:
            ids = list(session.scalars(sa.select(MasterProduct.id).where(MasterProduct.status == "active")))
        elif ids:
            known = set(session.scalars(sa.select(MasterProduct.id).where(MasterProduct.id.in_(ids))))
            if missing := sorted(set(ids) - known)[:5]:
                raise NotFoundError(f"products not found: {', '.join(map(str, missing))}")
        if connection_ids:
            known = set(
                session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.id.in_(connection_ids)))
            )
            if missing := sorted(set(connection_ids) - known)[:5]:
                raise NotFoundError(f"shops not found: {', '.join(map(str, missing))}")
        job_id = sync.start_bulk_sync(who.actor, session, ids, connection_ids)
        return _job(session, job_id)

    fingerprint = idempotency.fingerprint("POST", "/v1/sync/jobs", body)
    return idempotency.run(engine(request), who, idempotency_key, fingerprint, 202, work)


@router.get("/sync/jobs/{job_id}", response_model=JobOut, responses=responses(404, 422))
def sync_progress(request: Request, job_id: Id, who: Caller = Depends(caller)) -> JobOut:
    """A sync job's progress (total, done, failed), recorded after each chunk."""
    with transaction(engine(request)) as session:
        return _job(session, job_id)


def _log(view: sync_logs.SyncLogView) -> SyncLogOut:
    return SyncLogOut(
        id=view.id, connection_id=view.connection_id, shop_name=view.shop_name, platform=view.platform,
        product_id=view.product_id, variant_id=view.variant_id, operation=view.operation, status=view.status,
        error_message=view.error_message, attempts=view.attempts, duration_ms=view.duration_ms, run_id=view.run_id,
        created_at=view.created_at, synced_at=view.synced_at,
    )  # fmt: skip


@router.get("/sync/logs", response_model=pagination.Page[SyncLogOut], responses=responses(422))
def list_logs(
    request: Request,
    who: Caller = Depends(caller),
    status: Annotated[str | None, Query(max_length=20, description="pending, success, failed, superseded")] = None,
    connection_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
) -> pagination.Page[SyncLogOut]:
    """Sync logs, newest first (messages redacted; no request or response bodies)."""
    after = pagination.decode(cursor)
    query = sa.select(SyncLog.id).order_by(SyncLog.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(SyncLog.id < after)
    if status is not None:
        query = query.where(SyncLog.status == status)
    if connection_id is not None:
        query = query.where(SyncLog.connection_id == connection_id)
    if product_id is not None:
        query = query.where(SyncLog.product_id == product_id)
    with transaction(engine(request)) as session:
        ids = list(session.scalars(query))
        views = [sync_logs.get_log(session, log_id) for log_id in ids[:limit]]
        items = [_log(v) for v in views if v is not None]
    return pagination.Page(items=items, next_cursor=pagination.next_cursor(ids, limit))


@router.post("/sync/logs/{log_id}/retry", response_model=SyncLogOut, responses=responses(403, 404, 409, 422))
def retry(request: Request, log_id: Id, who: Caller = RUN) -> SyncLogOut:
    """Send a failed change again (planned afresh: if no longer needed, it is marked superseded)."""
    with transaction(engine(request)) as session:
        if session.get(SyncLog, log_id) is None:
            raise NotFoundError(f"sync log {log_id} not found")
    connectors = marketplaces.connector_factory(engine(request))
    return _log(sync.retry_failed(who.actor, engine(request), log_id, connectors))
