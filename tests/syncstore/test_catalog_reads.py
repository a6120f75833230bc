# The catalog's reads for the app: products filtered and paginated in SQL, listing status, overrides, variant rows.
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.catalog.reads import ProductFilter
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, PlatformListingSku
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)


def make(engine: sa.Engine, n: int, first: int = 0, **fields: object) -> list[int]:
    ids = []
    with transaction(engine) as session:
        for i in range(first, first + n):
            data = {"title": f"Item {i} 50%_off", "category": "Fashion" if i % 2 else "Beauty",
                    "base_price": f"{10 + i}.00", "variants": [{"sku": f"SKU-{i}-A", "name": "A", "stock": i},
                                                               {"sku": f"SKU-{i}-B", "name": "B", "stock": 1}],
                    **fields}  # fmt: skip
            ids.append(catalog.create_product(EDITOR, session, data).id)
    return ids


def listing(engine: sa.Engine, product_id: int, platform: str, status: str, stock: int | None = None) -> None:
    with transaction(engine) as session:
        shop = session.scalar(sa.select(PlatformConnection).where(PlatformConnection.platform == platform))
        if shop is None:
            shop = PlatformConnection(platform=platform, shop_id=f"{platform}-1", shop_name=f"{platform} shop")
            session.add(shop)
            session.flush()
        row = PlatformListing(connection_id=shop.id, product_id=product_id, platform=platform,
                              remote_item_id=f"{platform}-{product_id}", sync_status=status)  # fmt: skip
        session.add(row)
        session.flush()
        variant = catalog_reads.get_product(session, product_id).variants[0]
        session.add(PlatformListingSku(listing_id=row.id, connection_id=shop.id, variant_id=variant.id,
                                       remote_sku_id="1", base_stock=stock, remote_stock=stock))  # fmt: skip


def page(engine: sa.Engine, filters: ProductFilter, **kwargs: int) -> catalog_reads.ProductRowPage:
    with transaction(engine) as session:
        return catalog_reads.product_rows(session, filters, **kwargs)


def test_product_rows_filter_paginate_and_carry_listing_status(engine: sa.Engine) -> None:
    ids = make(engine, 7)
    listing(engine, ids[0], "shopee", "synced")
    listing(engine, ids[0], "tiktokshop", "failed")
    listing(engine, ids[1], "shopee", "conflict")

    first = page(engine, ProductFilter(), page=1, page_size=3)
    assert (first.total, first.pages, len(first.rows)) == (7, 3, 3)
    assert page(engine, ProductFilter(), page=99, page_size=3).page == 3  # past the end: the last page
    assert {r.id for r in page(engine, ProductFilter(platform="shopee")).rows} == {ids[0], ids[1]}
    assert [r.id for r in page(engine, ProductFilter(sync_status="failed")).rows] == [ids[0]]
    assert [r.id for r in page(engine, ProductFilter(platform="shopee", sync_status="failed")).rows] == []
    assert page(engine, ProductFilter(sync_status=catalog_reads.NOT_LISTED)).total == 5
    assert page(engine, ProductFilter(platform="tiktokshop", sync_status=catalog_reads.NOT_LISTED)).total == 6
    priced = page(engine, ProductFilter(min_price=Decimal("12"), max_price=Decimal("14"), category="Fashion"))
    assert sorted(r.base_price for r in priced.rows) == [Decimal("13.00")]

    row = next(r for r in page(engine, ProductFilter(search="sku-0-a")).rows)
    assert (row.id, row.variant_count, row.on_hand) == (ids[0], 2, 1)
    assert [(x.platform, x.sync_status) for x in row.listings] == [("shopee", "synced"), ("tiktokshop", "failed")]


def test_list_products_filters_and_paginates_in_sql(engine: sa.Engine) -> None:
    ids = make(engine, 7)
    with transaction(engine) as session:
        second = catalog_reads.list_products(session, page=2, page_size=3)
        assert (second.total, len(second.products)) == (7, 3)
        assert catalog_reads.list_products(session, ProductFilter(category="Beauty")).total == 4
        priced = catalog_reads.list_products(
            session, ProductFilter(min_price=Decimal("12"), max_price=Decimal("14.00"))
        )
        assert sorted(p.id for p in priced.products) == ids[2:5]
        assert [p.id for p in catalog_reads.list_products(session, ProductFilter(search="sku-5")).products] == [ids[5]]
        assert catalog_reads.categories(session) == ["Beauty", "Fashion"]


def test_search_text_is_taken_literally(engine: sa.Engine) -> None:
    make(engine, 2)
    make(engine, 1, first=2, title="Plain title", handle="plain")
    assert page(engine, ProductFilter(search="50%_OFF")).total == 2  # % and _ are not wildcards; any case
    assert page(engine, ProductFilter(search="0%o")).total == 0  # as a wildcard it would match "50%_off"


def test_variant_rows_and_the_stock_each_channel_was_sent(engine: sa.Engine) -> None:
    ids = make(engine, 3)
    listing(engine, ids[2], "shopee", "synced", stock=2)
    with transaction(engine) as session:
        rows = catalog_reads.variant_rows(session, product_ids=[ids[2]])
        assert [(r.sku, r.stock, r.effective_price, r.product_version) for r in rows] == [
            ("SKU-2-A", 2, Decimal("12.00"), 1),
            ("SKU-2-B", 1, Decimal("12.00"), 1),
        ]
        sent = catalog_reads.channel_stock(session, [r.variant_id for r in rows])
        assert [(c.platform, c.pushed) for c in sent[rows[0].variant_id]] == [("shopee", 2)]
        assert rows[1].variant_id not in sent
        assert len(catalog_reads.variant_rows(session, filters=ProductFilter(category="Beauty"))) == 4
        assert catalog_reads.variant_rows(session, filters=ProductFilter(), low_stock_only=True) == []
