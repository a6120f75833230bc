# Connectors for connected shops: built from stored tokens, and a token refresh spent once under concurrency.
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.base import AuthRevoked
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, PlatformConnection
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.settings import Settings
from syncstore.shops import connections, marketplaces

APP_KEY, APP_SECRET = "sim-app-key", "sim-app-secret-0123456789"
PARTNER_ID, PARTNER_KEY = 2001887, "sim-partner-key-0123456789"
KEYRING = crypto.Keyring.parse(crypto.generate_key("test"))


class Marketplace:
    """One simulated platform, seen the way these tests need it."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        if platform == "shopee":
            self.shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY)
            self.url = self.shopee.start()
            self.shopee.add_shop(7001, "Demo shop")
        else:
            self.tiktok = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
            self.url = self.tiktok.start()
            self.cipher: str | None = self.tiktok.add_shop("7001", "Demo shop")

    def settings(self) -> Settings:
        url = self.url
        if self.platform == "shopee":
            return Settings(shopee_partner_id=PARTNER_ID, shopee_partner_key=PARTNER_KEY, shopee_host=url)
        return Settings(
            tiktokshop_app_key=APP_KEY, tiktokshop_app_secret=APP_SECRET, tiktokshop_api_host=url,
            tiktokshop_auth_host=url, tiktokshop_authorize_host=url,
        )  # fmt: skip

    def tokens(self, *, expired: bool) -> tuple[str, str]:
        if self.platform == "shopee":
            pair = self.shopee.issue_tokens(7001)
            if expired:
                self.shopee.expire_access_tokens(7001)
            return pair
        return self.tiktok.issue_tokens("7001", access_ttl_s=-10 if expired else 3600)

    def add_product(self, title: str) -> str:
        if self.platform == "shopee":
            return str(self.shopee.add_item(7001, name=title, item_sku=f"{title}-1", stock=3))
        return self.tiktok.add_product("7001", title=title)

    def refreshes(self) -> int:
        if self.platform == "shopee":
            return self.shopee.request_count("/api/v2/auth/access_token/get")
        return self.tiktok.requests("/api/v2/token/refresh")

    def revoke(self) -> None:
        if self.platform == "shopee":
            self.shopee.revoke_shop(7001)
        else:
            self.tiktok.revoke_shop("7001")

    def stop(self) -> None:
        (self.shopee if self.platform == "shopee" else self.tiktok).stop()


@pytest.fixture(params=["shopee", "tiktokshop"])
def market(request: pytest.FixtureRequest) -> Iterator[Marketplace]:
    marketplace = Marketplace(request.param)
    yield marketplace
    marketplace.stop()


def connect(engine: sa.Engine, market: Marketplace, *, expired: bool) -> tuple[int, str, str]:
    access, refresh = market.tokens(expired=expired)
    with transaction(engine) as session:
        connection = connections.save_connection(
            Actor.command_line(), session, platform=market.platform, shop_id="7001", access_token=access,
            refresh_token=refresh, access_token_expires_at=datetime.now(UTC) + timedelta(hours=-1 if expired else 1),
            refresh_token_expires_at=None, shop_cipher=getattr(market, "cipher", None), keyring=KEYRING,
        )  # fmt: skip
    return connection.id, access, refresh


def test_a_connector_is_built_from_the_stored_tokens(engine: sa.Engine, market: Marketplace) -> None:
    connection_id, _, _ = connect(engine, market, expired=False)
    product_id = market.add_product("Linen shirt")
    connector = marketplaces.connector_for(engine, connection_id, settings=market.settings(), keyring=KEYRING)
    [listing] = connector.get_listings([product_id])
    assert listing.title == "Linen shirt" and listing.platform == market.platform


def test_concurrent_workers_spend_one_refresh_and_store_one_new_pair(engine: sa.Engine, market: Marketplace) -> None:
    connection_id, old_access, old_refresh = connect(engine, market, expired=True)
    product_id = market.add_product("Mug")
    settings = market.settings()
    connectors = [
        marketplaces.connector_for(engine, connection_id, settings=settings, keyring=KEYRING) for _ in range(6)
    ]
    barrier, titles, failures = threading.Barrier(len(connectors)), [], []

    def work(index: int) -> None:
        barrier.wait()
        try:
            titles.append(connectors[index].get_listings([product_id])[0].title)
        except Exception as error:  # the assertion below shows which
            failures.append(repr(error))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(connectors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == [] and titles == ["Mug"] * len(connectors)
    assert market.refreshes() == 1
    with transaction(engine) as session:
        tokens = connections.read_tokens(session, connection_id, KEYRING)
        refreshes = session.scalars(sa.select(AuditLog).where(AuditLog.action == "connection.refresh")).all()
    assert tokens.access_token != old_access and tokens.refresh_token != old_refresh
    assert tokens.access_token_expires_at is not None and tokens.access_token_expires_at > datetime.now(UTC)
    assert len(refreshes) == 1 and refreshes[0].actor_label == "system:token-refresh"
    assert old_refresh not in str(refreshes[0].after) and tokens.refresh_token not in str(refreshes[0].after)


def test_a_refused_refresh_marks_the_shop_expired(engine: sa.Engine, market: Marketplace) -> None:
    connection_id, _, _ = connect(engine, market, expired=True)
    market.revoke()
    with pytest.raises(AuthRevoked):
        marketplaces.refresh_access_token(
            engine, connection_id, stale_access_token=None, settings=market.settings(), keyring=KEYRING
        )
    with transaction(engine) as session:
        connection = session.get_one(PlatformConnection, connection_id)
        assert connection.status == "expired" and "refresh refused" in (connection.last_error or "")


def test_an_unconfigured_platform_says_which_variables_to_set() -> None:
    with pytest.raises(marketplaces.MarketplaceNotConfigured, match="SYNCSTORE_TIKTOKSHOP_APP_KEY"):
        marketplaces.check_configured("tiktokshop", Settings())
    with pytest.raises(marketplaces.MarketplaceNotConfigured, match="SYNCSTORE_SHOPEE_PARTNER_KEY"):
        marketplaces.check_configured("shopee", Settings())
