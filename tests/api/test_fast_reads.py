# The product list's fast paths on PostgreSQL: the same pages, errors, limits and audit as the route always gave.
"""PostgreSQL product pages: the once-compiled statement against Python's rows for every filter shape,
and the fast path (a cached key) against FastAPI's route (no cache) for the same requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api import pagination
from api.app import create_app
from api.fast_path import ProductListFastPath
from api.pg_async import AsyncReads, conninfo
from api.read_audit import ACTION
from bench import catalog_fill
from syncstore.catalog import reads
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct, PlatformConnection, PlatformListing
from syncstore.db.types import utcnow
from syncstore.settings import Settings
from tests.api.conftest import make_keys

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url: str) -> Iterator[sa.Engine]:
    from syncstore.db.engine import create_engine
    from tests.conftest import _wipe

    engine = create_engine(postgres_url)
    _wipe(engine)
    yield engine
    engine.dispose()


def _catalog(engine: sa.Engine) -> None:
    """60 products in five categories, a third listed on a shop; some inactive, one failed, one deleted."""
    now = utcnow()
    with engine.begin() as conn:
        shop = conn.execute(
            sa.insert(PlatformConnection).returning(PlatformConnection.id),
            {"platform": "shopee", "shop_id": "1", "shop_name": "S", "status": "connected",
             "created_at": now, "updated_at": now},
        ).scalar_one()  # fmt: skip
    catalog_fill.fill(engine, 60, [(shop, "shopee")], override_every=0)
    with engine.begin() as conn:
        conn.execute(sa.update(MasterProduct).where(MasterProduct.id % 7 == 0).values(status="inactive"))
        conn.execute(sa.update(MasterProduct).where(MasterProduct.id == 5).values(status="deleted"))
        conn.execute(sa.update(MasterProduct).where(MasterProduct.id == 3).values(title="Promo 50% OFF_x"))
        conn.execute(sa.update(PlatformListing).where(PlatformListing.product_id == 2).values(sync_status="failed"))


FILTERS = [
    reads.ProductFilter(),
    reads.ProductFilter(category=catalog_fill.CATEGORIES[1]),
    reads.ProductFilter(status="inactive"),
    reads.ProductFilter(min_price=Decimal("20"), max_price=Decimal("80.5")),
    reads.ProductFilter(search="50% off_"),
    reads.ProductFilter(search="BENCH-00000"),  # a SKU (or handle) prefix, any case
    reads.ProductFilter(platform="shopee"),
    reads.ProductFilter(platform="lazada"),
    reads.ProductFilter(sync_status="failed"),
    reads.ProductFilter(sync_status="not_listed", category=catalog_fill.CATEGORIES[0]),
    reads.ProductFilter(platform="shopee", sync_status="synced", status="active"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(k for k, v in vars(f).items() if v is not None))
def test_every_filter_shape_gives_the_rows_python_reads(pg: sa.Engine, filters: reads.ProductFilter) -> None:
    _catalog(pg)
    with transaction(pg) as session:
        expected = reads.products_after(session, filters, limit=1000)
        assert expected or filters.platform == "lazada"  # the filter finds something (but one)
        pages: list[dict[str, Any]] = []
        after = None
        while True:  # pages of 7: the keyset and the cursor the statement answers
            page = reads.products_after_json(session, filters, after_id=after, limit=7)
            pages += json.loads(page.items)
            if page.more_after is None:
                break
            after = page.more_after
    python = json.loads(json.dumps(expected, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat()))
    for product in python:
        for key in ("created_at", "updated_at"):
            product[key] = product[key].replace("+00:00", "Z")
    assert pages == python


def _app(engine: sa.Engine, cache_s: float, rate: int = 0) -> TestClient:
    return TestClient(create_app(engine, Settings(api_rate_limit=rate, api_key_cache_seconds=cache_s)),
                      raise_server_exceptions=False)  # fmt: skip


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests the fast path answered itself (the others went to FastAPI)."""
    answered: list[int] = []
    original = ProductListFastPath._answer

    async def spy(self: ProductListFastPath, scope: Any) -> Any:
        response = await original(self, scope)
        if response is not None:
            answered.append(response.status_code)
        return response

    monkeypatch.setattr(ProductListFastPath, "_answer", spy)
    return answered


def test_the_fast_path_answers_exactly_as_the_route(pg: sa.Engine, counted: list[int]) -> None:
    _catalog(pg)
    keys = make_keys(pg)
    headers = {"Authorization": f"Bearer {keys['viewer']}"}
    cursor = pagination.encode(20)
    queries = [
        "", f"category={catalog_fill.CATEGORIES[2]}&limit=3", f"cursor={cursor}&limit=5&min_price=10.5",
        "search=promo+50%25&status=inactive", "platform=shopee&sync_status=failed", "sync_status=not_listed&limit=200",
        "limit=0", "limit=abc", "status=deleted", "cursor=nope", "limit=5&limit=6", "category=", "unknown=1&limit=2",
    ]  # fmt: skip
    with _app(pg, 0) as route, _app(pg, 60) as fast:
        fast.get("/v1/products", headers=headers)  # checks the key, fills the cache
        counted.clear()
        for query in queries:
            expected, got = (
                route.get(f"/v1/products?{query}", headers=headers),
                fast.get(f"/v1/products?{query}", headers=headers),
            )
            assert (got.status_code, got.headers["content-type"], got.content) == (
                expected.status_code, expected.headers["content-type"], expected.content
            ), query  # fmt: skip
        assert fast.get("/v1/products", headers={"Authorization": "Bearer ssk_unknown"}).status_code == 401
    # the plain requests were the fast path's; the invalid ones, the repeated and the empty parameter FastAPI's
    assert counted == [200] * 7


def test_fast_reads_are_rate_limited_and_audited(pg: sa.Engine, counted: list[int]) -> None:
    keys = make_keys(pg)
    headers = {"Authorization": f"Bearer {keys['editor']}"}
    with _app(pg, 60, rate=3) as client:
        answers = [client.get("/v1/products", params={"limit": i}, headers=headers) for i in (1, 2, 3, 4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[3].headers["Retry-After"]) >= 1
        assert answers[3].headers["content-type"] == "application/problem+json"
        assert answers[3].json()["instance"] == "/v1/products"
        client.app.state.read_audit.flush()  # type: ignore[attr-defined]
    assert counted == [200, 200, 429]  # the first request checked the key through FastAPI
    with transaction(pg) as session:
        rows = session.scalars(sa.select(AuditLog).where(AuditLog.action == ACTION).order_by(AuditLog.id)).all()
        assert [(r.actor_label.split(" ")[0], r.after, r.before) for r in rows] == [
            ("editor@example.com", {"path": "/v1/products", "query": f"limit={i}"}, None) for i in (1, 2, 3)
        ]
        assert all(r.actor_id is not None for r in rows)


def test_a_page_read_survives_a_dropped_connection(pg: sa.Engine) -> None:
    dsn = conninfo(pg)
    assert dsn is not None
    pool = AsyncReads(dsn, size=1)

    async def scenario() -> tuple[int, int]:
        (first,) = await pool.one("SELECT pg_backend_pid()", {})
        with pg.connect() as admin:  # the server drops the pooled connection
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        (second,) = await pool.one("SELECT pg_backend_pid()", {})
        return first, second

    first, second = asyncio.run(scenario())
    assert first != second
