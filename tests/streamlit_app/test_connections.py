# The Connections page: shop cards for every role; connect, refresh and disconnect for Admins only.
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import AuditLog, PlatformConnection, ShopPublishing
from syncstore.db.types import utcnow
from syncstore.errors import PermissionDenied
from syncstore.security.auth import Actor, Role
from syncstore.settings import get_settings
from syncstore.shops import connections, oauth
from tests.streamlit_app.conftest import AppAs, SeededDatabase
from webhook_receiver.oauth_routes import routes as oauth_routes

PARTNER_ID, PARTNER_KEY = 2001887, "sim-partner-key-0123456789"
APP_KEY, APP_SECRET, SERVICE_ID = "sim-app-key", "sim-app-secret-0123456789", "sim-service-77"
PUBLIC_URL, APP_URL = "http://receiver.test", "http://app.test"
NEW_SHOPEE_SHOP = 100001
DISCONNECT_KEY = "connections_disconnecting"


def shop_titles(at: object) -> list[str]:
    return [s.value for s in at.subheader if "·" in s.value]  # type: ignore[attr-defined]


def shop_titles_all(at: object) -> list[str]:
    return [s.value for s in at.subheader]  # type: ignore[attr-defined]


def connection_rows(db: SeededDatabase) -> dict[str, PlatformConnection]:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            return {row.shop_id: row for row in session.scalars(sa.select(PlatformConnection))}
    finally:
        engine.dispose()


def action_labels(at: object) -> set[str]:
    labels = {b.label for b in at.button}  # type: ignore[attr-defined]
    return (labels | {b.label for b in at.link_button}) - {"Sign out"}  # type: ignore[attr-defined]


@dataclass
class Markets:
    shopee: ShopeeSimulator
    tiktok: TikTokShopSimulator
    url_shopee: str
    url_tiktok: str


@pytest.fixture
def markets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Markets]:
    """Both simulators on loopback, and the app's settings pointing at them."""
    shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, auto_approve=True)
    url_shopee = shopee.start()
    shopee.add_shop(NEW_SHOPEE_SHOP, "Batik House")
    tiktok = TikTokShopSimulator(
        app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID,
        redirect_url=f"{PUBLIC_URL}/oauth/tiktokshop/callback", auto_approve=True,
    )  # fmt: skip
    url_tiktok = tiktok.start()
    env = {
        "SHOPEE_PARTNER_ID": str(PARTNER_ID), "SHOPEE_PARTNER_KEY": PARTNER_KEY, "SHOPEE_HOST": url_shopee,
        "TIKTOKSHOP_APP_KEY": APP_KEY, "TIKTOKSHOP_APP_SECRET": APP_SECRET, "TIKTOKSHOP_SERVICE_ID": SERVICE_ID,
        "TIKTOKSHOP_API_HOST": url_tiktok, "TIKTOKSHOP_AUTH_HOST": url_tiktok,
        "TIKTOKSHOP_AUTHORIZE_HOST": url_tiktok, "PUBLIC_URL": PUBLIC_URL, "APP_URL": APP_URL,
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"SYNCSTORE_{name}", value)
    get_settings.cache_clear()
    try:
        yield Markets(shopee, tiktok, url_shopee, url_tiktok)
    finally:
        shopee.stop()
        tiktok.stop()
        get_settings.cache_clear()  # the next read sees the environment monkeypatch restores


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_every_role_sees_each_shop_and_only_admins_get_actions(app_as: AppAs, role: str) -> None:
    at = app_as(role, "connections")
    assert not at.exception
    assert shop_titles(at) == ["Shopee · Demo Shopee MY", "TikTok Shop · Demo TikTok MY"]
    text = " ".join(m.value for m in at.markdown)
    assert "connected" in text and "`1001`" in text
    assert re.search(r"Access token expires: \S+ \S+ UTC \(in 4 hours\)", text)  # seeded to expire in 4 h
    assert "Failed changes, last 24 h: none sent" in text
    assert [p.value for p in at.progress] == [0, 0]  # no API call made today yet
    if role == "admin":
        assert {"Refresh token", "Disconnect"} <= action_labels(at)
        # Neither platform is configured in this test: each says so instead of offering a link.
        assert any("Shopee is not configured" in i.value for i in at.info)
    else:
        assert action_labels(at) == set()
        assert any("Read only" in c.value for c in at.caption)


def test_an_admin_disconnects_a_shop_after_confirming(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    shopee = connection_rows(seeded_db)["1001"]
    at = app_as("admin", "connections")
    at.button(key=f"disconnect_{shopee.id}").click().run()
    assert connection_rows(seeded_db)["1001"].status == "connected"  # nothing yet: the dialog asks first
    assert any("will stop syncing" in m.value for m in at.markdown)
    at.button(key="cancel_disconnect").click().run()
    assert connection_rows(seeded_db)["1001"].status == "connected"
    at.button(key=f"disconnect_{shopee.id}").click().run()
    at.button(key="confirm_disconnect").click().run()
    assert not at.exception
    stored = connection_rows(seeded_db)["1001"]
    assert stored.status == "disconnected" and stored.access_token is None
    assert ":gray-badge[disconnected]" in " ".join(m.value for m in at.markdown)
    assert at.button(key=f"refresh_{shopee.id}").disabled
    engine = seeded_db.engine()
    with transaction(engine) as session:
        audit_row = session.scalars(sa.select(AuditLog).where(AuditLog.action == "connection.disconnect")).one()
    engine.dispose()
    assert audit_row.entity_id == str(shopee.id)


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_a_forced_disconnect_by_a_non_admin_changes_nothing(
    app_as: AppAs, seeded_db: SeededDatabase, role: str
) -> None:
    shopee = connection_rows(seeded_db)["1001"]
    # The page never opens the dialog for them, even with the state a click would have left.
    at = app_as(role, "connections", session_state={DISCONNECT_KEY: shopee.id})
    assert not at.exception and not any(b.key == "confirm_disconnect" for b in at.button)
    actor = seeded_db.actors[Role(role)]
    engine = seeded_db.engine()
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        connections.disconnect(actor, session, shopee.id)
    with pytest.raises(PermissionDenied):
        oauth.start_authorization(actor, "shopee")
    engine.dispose()
    assert connection_rows(seeded_db)["1001"].status == "connected"


@pytest.mark.parametrize(
    ("query", "kind", "expected"),
    [
        ({"connected": "shopee:100001"}, "success", "Connected Shopee shop 100001."),
        ({"connected": "tiktokshop:7001,7002"}, "success", "Connected TikTok Shop shops Demo TikTok MY, 7002."),
        ({"connected": "shopee:100001", "warning": "webhooks"}, "warning", "webhooks could not be registered"),
        ({"error": "expired_state"}, "error", "longer than 10 minutes"),
        ({"error": "permission_denied"}, "error", "Only an Admin can connect shops"),
        ({"error": "something_new"}, "error", "Connecting the shop failed (something_new)"),
    ],
)
def test_the_oauth_callback_outcome_is_said_plainly(
    sqlite_app_as: AppAs, query: dict[str, str], kind: str, expected: str
) -> None:
    at = sqlite_app_as("admin", "connections", query_params=query)
    assert not at.exception
    messages = [element.value for element in getattr(at, kind)]
    assert any(expected in message for message in messages), messages


def test_an_admin_connects_a_shop_through_the_real_authorization_flow(
    markets: Markets, sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    at = sqlite_app_as("admin", "connections")
    assert not at.exception and not at.error
    links = {button.label: button.proto.url for button in at.link_button}
    assert set(links) == {"Connect a Shopee shop", "Connect a TikTok Shop shop"}
    # Each link goes through the receiver, which binds the authorization to this browser (S7) ...
    assert links["Connect a Shopee shop"].startswith(f"{PUBLIC_URL}/oauth/shopee/start?state=")
    assert links["Connect a TikTok Shop shop"].startswith(f"{PUBLIC_URL}/oauth/tiktokshop/start?state=")
    receiver = Starlette(routes=oauth_routes)
    engine = create_engine(sqlite_seeded_db.url)
    receiver.state.engine, receiver.state.settings = engine, get_settings()
    with TestClient(receiver) as browser:
        start = urlsplit(links["Connect a Shopee shop"])
        started = browser.get(f"{start.path}?{start.query}", follow_redirects=False)
        assert started.status_code == 302 and started.headers["location"].startswith(markets.url_shopee)
        # ... the seller approves on the (simulated) platform, which sends the browser to our callback ...
        approved = httpx.get(started.headers["location"], follow_redirects=False)
        assert approved.status_code == 302
        callback = urlsplit(approved.headers["location"])
        assert f"{callback.scheme}://{callback.netloc}" == PUBLIC_URL
        answer = browser.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    engine.dispose()
    # ... which stores the shop and sends the browser back to this page.
    assert answer.status_code == 303
    back = urlsplit(answer.headers["location"])
    assert back.path == "/connections"
    params = dict(parse_qsl(back.query))
    assert params == {"connected": f"shopee:{NEW_SHOPEE_SHOP}"}

    at = sqlite_app_as("admin", "connections", query_params=params)
    assert not at.exception
    # The message names the shop as Shopee does (its get_shop_info), not by its number.
    assert any("Connected Shopee shop Batik House." in s.value for s in at.success)
    # Shopee's token answer names no shop, so the card names it by its id.
    # The shop's name comes from Shopee's get_shop_info, read with the new token at connection.
    assert "Shopee · Batik House" in shop_titles(at)
    assert connection_rows(sqlite_seeded_db)[str(NEW_SHOPEE_SHOP)].status == "connected"


def card_text(at: object) -> str:
    return " ".join(m.value for m in at.markdown)  # type: ignore[attr-defined]


def test_an_admin_refreshes_a_token_and_the_card_shows_the_new_expiry_and_real_name_at_once(
    markets: Markets, sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    access, refresh = markets.shopee.issue_tokens(NEW_SHOPEE_SHOP)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        # Stored nameless (its profile could not be read at connection), with 5 minutes of token left.
        stored = connections.save_connection(
            Actor.command_line(), session, platform="shopee", shop_id=str(NEW_SHOPEE_SHOP), shop_name="",
            access_token=access, refresh_token=refresh, access_token_expires_at=utcnow() + timedelta(minutes=5),
            refresh_token_expires_at=utcnow() + timedelta(days=30),
        )  # fmt: skip
    at = sqlite_app_as("admin", "connections")
    assert f"Shopee shop {NEW_SHOPEE_SHOP}" in shop_titles_all(at)
    assert not any(title.rstrip().endswith(("·", ":")) for title in shop_titles_all(at))
    assert "Access token expires" in card_text(at) and "(in 5 minutes)" in card_text(at)
    at.button(key=f"refresh_{stored.id}").click().run()
    assert not at.exception
    # The same run that confirms the refresh shows the card as it now is: no stale read.
    assert any(f"Token of Shopee shop {NEW_SHOPEE_SHOP} refreshed." in s.value for s in at.success)
    assert "Shopee · Batik House" in shop_titles(at)
    assert "(in 5 minutes)" not in card_text(at) and "(in 4 hours)" in card_text(at)
    with transaction(engine) as session:
        tokens = connections.read_tokens(session, stored.id)
        name = session.get(PlatformConnection, stored.id).shop_name  # type: ignore[union-attr]
    engine.dispose()
    assert name == "Batik House"
    assert tokens.access_token != access and tokens.refresh_token != refresh
    assert tokens.access_token_expires_at is not None and tokens.access_token_expires_at > utcnow() + timedelta(hours=1)
    # Nothing of either token pair appears on the page.
    page = " ".join(str(element.value) for element in at.main if hasattr(element, "value"))
    assert access not in page and tokens.access_token not in page


def test_a_shop_renamed_on_shopee_shows_its_new_name_after_a_refresh(
    markets: Markets, sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    access, refresh = markets.shopee.issue_tokens(NEW_SHOPEE_SHOP)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        stored = connections.save_connection(
            Actor.command_line(), session, platform="shopee", shop_id=str(NEW_SHOPEE_SHOP), shop_name="Batik House",
            access_token=access, refresh_token=refresh, access_token_expires_at=utcnow() + timedelta(hours=1),
            refresh_token_expires_at=utcnow() + timedelta(days=30),
        )  # fmt: skip
    engine.dispose()
    markets.shopee.set_shop_options(NEW_SHOPEE_SHOP, name="Batik House Sinar")
    at = sqlite_app_as("admin", "connections")
    at.button(key=f"refresh_{stored.id}").click().run()
    assert not at.exception
    assert "Shopee · Batik House Sinar" in shop_titles(at)


def test_a_refused_refresh_is_shown_not_raised(
    markets: Markets, sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    # The seeded shop's refresh token was never issued by the simulator: the platform refuses it.
    shopee = connection_rows(sqlite_seeded_db)["1001"]
    at = sqlite_app_as("admin", "connections")
    at.button(key=f"refresh_{shopee.id}").click().run()
    assert not at.exception
    assert any("refused the token refresh" in e.value for e in at.error)
    assert "refresh-1001" not in " ".join(e.value for e in at.error)


def test_logistics_say_used_or_not_with_coloured_badges_not_emoji(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    shopee = connection_rows(sqlite_seeded_db)["1001"]
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        session.add(ShopPublishing(
            connection_id=shopee.id, fetched_at=utcnow(), logistics_channel_ids=[],
            channels=[{"channel_id": "2000", "name": "Standard Delivery", "enabled": True},
                      {"channel_id": "2001", "name": "Economy", "enabled": False}],
            locations=[{"location_id": "WH-1", "name": "Kuala Lumpur", "is_default": True}],
        ))  # fmt: skip
    engine.dispose()
    at = sqlite_app_as("editor", "connections")
    assert not at.exception
    text = card_text(at)
    assert "✅" not in text and "▫️" not in text
    # Without a choice the enabled channel and the default warehouse are used.
    assert ":green-badge[used] Standard Delivery" in text
    assert ":gray-badge[not used] Economy" in text and "disabled on the platform" in text
    assert ":green-badge[used] Kuala Lumpur" in text
