# Connecting a Lazada seller through the core's OAuth flow (registry only), against the Lazada simulator.
"""The link, the code exchange with `country_user_info`, encrypted storage with the country as region, the
connector the core builds from the stored connection, and a refresh that rotates both tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.lazada.simulator.server import LazadaSimulator
from syncstore.settings import Settings
from syncstore.shops import marketplaces, oauth
from tests.syncstore.test_oauth import (
    APP_URL,
    KEY_SPEC,
    KEYRING,
    PUBLIC_URL,
    complete,
    decrypt,
    make_user,
    params_of,
    stored,
)

LAZADA_KEY, LAZADA_SECRET, SELLER = "100777", "lazada-oauth-secret-42", "1000200300"


@pytest.fixture
def sim() -> Iterator[LazadaSimulator]:
    simulator = LazadaSimulator(
        app_key=LAZADA_KEY, app_secret=LAZADA_SECRET, redirect_url=f"{PUBLIC_URL}/oauth/lazada/callback"
    )
    simulator.add_seller(SELLER, "Kedai Batik", country="my")
    simulator.start()
    yield simulator
    simulator.stop()


def lazada_settings(sim: LazadaSimulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "lazada_app_key": LAZADA_KEY,
        "lazada_app_secret": LAZADA_SECRET,
        "lazada_api_host": sim.url,
        "lazada_auth_host": sim.url,
        "lazada_authorize_host": sim.url,
        "public_url": PUBLIC_URL,
        "app_url": APP_URL,
        "encryption_keys": KEY_SPEC,
    }
    values.update(overrides)
    return Settings(**values)


def test_a_lazada_seller_is_connected_through_the_registry(engine: sa.Engine, sim: LazadaSimulator) -> None:
    import httpx

    admin = make_user(engine, "owner@example.com", "admin")
    settings = lazada_settings(sim)
    link = oauth.start_authorization(admin, "lazada", settings=settings, keyring=KEYRING)
    state = params_of(link)["state"]
    page = oauth.platform_authorization_url("lazada", state, settings)
    assert page.startswith(f"{sim.url}/oauth/authorize?") and "client_id=100777" in page
    response = httpx.get(page, follow_redirects=False)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{PUBLIC_URL}/oauth/lazada/callback?")

    [connection] = complete(engine, "lazada", params_of(location), settings=settings)

    [row] = stored(engine)
    assert (row.platform, row.shop_id, row.status, row.region) == ("lazada", SELLER, "connected", "MY")
    assert row.shop_name == "Kedai Batik"  # the seller's name from /seller/get, never the login e-mail
    assert decrypt(row, "access_token") in sim.state.access_tokens
    assert decrypt(row, "refresh_token") in sim.state.refresh_tokens
    assert row.last_error is None  # Lazada has no push subscription API: nothing to refuse

    profile = marketplaces.shop_profile("lazada", SELLER, decrypt(row, "access_token"), settings=settings)
    assert (profile.shop_id, profile.name) == (SELLER, "Kedai Batik")
    assert connection.id == row.id


def test_an_expired_lazada_token_is_refreshed_once_and_both_tokens_rotate(
    engine: sa.Engine, sim: LazadaSimulator
) -> None:
    import httpx

    admin = make_user(engine, "owner@example.com", "admin")
    settings = lazada_settings(sim)
    link = oauth.start_authorization(admin, "lazada", settings=settings, keyring=KEYRING)
    page = oauth.platform_authorization_url("lazada", params_of(link)["state"], settings)
    location = httpx.get(page, follow_redirects=False).headers["location"]
    [connection] = complete(engine, "lazada", params_of(location), settings=settings)
    [before] = stored(engine)
    old_access, old_refresh = decrypt(before, "access_token"), decrypt(before, "refresh_token")
    product = sim.add_product(SELLER, "Sarong", [("SAR-1", "45.00", 8)])

    sim.clock.advance(31 * 86_400)  # the 30-day access token has expired on Lazada's clock
    connector = marketplaces.connector_for(engine, connection.id, settings=settings, keyring=KEYRING)
    try:
        (listing,) = connector.get_listings([product.item_id])
    finally:
        getattr(connector, "close", lambda: None)()
    assert listing.skus[0].total_stock == 8

    [after] = stored(engine)
    new_access, new_refresh = decrypt(after, "access_token"), decrypt(after, "refresh_token")
    assert new_access != old_access and new_refresh != old_refresh
    assert not sim.state.refresh_tokens[old_refresh].alive  # the spent refresh token is dead
    assert sim.requests("/auth/token/refresh") == 1
