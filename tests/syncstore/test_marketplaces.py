# Connectors for connected shops: built from stored tokens, and a token refresh spent once under concurrency.
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.base import AuthRevoked
from connectors.simulator.tiktokshop import TikTokShopSimulator
from syncstore import connections, crypto, marketplaces
from syncstore.auth import Actor
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, PlatformConnection
from syncstore.settings import Settings

APP_KEY, APP_SECRET = "sim-app-key", "sim-app-secret-0123456789"
KEYRING = crypto.Keyring.parse(crypto.generate_key("test"))


@pytest.fixture
def tiktok() -> Iterator[TikTokShopSimulator]:
    simulator = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
    simulator.start()
    yield simulator
    simulator.stop()


def settings_for(url: str) -> Settings:
    return Settings(
        tiktokshop_app_key=APP_KEY,
        tiktokshop_app_secret=APP_SECRET,
        tiktokshop_api_host=url,
        tiktokshop_auth_host=url,
        tiktokshop_authorize_host=url,
    )


def connect(engine: sa.Engine, simulator: TikTokShopSimulator, *, access_ttl_s: int) -> tuple[int, str, str]:
    cipher = simulator.add_shop("7001", "Demo shop")
    access, refresh = simulator.issue_tokens("7001", access_ttl_s=access_ttl_s)
    with transaction(engine) as session:
        connection = connections.save_connection(
            Actor.command_line(), session, platform="tiktokshop", shop_id="7001", access_token=access,
            refresh_token=refresh, access_token_expires_at=datetime.now(UTC) + timedelta(seconds=access_ttl_s),
            refresh_token_expires_at=None, shop_cipher=cipher, keyring=KEYRING,
        )  # fmt: skip
    return connection.id, access, refresh


def test_a_connector_is_built_from_the_stored_tokens(engine: sa.Engine, tiktok: TikTokShopSimulator) -> None:
    connection_id, _, _ = connect(engine, tiktok, access_ttl_s=3600)
    product_id = tiktok.add_product("7001", title="Linen shirt")
    connector = marketplaces.connector_for(engine, connection_id, settings=settings_for(tiktok.url), keyring=KEYRING)
    [listing] = connector.get_listings([product_id])
    assert listing.title == "Linen shirt" and listing.platform == "tiktokshop"


def test_concurrent_workers_spend_one_refresh_and_store_one_new_pair(
    engine: sa.Engine, tiktok: TikTokShopSimulator
) -> None:
    connection_id, old_access, old_refresh = connect(engine, tiktok, access_ttl_s=-10)
    product_id = tiktok.add_product("7001", title="Mug")
    settings = settings_for(tiktok.url)
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
    assert tiktok.requests("/api/v2/token/refresh") == 1
    with transaction(engine) as session:
        tokens = connections.read_tokens(session, connection_id, KEYRING)
        refreshes = session.scalars(sa.select(AuditLog).where(AuditLog.action == "connection.refresh")).all()
    assert tokens.access_token != old_access and tokens.refresh_token != old_refresh
    assert tokens.access_token_expires_at is not None and tokens.access_token_expires_at > datetime.now(UTC)
    assert len(refreshes) == 1 and refreshes[0].actor_label == "system:token-refresh"
    assert old_refresh not in str(refreshes[0].after) and tokens.refresh_token not in str(refreshes[0].after)


def test_a_refused_refresh_marks_the_shop_expired(engine: sa.Engine, tiktok: TikTokShopSimulator) -> None:
    connection_id, _, _ = connect(engine, tiktok, access_ttl_s=-10)
    tiktok.revoke_shop("7001")
    with pytest.raises(AuthRevoked):
        marketplaces.refresh_access_token(
            engine, connection_id, stale_access_token=None, settings=settings_for(tiktok.url), keyring=KEYRING
        )
    with transaction(engine) as session:
        connection = session.get_one(PlatformConnection, connection_id)
        assert connection.status == "expired" and "refresh refused" in (connection.last_error or "")


def test_an_unconfigured_platform_says_which_variables_to_set() -> None:
    with pytest.raises(marketplaces.MarketplaceNotConfigured, match="SYNCSTORE_TIKTOKSHOP_APP_KEY"):
        marketplaces.tiktokshop_config(Settings())
