# /v1/listing-skus: every shop's remote SKUs with their binding, the bind preview, bind and unbind.
"""SKU mapping over HTTP, through `syncstore.catalog.bindings` (each write audited, optimistic on the SKU's version)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.deps import Caller, caller, engine, writer
from api.ids import Id
from api.problems import responses
from syncstore.catalog import bindings
from syncstore.catalog.bindings import BindingFilter, BindingRow
from syncstore.db.engine import transaction
from syncstore.plan import binding_preview
from syncstore.security.auth import Permission

router = APIRouter(tags=["listings"], responses=responses(401, 429))
READ = Depends(caller)
WRITE = Depends(writer(Permission.CATALOG_WRITE))


class ListingSkuOut(BaseModel):
    id: int
    connection_id: int
    shop_name: str
    platform: str
    listing_id: int
    remote_item_id: str
    title: str | None
    remote_sku_id: str
    seller_sku: str | None
    sku_key: str | None
    price: Decimal | None
    currency: str | None
    stock: int | None
    state: Literal["bound", "orphan", "excluded"]
    variant_id: int | None
    master_sku: str | None
    version: int = Field(description="Send it back as expected_version to bind, unbind, exclude or include.")
    reason: str | None = Field(description="Orphans: why auto-binding leaves it.")


class ListingSkuPage(BaseModel):
    items: list[ListingSkuOut]
    total: int
    counts: dict[str, int]


class BindIn(BaseModel):
    master_sku: str = Field(min_length=1, max_length=100)
    expected_version: int = Field(ge=0)


class FieldChangeOut(BaseModel):
    name: str
    before: str
    after: str


class BindPreviewOut(BaseModel):
    text: str
    changes: list[FieldChangeOut]
    note: str | None


def _out(row: BindingRow) -> ListingSkuOut:
    return ListingSkuOut(
        id=row.listing_sku_id, connection_id=row.connection_id, shop_name=row.shop_name, platform=row.platform,
        listing_id=row.listing_id, remote_item_id=row.remote_item_id, title=row.title,
        remote_sku_id=row.remote_sku_id, seller_sku=row.seller_sku, sku_key=row.sku_key, price=row.price,
        currency=row.currency, stock=row.stock, state=row.state, variant_id=row.variant_id,
        master_sku=row.master_sku, version=row.version, reason=row.reason,
    )  # fmt: skip


def _one(request: Request, listing_sku_id: int) -> ListingSkuOut:
    with transaction(engine(request)) as session:
        row = bindings.binding_row(session, listing_sku_id)
    return _out(row)


@router.get("/listing-skus", response_model=ListingSkuPage, responses=responses(422))
def list_listing_skus(
    request: Request,
    who: Caller = READ,
    shop_name: Annotated[str | None, Query(max_length=255)] = None,
    state: Annotated[Literal["bound", "orphan", "excluded"] | None, Query()] = None,
    search: Annotated[str | None, Query(max_length=100, description="In the listing title or the seller SKU.")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=bindings.MAX_PAGE)] = 50,
) -> ListingSkuPage:
    """Remote SKUs of every shop with their binding (bound, orphan, excluded), and the counts per state."""
    with transaction(engine(request)) as session:
        page = bindings.list_bindings(
            session, BindingFilter(shop_name=shop_name, state=state, search=search), limit=limit, offset=offset
        )
    return ListingSkuPage(items=[_out(row) for row in page.rows], total=page.total, counts=page.counts)


@router.get(
    "/listing-skus/{listing_sku_id}/binding-preview", response_model=BindPreviewOut, responses=responses(404, 422)
)
def preview_binding(
    request: Request,
    listing_sku_id: Id,
    master_sku: Annotated[str, Query(min_length=1, max_length=100)],
    who: Caller = READ,
) -> BindPreviewOut:
    """What binding the SKU to `master_sku` would push to the shop (422 with the reason when it would be refused)."""
    preview = binding_preview.preview_bind(engine(request), listing_sku_id, master_sku)
    return BindPreviewOut(
        text=preview.text(),
        changes=[FieldChangeOut(name=c.name, before=c.before, after=c.after) for c in preview.changes],
        note=preview.note,
    )


@router.put(
    "/listing-skus/{listing_sku_id}/binding", response_model=ListingSkuOut, responses=responses(403, 404, 412, 422)
)
def bind(request: Request, listing_sku_id: Id, body: BindIn, who: Caller = WRITE) -> ListingSkuOut:
    """Bind an orphan SKU to a master SKU; its stock is pushed within seconds (412: changed since read)."""
    with transaction(engine(request)) as session:
        bindings.bind_sku(who.actor, session, listing_sku_id, body.master_sku, expected_version=body.expected_version)
    return _one(request, listing_sku_id)


@router.delete(
    "/listing-skus/{listing_sku_id}/binding", response_model=ListingSkuOut, responses=responses(403, 404, 412, 422)
)
def unbind(
    request: Request,
    listing_sku_id: Id,
    expected_version: Annotated[int, Query(ge=0)],
    who: Caller = WRITE,
) -> ListingSkuOut:
    """Unbind a SKU: it becomes an orphan and nothing is pushed to it any more (412: changed since read)."""
    with transaction(engine(request)) as session:
        bindings.unbind_sku(who.actor, session, listing_sku_id, expected_version=expected_version)
    return _one(request, listing_sku_id)
