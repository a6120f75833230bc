# Migration 0016 backfills each stored seller SKU's key, on SQLite and PostgreSQL.
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from syncstore.db import migrate
from syncstore.db.engine import create_engine


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrading_to_0016_backfills_the_sku_keys(
    backend: str, request: pytest.FixtureRequest, tmp_path: object
) -> None:
    url = f"sqlite:///{tmp_path}/m.db" if backend == "sqlite" else request.getfixturevalue("empty_postgres_url")
    engine = create_engine(url)
    try:
        migrate.upgrade(engine, "0014")
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO platform_connections (id, platform, shop_id, shop_name, region, status, api_quota_used,"
                " api_quota_limit, cross_border, created_at, updated_at)"
                " VALUES (1, 'shopee', '1', 'S', '', 'connected', 0, 1, false, :now, :now)"
            ), {"now": now})  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO platform_listings (id, connection_id, platform, remote_item_id, remote_status,"
                " sync_status, created_at, updated_at) VALUES (1, 1, 'shopee', '9', 'active', 'pending', :now, :now)"
            ), {"now": now})  # fmt: skip
            for index, seller in enumerate(["Lin-S 10", None, "--"]):
                conn.execute(sa.text(
                    "INSERT INTO platform_listing_skus (listing_id, connection_id, remote_sku_id, seller_sku,"
                    " created_at, updated_at) VALUES (1, 1, :sku, :seller, :now, :now)"
                ), {"sku": str(index), "seller": seller, "now": now})  # fmt: skip
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT remote_sku_id, sku_key, binding_excluded, binding_version FROM platform_listing_skus"
                " ORDER BY remote_sku_id"
            )).all()  # fmt: skip
        assert [tuple(row) for row in rows] == [("0", "lins10", False, 0), ("1", None, False, 0), ("2", None, False, 0)]
    finally:
        engine.dispose()
