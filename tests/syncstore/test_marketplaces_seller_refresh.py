# TikTok Shop's one token pair per seller: a refresh spends it once and every shop row of the seller gets the new pair.
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from syncstore.db.engine import create_engine, transaction
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.settings import Settings
from syncstore.shops import connections, marketplaces

APP_KEY, APP_SECRET = "sim-app-key", "sim-app-secret-0123456789"
PARTNER_ID, PARTNER_KEY = 2001887, "sim-partner-key-0123456789"
KEYRING = crypto.Keyring.parse(crypto.generate_key("seller"))
REFRESH_PATH = "/api/v2/token/refresh"


@pytest.fixture
def tiktok() -> Iterator[TikTokShopSimulator]:
    simulator = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
    simulator.start()
    simulator.add_shop("7001", "Seller A, US shop")
    simulator.add_shop("9001", "Seller B")
    yield simulator
    simulator.stop()


@pytest.fixture
def shopee() -> Iterator[ShopeeSimulator]:
    simulator = ShopeeSimulator(PARTNER_ID, PARTNER_KEY)
    simulator.start()
    simulator.add_shop(5001, "Shopee shop")
    yield simulator
    simulator.stop()


def settings_for(tiktok: TikTokShopSimulator, shopee: ShopeeSimulator | None = None) -> Settings:
    url = tiktok.url
    settings = Settings(
        tiktokshop_app_key=APP_KEY, tiktokshop_app_secret=APP_SECRET, tiktokshop_api_host=url,
        tiktokshop_auth_host=url, tiktokshop_authorize_host=url,
    )  # fmt: skip
    if shopee is None:
        return settings
    return settings.model_copy(
        update={
            "shopee_partner_id": PARTNER_ID,
            "shopee_partner_key": SecretStr(PARTNER_KEY),
            "shopee_host": shopee.url,
        }
    )


def save(engine: sa.Engine, platform: str, shop_id: str, pair: tuple[str, str], expires_in: timedelta) -> int:
    with transaction(engine) as session:
        row = connections.save_connection(
            Actor.command_line(), session, platform=platform, shop_id=shop_id, access_token=pair[0],
            refresh_token=pair[1], access_token_expires_at=datetime.now(UTC) + expires_in,
            refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
        return row.id


def tokens(engine: sa.Engine, connection_id: int) -> tuple[str, str]:
    with transaction(engine) as session:
        found = connections.read_tokens(session, connection_id, KEYRING)
        return found.access_token, found.refresh_token


def seller_with_two_shops(engine: sa.Engine, tiktok: TikTokShopSimulator) -> tuple[int, int, int, tuple[str, str]]:
    """Seller A's pair stored on both of its shop rows (as the authorization does), and seller B's own pair."""
    pair = tiktok.issue_tokens("7001", access_ttl_s=-10)
    first = save(engine, "tiktokshop", "7001", pair, timedelta(hours=-1))
    second = save(engine, "tiktokshop", "7002", pair, timedelta(hours=-1))
    other = save(engine, "tiktokshop", "9001", tiktok.issue_tokens("9001"), timedelta(days=3))
    return first, second, other, pair


def test_refreshing_one_shop_renews_every_shop_of_the_seller(engine: sa.Engine, tiktok: TikTokShopSimulator) -> None:
    first, second, other, pair = seller_with_two_shops(engine, tiktok)
    other_before = tokens(engine, other)
    settings = settings_for(tiktok)

    new_access = marketplaces.refresh_access_token(
        engine, second, stale_access_token=pair[0], settings=settings, keyring=KEYRING
    )
    # The first shop's worker still holds the old token: it gets the new one, and spends nothing.
    again = marketplaces.refresh_access_token(
        engine, first, stale_access_token=pair[0], settings=settings, keyring=KEYRING
    )

    assert tiktok.requests(REFRESH_PATH) == 1
    assert again == new_access
    assert tokens(engine, first) == tokens(engine, second) != pair
    assert tokens(engine, first)[0] == new_access
    assert tokens(engine, other) == other_before


def test_concurrent_refreshes_from_two_shops_of_one_seller_spend_one(
    db_url: str, engine: sa.Engine, tiktok: TikTokShopSimulator
) -> None:
    first, second, _, pair = seller_with_two_shops(engine, tiktok)
    settings = settings_for(tiktok)
    barrier, results, errors = threading.Barrier(4), [], []

    def refresh(connection_id: int) -> None:
        own = create_engine(db_url)
        barrier.wait()
        try:
            results.append(
                marketplaces.refresh_access_token(
                    own, connection_id, stale_access_token=pair[0], settings=settings, keyring=KEYRING
                )
            )
        except Exception as error:  # shown by the assertion
            errors.append(repr(error))
        finally:
            own.dispose()

    threads = [threading.Thread(target=refresh, args=(cid,)) for cid in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert tiktok.requests(REFRESH_PATH) == 1
    assert len(set(results)) == 1 and tokens(engine, first) == tokens(engine, second)


def test_the_hourly_refresh_renews_expiring_tokens_once_per_pair(
    engine: sa.Engine, tiktok: TikTokShopSimulator, shopee: ShopeeSimulator
) -> None:
    first, second, other, _ = seller_with_two_shops(engine, tiktok)
    shopee_row = save(engine, "shopee", "5001", shopee.issue_tokens(5001), timedelta(minutes=30))

    summary = marketplaces.refresh_expiring(
        engine, within=timedelta(hours=2), settings=settings_for(tiktok, shopee), keyring=KEYRING
    )

    assert sorted(summary.refreshed) == sorted([first, shopee_row])
    assert summary.already_fresh == (second,)
    assert summary.failed == () and summary.revoked == ()
    assert other not in summary.refreshed  # seller B's token is valid for days
    assert tiktok.requests(REFRESH_PATH) == 1
    assert shopee.request_count("/api/v2/auth/access_token/get") == 1


def test_a_revoked_seller_marks_every_shop_of_the_seller_expired(
    engine: sa.Engine, tiktok: TikTokShopSimulator
) -> None:
    first, second, other, _ = seller_with_two_shops(engine, tiktok)
    tiktok.revoke_shop("7001")
    summary = marketplaces.refresh_expiring(engine, settings=settings_for(tiktok), keyring=KEYRING)
    assert summary.revoked == (first,) and summary.already_fresh == (second,)
    with transaction(engine) as session:
        statuses = {c.id: c.status for c in connections.list_connections(session)}
    assert statuses == {first: "expired", second: "expired", other: "connected"}
