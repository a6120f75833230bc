# /v1/stock: stock per variant and per shop, the ledger, and adjustments with a reason and an Idempotency-Key.
"""Stock, through `syncstore.inventory.ledger` (every change a ledger row, an outbox event and an audit row)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api import idempotency, pagination
from api.deps import Caller, caller, engine, writer
from api.ids import Id
from api.problems import responses
from api.schemas import (
    ChannelStockOut,
    LedgerEntryOut,
    LocationOut,
    LocationStockOut,
    StockAdjustIn,
    StockOut,
    TransferIn,
)
from syncstore.catalog import reads
from syncstore.db.engine import transaction
from syncstore.db.models import ProductVariant
from syncstore.errors import NotFoundError
from syncstore.inventory import ledger, locations
from syncstore.security.auth import Permission

router = APIRouter(tags=["stock"], responses=responses(401, 429))
READ = Depends(caller)


def _locations(session: Session, variant_id: int) -> list[LocationStockOut]:
    names = {location.id: location for location in locations.list_locations(session)}
    return [
        LocationStockOut(
            location_id=row.location_id, name=names[row.location_id].name,
            is_default=names[row.location_id].is_default, on_hand=row.on_hand, reserved=row.reserved,
            available=row.available,
        )
        for row in locations.location_levels(session, [variant_id])
        if row.location_id in names
    ]  # fmt: skip


def _stock(session: Session, level: ledger.StockLevel, detail: bool) -> StockOut:
    shops = reads.channel_stock(session, [level.variant_id]).get(level.variant_id, []) if detail else []
    return StockOut(
        variant_id=level.variant_id, product_id=level.product_id, sku=level.sku, on_hand=level.on_hand,
        reserved=level.reserved, available=level.available, low_stock_threshold=level.low_stock_threshold,
        is_low=level.is_low,
        channels=[ChannelStockOut(connection_id=c.connection_id, platform=c.platform, shop_name=c.shop_name,
                                  pushed=c.pushed, remote=c.remote, last_synced_at=c.last_synced_at) for c in shops],
        locations=_locations(session, level.variant_id) if detail else [],
    )  # fmt: skip


def _level(session: Session, variant_id: int) -> ledger.StockLevel:
    found = ledger.levels(session, [variant_id])
    if not found:
        raise NotFoundError(f"variant {variant_id} not found")
    return found[0]


@router.get("/stock", response_model=pagination.Page[StockOut], responses=responses(422))
def list_stock(
    request: Request,
    who: Caller = READ,
    low_only: Annotated[bool, Query(description="Only variants at or under their low-stock threshold.")] = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
) -> pagination.Page[StockOut]:
    """Stock of every variant, by variant id (per-shop figures: GET /v1/stock/{variant_id})."""
    after = pagination.decode(cursor)
    query = sa.select(ProductVariant.id).order_by(ProductVariant.id).limit(limit + 1)
    if after is not None:
        query = query.where(ProductVariant.id > after)
    if low_only:
        query = query.where(
            ProductVariant.is_active,
            ProductVariant.low_stock_threshold.is_not(None),
            ProductVariant.stock - ProductVariant.reserved <= ProductVariant.low_stock_threshold,
        )
    with transaction(engine(request)) as session:
        ids = list(session.scalars(query))
        by_id = {level.variant_id: level for level in ledger.levels(session, ids[:limit])}
        items = [_stock(session, by_id[i], False) for i in ids[:limit] if i in by_id]
    return pagination.Page(items=items, next_cursor=pagination.next_cursor(ids, limit))


@router.get("/stock/{variant_id}", response_model=StockOut, responses=responses(404, 422))
def get_stock(request: Request, variant_id: Id, who: Caller = READ) -> StockOut:
    """A variant's on hand, reserved and available, per location, and per shop what it was last sent and shows."""
    with transaction(engine(request)) as session:
        return _stock(session, _level(session, variant_id), True)


@router.get("/stock/{variant_id}/history", response_model=list[LedgerEntryOut], responses=responses(404, 422))
def stock_history(
    request: Request,
    variant_id: Id,
    who: Caller = READ,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
) -> list[LedgerEntryOut]:
    """The variant's ledger, newest first."""
    with transaction(engine(request)) as session:
        _level(session, variant_id)
        return [LedgerEntryOut.model_validate(row) for row in ledger.history(session, variant_id, limit=limit)]


@router.post(
    "/stock/{variant_id}/adjustments",
    status_code=200,
    response_model=StockOut,
    responses=responses(403, 404, 412, 422),
)
def adjust_stock(
    request: Request,
    variant_id: Id,
    body: StockAdjustIn,
    who: Caller = Depends(writer(Permission.INVENTORY_ADJUST)),
    idempotency_key: str | None = idempotency.IdempotencyKey,
) -> JSONResponse:
    """Set or change on hand, with a reason; the new stock reaches every channel. `expected_on_hand`: 412 if changed.

    With an Idempotency-Key, a retry returns the first answer and moves the stock once.
    """

    def work(session: Session) -> BaseModel:
        level = ledger.adjust_stock(
            who.actor, session, variant_id, set_to=body.set_to, delta=body.delta, reason=body.reason,
            note=body.note, expected_on_hand=body.expected_on_hand, location_id=body.location_id,
        )  # fmt: skip
        return _stock(session, level, False)

    fingerprint = idempotency.fingerprint("POST", f"/v1/stock/{variant_id}/adjustments", body)
    return idempotency.run(engine(request), who, idempotency_key, fingerprint, 200, work)


@router.get("/locations", response_model=list[LocationOut], responses=responses(422))
def list_locations(request: Request, who: Caller = READ) -> list[LocationOut]:
    """Stock locations, the default first."""
    with transaction(engine(request)) as session:
        return [LocationOut(id=place.id, name=place.name, is_default=place.is_default, is_active=place.is_active)
                for place in locations.list_locations(session)]  # fmt: skip


@router.post(
    "/stock/{variant_id}/transfers",
    status_code=200,
    response_model=StockOut,
    responses=responses(403, 404, 422),
)
def transfer_stock(
    request: Request,
    variant_id: Id,
    body: TransferIn,
    who: Caller = Depends(writer(Permission.INVENTORY_ADJUST)),
    idempotency_key: str | None = idempotency.IdempotencyKey,
) -> JSONResponse:
    """Move on hand between two locations; only the shops fed by them see a new quantity. Answers the stock.

    With an Idempotency-Key, a retry returns the first answer and moves the stock once.
    """

    def work(session: Session) -> BaseModel:
        _level(session, variant_id)
        locations.transfer_stock(
            who.actor, session, variant_id, from_location_id=body.from_location_id,
            to_location_id=body.to_location_id, quantity=body.quantity, note=body.note,
        )  # fmt: skip
        return _stock(session, _level(session, variant_id), True)

    fingerprint = idempotency.fingerprint("POST", f"/v1/stock/{variant_id}/transfers", body)
    return idempotency.run(engine(request), who, idempotency_key, fingerprint, 200, work)
