# /v1/listings, /v1/conflicts, /v1/orders, /v1/alerts: what the shops hold, what disagrees, what arrived, what is wrong.
"""Listings and their SKU bindings, conflicts (list, resolve), marketplace orders and alerts."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import selectinload

from api import pagination
from api.deps import Caller, caller, engine, writer
from api.ids import MAX_ID, Id
from api.problems import responses
from api.schemas import AlertOut, ConflictOut, ConflictResolveIn, ListingOut, OrderLineOut, OrderOut
from syncstore.db.engine import transaction
from syncstore.db.models import Alert, PlatformListing, ProductConflict
from syncstore.errors import NotFoundError
from syncstore.orders import reads as order_reads
from syncstore.plan import conflicts
from syncstore.security.auth import Permission

router = APIRouter(responses=responses(401, 429))
READ = Depends(caller)
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("/listings", tags=["listings"], response_model=pagination.Page[ListingOut], responses=responses(422))
def list_listings(
    request: Request,
    who: Caller = READ,
    connection_id: OptionalId = None,
    product_id: OptionalId = None,
    sync_status: Annotated[str | None, Query(pattern="^(synced|pending|failed|conflict)$")] = None,
    orphans: Annotated[bool, Query(description="Only listings bound to no master product.")] = False,
    cursor: Cursor = None,
    limit: Limit = pagination.DEFAULT_LIMIT,
) -> pagination.Page[ListingOut]:
    """Remote items per shop with their SKUs and the master product and variants they are bound to."""
    after = pagination.decode(cursor)
    query = sa.select(PlatformListing).options(selectinload(PlatformListing.skus)).order_by(PlatformListing.id)
    if after is not None:
        query = query.where(PlatformListing.id > after)
    if connection_id is not None:
        query = query.where(PlatformListing.connection_id == connection_id)
    if product_id is not None:
        query = query.where(PlatformListing.product_id == product_id)
    if sync_status is not None:
        query = query.where(PlatformListing.sync_status == sync_status)
    if orphans:
        query = query.where(PlatformListing.product_id.is_(None))
    with transaction(engine(request)) as session:
        rows = session.scalars(query.limit(limit + 1)).all()
        items = [ListingOut.model_validate(row) for row in rows[:limit]]
    return pagination.Page(items=items, next_cursor=pagination.next_cursor([r.id for r in rows], limit))


@router.get("/listings/{listing_id}", tags=["listings"], response_model=ListingOut, responses=responses(404, 422))
def get_listing(request: Request, listing_id: Id, who: Caller = READ) -> ListingOut:
    with transaction(engine(request)) as session:
        row = session.get(PlatformListing, listing_id)
        if row is None:
            raise NotFoundError(f"listing {listing_id} not found")
        return ListingOut.model_validate(row)


@router.get("/conflicts", tags=["conflicts"], response_model=pagination.Page[ConflictOut], responses=responses(422))
def list_conflicts(
    request: Request,
    who: Caller = READ,
    status: Annotated[str | None, Query(pattern="^(pending|resolved)$")] = "pending",
    connection_id: OptionalId = None,
    product_id: OptionalId = None,
    cursor: Cursor = None,
    limit: Limit = pagination.DEFAULT_LIMIT,
) -> pagination.Page[ConflictOut]:
    """Conflicts (pending by default), oldest first."""
    after = pagination.decode(cursor)
    query = sa.select(ProductConflict).order_by(ProductConflict.id)
    if after is not None:
        query = query.where(ProductConflict.id > after)
    if status is not None:
        query = query.where(ProductConflict.status == status)
    if connection_id is not None:
        query = query.where(ProductConflict.connection_id == connection_id)
    if product_id is not None:
        query = query.where(ProductConflict.product_id == product_id)
    with transaction(engine(request)) as session:
        rows = session.scalars(query.limit(limit + 1)).all()
        items = [ConflictOut.model_validate(row) for row in rows[:limit]]
    return pagination.Page(items=items, next_cursor=pagination.next_cursor([r.id for r in rows], limit))


@router.get("/conflicts/{conflict_id}", tags=["conflicts"], response_model=ConflictOut, responses=responses(404, 422))
def get_conflict(request: Request, conflict_id: Id, who: Caller = READ) -> ConflictOut:
    with transaction(engine(request)) as session:
        row = session.get(ProductConflict, conflict_id)
        if row is None:
            raise NotFoundError(f"conflict {conflict_id} not found")
        return ConflictOut.model_validate(row)


@router.post(
    "/conflicts/{conflict_id}/resolve",
    tags=["conflicts"],
    response_model=ConflictOut,
    responses=responses(403, 404, 409, 412, 422),
)
def resolve_conflict(
    request: Request,
    conflict_id: Id,
    body: ConflictResolveIn,
    who: Caller = Depends(writer(Permission.CONFLICTS_RESOLVE)),
) -> ConflictOut:
    """Keep the master value, the marketplace's, or a manual one; the push is queued."""
    with transaction(engine(request)) as session:
        row = conflicts.resolve(who.actor, session, conflict_id, body.strategy, body.value,
                                expected_version=body.expected_version)  # fmt: skip
        return ConflictOut.model_validate(row)


@router.get("/orders", tags=["orders"], response_model=pagination.Page[OrderOut], responses=responses(422))
def list_orders(
    request: Request,
    who: Caller = READ,
    platform: Annotated[str | None, Query(max_length=20)] = None,
    order_id: Annotated[str | None, Query(max_length=64)] = None,
    connection_id: OptionalId = None,
    status: Annotated[str | None, Query(pattern=f"^({'|'.join(order_reads.STATUSES)})$")] = None,
    cursor: Cursor = None,
    limit: Limit = pagination.DEFAULT_LIMIT,
) -> pagination.Page[OrderOut]:
    """Orders seen from the marketplaces (webhooks and polling), with their lines, oldest first."""
    chosen = order_reads.OrderFilters(connection_id=connection_id, platform=platform, order_id=order_id, status=status)
    with transaction(engine(request)) as session:
        page = order_reads.list_orders(
            session, chosen, limit=limit, after_id=pagination.decode(cursor), oldest_first=True
        )
    items = [_order_out(order) for order in page.orders]
    return pagination.Page(
        items=items, next_cursor=None if page.next_after_id is None else pagination.encode(page.next_after_id)
    )


def _order_out(order: order_reads.OrderView) -> OrderOut:
    return OrderOut(
        id=order.id, platform=order.platform, shop_id=order.shop_id, order_id=order.order_id,
        event_type="order_status", status=order.status, occurred_at=order.updated_at,
        created_at=order.first_seen_at, processed_at=order.last_seen_at, connection_id=order.connection_id,
        shop_name=order.shop_name, raw_status=order.raw_status, units=order.units,
        lines=[OrderLineOut.model_validate(line) for line in order.lines],
    )  # fmt: skip


@router.get("/alerts", tags=["alerts"], response_model=pagination.Page[AlertOut], responses=responses(422))
def list_alerts(
    request: Request,
    who: Caller = READ,
    status: Annotated[str | None, Query(pattern="^(open|resolved)$")] = "open",
    cursor: Cursor = None,
    limit: Limit = pagination.DEFAULT_LIMIT,
) -> pagination.Page[AlertOut]:
    """Alerts (open by default): sync failure rate, quota, webhook backlog, failed runs, low stock..."""
    after = pagination.decode(cursor)
    query = sa.select(Alert).order_by(Alert.id)
    if after is not None:
        query = query.where(Alert.id > after)
    if status is not None:
        query = query.where(Alert.status == status)
    with transaction(engine(request)) as session:
        rows = session.scalars(query.limit(limit + 1)).all()
        items = [AlertOut.model_validate(row) for row in rows[:limit]]
    return pagination.Page(items=items, next_cursor=pagination.next_cursor([r.id for r in rows], limit))
