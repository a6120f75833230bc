# The connector factory the pipelines use: one cached connector per shop, every call through the shop's rate limiter.
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, RateLimitTracking
from syncstore.shops import marketplaces
from tests.syncstore.simulated_shops import KEYRING, SHOPEE_SHOP, MarketplaceWorld


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def test_connectors_are_cached_per_shop_and_rate_limited_on_the_database(world: MarketplaceWorld) -> None:
    item_id = world.shopee.add_item(SHOPEE_SHOP, name="Mug", item_sku="MUG-1", stock=3)
    factory = marketplaces.CachedConnectors(world.engine, world.settings, keyring=KEYRING)
    try:
        assert factory.limiter.backend == "database"
        shopee = factory(world.shopee_connection)
        assert factory(world.shopee_connection) is shopee
        assert factory(world.tiktok_connection) is not shopee
        [listing] = shopee.get_listings([str(item_id)])
        assert listing.title == "Mug"
    finally:
        factory.close()
    with transaction(world.engine) as session:
        used = session.get_one(PlatformConnection, world.shopee_connection).api_quota_used
        counted = session.scalars(
            sa.select(RateLimitTracking).where(RateLimitTracking.shop_id == str(SHOPEE_SHOP))
        ).all()
    assert used >= 1 and counted


def test_redis_decides_the_limits_when_it_is_configured(world: MarketplaceWorld, redis_url: str) -> None:
    settings = world.settings.model_copy(update={"redis_url": redis_url})
    factory = marketplaces.connector_factory(world.engine, settings)
    try:
        assert factory.limiter.backend == "redis"
    finally:
        factory.close()
