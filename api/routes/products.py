# /v1/products and /v1/variants: list (filtered, cursor pages), get, create, update with If-Match, archive, overrides.
"""Products, variants and per-platform overrides, through `syncstore.catalog` (same rules and audit as the app)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api import etags, fast_json, idempotency, pagination
from api.deps import Caller, caller, engine, reading, writer
from api.ids import Id
from api.pg_async import AsyncReads
from api.problems import ApiProblem, responses
from api.schemas import OverrideIn, OverrideOut, ProductOut, VariantOut
from syncstore.catalog import commands, reads
from syncstore.catalog.schema import ProductInput, ProductPatch, VariantInput, VariantPatch
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, ProductVariant
from syncstore.errors import NotFoundError
from syncstore.security.auth import Permission

router = APIRouter(tags=["products"], responses=responses(401, 429))
WRITE = Depends(writer(Permission.CATALOG_WRITE))
READ = Depends(caller)


def _out(product: MasterProduct) -> ProductOut:
    return ProductOut.model_validate(product)


def _with_etag(product: ProductOut) -> dict[str, str]:
    return {"ETag": etags.etag(product.version), "Location": f"/v1/products/{product.id}"}


class ProductQuery(BaseModel):
    """The product list's filters and page (query parameters; one model, validated in one pass)."""

    search: str | None = Field(default=None, max_length=200, description="In title, handle or SKU.")
    category: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, pattern="^(active|inactive)$")
    min_price: Decimal | None = Field(default=None, ge=0, le=10_000_000_000)
    max_price: Decimal | None = Field(default=None, ge=0, le=10_000_000_000)
    platform: str | None = Field(default=None, max_length=20, description="Listed on this platform.")
    sync_status: str | None = Field(
        default=None, pattern="^(synced|pending|failed|conflict|not_listed)$", description="Listing state."
    )
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=pagination.DEFAULT_LIMIT, ge=1, le=pagination.MAX_LIMIT)


@router.get("/products", response_model=pagination.Page[ProductOut], responses=responses(422))
async def list_products(request: Request, query: Annotated[ProductQuery, Query()], who: Caller = READ) -> Response:
    """Products matching every filter given, by id, one page at a time (the Products page's filters)."""
    limit = query.limit
    filters = product_filter(query)
    after = pagination.decode(query.cursor)
    async_reads: AsyncReads | None = request.app.state.async_reads
    if async_reads is not None:  # PostgreSQL writes the JSON, read on the event loop (the busiest read)
        return await postgres_page(async_reads, filters, after, limit)
    return await run_in_threadpool(_products_page, request, filters, after, limit)


def product_filter(query: ProductQuery) -> reads.ProductFilter:
    return reads.ProductFilter(
        search=query.search, category=query.category, status=query.status, min_price=query.min_price,
        max_price=query.max_price, platform=query.platform, sync_status=query.sync_status,
    )  # fmt: skip


async def postgres_page(
    async_reads: AsyncReads, filters: reads.ProductFilter, after: int | None, limit: int
) -> Response:
    """A product page on PostgreSQL: one prepared statement that writes the JSON, awaited on the event loop."""
    page = reads.products_page_sql(filters, after_id=after, limit=limit)
    items, last_id, found = await async_reads.one(page.sql, page.params)
    return fast_json.page_response(items, pagination.encode(last_id) if found > limit else None)


def _products_page(request: Request, filters: reads.ProductFilter, after: int | None, limit: int) -> Response:
    with reading(request) as session:
        rows = reads.products_after(session, filters, after_id=after, limit=limit + 1)
    # Plain rows straight to JSON (the same shape as ProductOut, which documents it): a page is read, never changed.
    page = {"items": rows[:limit], "next_cursor": pagination.next_cursor([p["id"] for p in rows], limit)}
    return fast_json.response(page)


@router.post("/products", status_code=201, response_model=ProductOut, responses=responses(403, 409, 422))
def create_product(
    request: Request,
    body: ProductInput,
    who: Caller = WRITE,
    idempotency_key: str | None = idempotency.IdempotencyKey,
) -> JSONResponse:
    """Create a product with its variants (announced to the sync pipeline, audited)."""

    def work(session: sa.orm.Session) -> BaseModel:
        return _out(commands.create_product(who.actor, session, body))

    fingerprint = idempotency.fingerprint("POST", "/v1/products", body)
    return idempotency.run(engine(request), who, idempotency_key, fingerprint, 201, work,
                           lambda p: _with_etag(p))  # type: ignore[arg-type]  # fmt: skip


@router.get("/products/{product_id}", response_model=ProductOut, responses=responses(404, 422))
def get_product(request: Request, product_id: Id, response: Response, who: Caller = READ) -> ProductOut:
    """One product with its variants; its ETag is its version."""
    with transaction(engine(request)) as session:
        product = _out(reads.get_product(session, product_id))
    response.headers["ETag"] = etags.etag(product.version)
    return product


def _update(request: Request, who: Caller, product_id: Id, if_match: str | None, changes: ProductPatch) -> JSONResponse:
    version = etags.required_version(if_match)
    with transaction(engine(request)) as session:
        product = _out(commands.update_product(who.actor, session, product_id, expected_version=version,
                                               changes=changes))  # fmt: skip
    return JSONResponse(product.model_dump(mode="json"), headers={"ETag": etags.etag(product.version)})


@router.patch("/products/{product_id}", response_model=ProductOut, responses=responses(403, 404, 412, 422, 428))
def update_product(
    request: Request,
    product_id: Id,
    body: ProductPatch,
    who: Caller = WRITE,
    if_match: str | None = etags.IfMatch,
) -> JSONResponse:
    """Change the fields given (variants: with `id` edits one, without adds one). Needs If-Match."""
    return _update(request, who, product_id, if_match, body)


@router.delete("/products/{product_id}", response_model=ProductOut, responses=responses(403, 404, 412, 422, 428))
def archive_product(
    request: Request, product_id: Id, who: Caller = WRITE, if_match: str | None = etags.IfMatch
) -> ProductOut:
    """Archive a product: it leaves the catalog and its listings are taken down (the row and history stay)."""
    version = etags.required_version(if_match)
    with transaction(engine(request)) as session:
        return _out(commands.delete_product(who.actor, session, product_id, expected_version=version))


@router.get("/products/{product_id}/variants", response_model=list[VariantOut], responses=responses(404, 422))
def list_variants(request: Request, product_id: Id, who: Caller = READ) -> list[VariantOut]:
    with transaction(engine(request)) as session:
        return [VariantOut.model_validate(v) for v in reads.get_product(session, product_id).variants]


@router.post("/products/{product_id}/variants", response_model=ProductOut, responses=responses(403, 404, 412, 422, 428))
def add_variant(
    request: Request, product_id: Id, body: VariantInput, who: Caller = WRITE, if_match: str | None = etags.IfMatch
) -> JSONResponse:
    """Add a variant to a product (If-Match: the product's version); answers the product."""
    patch = ProductPatch(variants=[VariantPatch.model_validate(body.model_dump(exclude_unset=True))])
    return _update(request, who, product_id, if_match, patch)


def _variant_product(request: Request, variant_id: Id) -> int:
    with transaction(engine(request)) as session:
        product_id = session.scalar(
            sa.select(ProductVariant.product_id)
            .join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
            .where(ProductVariant.id == variant_id, MasterProduct.status != "deleted")
        )
    if product_id is None:
        raise NotFoundError(f"variant {variant_id} not found")
    return product_id


@router.get("/variants/{variant_id}", response_model=VariantOut, responses=responses(404, 422))
def get_variant(request: Request, variant_id: Id, who: Caller = READ) -> VariantOut:
    product_id = _variant_product(request, variant_id)
    with transaction(engine(request)) as session:
        variant = session.get(ProductVariant, variant_id)
        if variant is None or variant.product_id != product_id:
            raise NotFoundError(f"variant {variant_id} not found")
        return VariantOut.model_validate(variant)


class VariantChange(VariantPatch):
    """The fields of the variant to change (its id comes from the path)."""


@router.patch("/variants/{variant_id}", response_model=ProductOut, responses=responses(403, 404, 412, 422, 428))
def update_variant(
    request: Request, variant_id: Id, body: VariantChange, who: Caller = WRITE, if_match: str | None = etags.IfMatch
) -> JSONResponse:
    """Change one variant; If-Match names its PRODUCT's version (the product is the unit of versioning)."""
    if body.id is not None and body.id != variant_id:
        raise ApiProblem(422, "id: must be the variant of the path (or left out)", kind="invalid-input")
    product_id = _variant_product(request, variant_id)
    data = {**body.model_dump(exclude_unset=True), "id": variant_id}
    return _update(request, who, product_id, if_match, ProductPatch(variants=[VariantPatch.model_validate(data)]))


@router.get("/products/{product_id}/overrides", response_model=list[OverrideOut], responses=responses(404, 422))
def list_overrides(request: Request, product_id: Id, who: Caller = READ) -> list[OverrideOut]:
    with transaction(engine(request)) as session:
        reads.get_product(session, product_id)
        return [OverrideOut.model_validate(o) for o in reads.list_overrides(session, product_id)]


@router.put("/products/{product_id}/overrides", response_model=OverrideOut, responses=responses(403, 404, 422))
def set_override(request: Request, product_id: Id, body: OverrideIn, who: Caller = WRITE) -> OverrideOut:
    """Create or replace the override of one platform and field (per variant for `price`)."""
    with transaction(engine(request)) as session:
        view = commands.set_override(who.actor, session, product_id, platform=body.platform, field=body.field,
                                     value=body.value, variant_id=body.variant_id)  # fmt: skip
        return OverrideOut.model_validate(view)


@router.delete("/overrides/{override_id}", status_code=204, responses=responses(403, 404, 422))
def delete_override(request: Request, override_id: Id, who: Caller = WRITE) -> Response:
    """Go back to the master value for that platform and field."""
    with transaction(engine(request)) as session:
        commands.delete_override(who.actor, session, override_id)
    return Response(status_code=204)
