# Connecting a shop: the sealed state, the code exchange, encrypted storage, audit, webhooks (A1-A3, E5).
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from connectors import registry
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.codes import WEBHOOK_EVENT_TYPES
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, PlatformConnection
from syncstore.errors import PermissionDenied
from syncstore.security import auth, crypto
from syncstore.security.auth import Actor, Role
from syncstore.settings import Settings
from syncstore.shops import oauth
from syncstore.shops.marketplaces import MarketplaceNotConfigured

PARTNER_ID, PARTNER_KEY = 2001887, "sim-partner-key-0123456789"
APP_KEY, APP_SECRET, SERVICE_ID = "sim-app-key", "sim-app-secret-0123456789", "sim-service-77"
KEY_SPEC = crypto.generate_key("oauth")
KEYRING = crypto.Keyring.parse(KEY_SPEC)
PUBLIC_URL, APP_URL = "http://receiver.test", "http://app.test"
SHOPEE_SHOP, TIKTOK_SHOP = 100001, "7300001"
CLI = Actor.command_line()


class Market:
    """One simulated platform on loopback, and what the tests ask of it."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        if platform == "shopee":
            self.shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, auto_approve=True)
            self.url = self.shopee.start()
            self.shopee.add_shop(SHOPEE_SHOP, "Batik House")
            self.shop_id = str(SHOPEE_SHOP)
        else:
            self.tiktok = TikTokShopSimulator(
                app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID,
                redirect_url=f"{PUBLIC_URL}/oauth/tiktokshop/callback", auto_approve=True,
            )  # fmt: skip
            self.url = self.tiktok.start()
            self.cipher = self.tiktok.add_shop(TIKTOK_SHOP, "Kopi Corner", region="MY")
            self.shop_id = TIKTOK_SHOP

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "shopee_partner_id": PARTNER_ID, "shopee_partner_key": PARTNER_KEY, "shopee_host": self.url,
            "tiktokshop_app_key": APP_KEY, "tiktokshop_app_secret": APP_SECRET, "tiktokshop_service_id": SERVICE_ID,
            "tiktokshop_api_host": self.url, "tiktokshop_auth_host": self.url, "tiktokshop_authorize_host": self.url,
            "public_url": PUBLIC_URL, "app_url": APP_URL, "encryption_keys": KEY_SPEC,
        }  # fmt: skip
        values.update(overrides)
        return Settings(**values)

    def approve(self, link: str) -> str:
        """The seller opens the link and approves: where the platform sends the browser back.

        `link` is the receiver's start route (tested in tests/webhook_receiver/test_oauth_routes.py),
        whose redirect, the platform's page, is opened directly here; or that page itself.
        """
        platform_url = link
        if link.startswith(f"{PUBLIC_URL}/oauth/{self.platform}/start?state="):
            platform_url = oauth.platform_authorization_url(self.platform, params_of(link)["state"], self.settings())
        response = httpx.get(platform_url, follow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(f"{PUBLIC_URL}/oauth/{self.platform}/callback?")
        return location

    def issued_tokens(self) -> tuple[set[str], set[str]]:
        """Every (access, refresh) token the platform has handed out."""
        state = self.shopee.state if self.platform == "shopee" else self.tiktok.state
        return set(state.access_tokens), set(state.refresh_tokens)

    def code_exchanges(self) -> int:
        if self.platform == "shopee":
            return self.shopee.request_count("/api/v2/auth/token/get")
        return self.tiktok.requests("/api/v2/token/get")

    def webhooks(self) -> Any:
        if self.platform == "shopee":
            return self.shopee.state.push_url
        return self.tiktok.state.webhooks.get(TIKTOK_SHOP, {})

    def expected_webhooks(self, public_url: str = PUBLIC_URL) -> Any:
        url = f"{public_url}/webhooks/{self.platform}"
        return url if self.platform == "shopee" else dict.fromkeys(WEBHOOK_EVENT_TYPES, url)

    def stop(self) -> None:
        (self.shopee if self.platform == "shopee" else self.tiktok).stop()


@pytest.fixture(params=["shopee", "tiktokshop"])
def market(request: pytest.FixtureRequest) -> Iterator[Market]:
    marketplace = Market(request.param)
    yield marketplace
    marketplace.stop()


def make_user(engine: sa.Engine, email: str, role: str) -> Actor:
    with transaction(engine) as session:
        return Actor.from_user(auth.create_user(CLI, session, email=email, role=role, password=None))


def params_of(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))


def stored(engine: sa.Engine) -> list[PlatformConnection]:
    with transaction(engine) as session:
        return list(session.scalars(sa.select(PlatformConnection).order_by(PlatformConnection.id)))


def audit_rows(engine: sa.Engine) -> list[AuditLog]:
    with transaction(engine) as session:
        return list(session.scalars(sa.select(AuditLog).where(AuditLog.action != "user.create")))


def decrypt(connection: PlatformConnection, column: str) -> str:
    value = getattr(connection, column)
    return KEYRING.decrypt(value, table="platform_connections", row_id=connection.id, column=column)


def complete(engine: sa.Engine, platform: str, params: dict[str, str], **kwargs: Any) -> list[PlatformConnection]:
    """`complete_authorization` from the browser that started it (its cookie: the state's browser binding)."""
    binding = oauth.browser_binding(params.get("state", ""), platform, KEYRING)
    return oauth.complete_authorization(engine, platform, params, browser_binding=binding, **kwargs)


def assert_nothing_stored(engine: sa.Engine) -> None:
    assert stored(engine) == []
    assert audit_rows(engine) == []


# --- starting -------------------------------------------------------------------------------


def test_the_link_is_the_platforms_own_with_a_sealed_state(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    start = oauth.start_authorization(admin, market.platform, settings=market.settings(), keyring=KEYRING)
    # The link goes through the receiver's start route (S7), which redirects to the platform's page.
    assert start.startswith(f"{PUBLIC_URL}/oauth/{market.platform}/start?state=")
    link, binding = oauth.begin_in_browser(
        market.platform, params_of(start)["state"], settings=market.settings(), keyring=KEYRING
    )
    assert binding == binding.strip() and params_of(start)["state"] not in binding
    query = params_of(link)
    if market.platform == "shopee":
        assert link.startswith(f"{market.url}/api/v2/shop/auth_partner?")
        assert set(query) == {"partner_id", "timestamp", "sign", "redirect"}
        redirect = query["redirect"]
        assert redirect.startswith(f"{PUBLIC_URL}/oauth/shopee/callback?state=")
        state = params_of(redirect)["state"]
    else:
        assert link.startswith(f"{market.url}/open/authorize?")
        assert set(query) == {"service_id", "state"} and query["service_id"] == SERVICE_ID
        state = query["state"]
    assert state.startswith(f"v1:{KEYRING.primary_key_id}:")
    # Nothing secret, and not even who asked, readable in the link.
    for secret in (PARTNER_KEY, APP_SECRET, KEY_SPEC.split(":", 1)[1], "owner@example.com"):
        assert secret not in link
    assert state == params_of(start)["state"]
    assert oauth.verify_state(state, market.platform, KEYRING, now=time.time()).user_id == admin.user_id
    # Two links never share a state.
    again = oauth.start_authorization(admin, market.platform, settings=market.settings(), keyring=KEYRING)
    assert again != start


def test_a_callback_from_another_browser_is_refused_before_the_code_is_spent(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    params = params_of(market.approve(oauth.start_authorization(admin, market.platform, settings=settings)))
    other = params_of(market.approve(oauth.start_authorization(admin, market.platform, settings=settings)))
    forged = KEYRING.encrypt("0" * 64, table="oauth_browser", row_id=market.platform, column="state")
    for binding in (None, "", "garbage", oauth.browser_binding(other["state"], market.platform, KEYRING), forged):
        with pytest.raises(oauth.OAuthStateError) as caught:
            oauth.complete_authorization(engine, market.platform, params, browser_binding=binding, settings=settings)
        assert caught.value.reason == "state_not_this_browser"
        assert params["state"] not in str(caught.value)
    assert_nothing_stored(engine)
    assert market.code_exchanges() == 0
    # The browser that started it still completes it.
    [connection] = complete(engine, market.platform, params, settings=settings)
    assert connection.shop_id == market.shop_id


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_an_admin_may_start_an_authorization(engine: sa.Engine, role: str) -> None:
    actor = make_user(engine, f"{role}@example.com", role)
    settings = Settings(shopee_partner_id=PARTNER_ID, shopee_partner_key=PARTNER_KEY, encryption_keys=KEY_SPEC)
    for platform in registry.names():
        with pytest.raises(PermissionDenied):
            oauth.start_authorization(actor, platform, settings=settings, keyring=KEYRING)
    with pytest.raises(PermissionDenied, match="sign in"):
        oauth.start_authorization(None, "shopee", settings=settings, keyring=KEYRING)
    # The command line is an Admin but no user the callback could act for.
    with pytest.raises(PermissionDenied, match="signed-in Admin"):
        oauth.start_authorization(CLI, "shopee", settings=settings, keyring=KEYRING)


def test_an_unconfigured_platform_says_so() -> None:
    admin = Actor(user_id=1, label="a@example.com", role=Role.ADMIN)
    with pytest.raises(MarketplaceNotConfigured, match="SYNCSTORE_SHOPEE_PARTNER_ID"):
        oauth.start_authorization(admin, "shopee", settings=Settings(), keyring=KEYRING)
    with pytest.raises(MarketplaceNotConfigured, match="SYNCSTORE_TIKTOKSHOP_APP_KEY"):
        oauth.start_authorization(admin, "tiktokshop", settings=Settings(), keyring=KEYRING)


def test_start_authorization_is_a_declared_mutation() -> None:
    assert auth.MUTATIONS["syncstore.shops.oauth.start_authorization"] is auth.Permission.CONNECTIONS_MANAGE


# --- completing -----------------------------------------------------------------------------


def test_completion_stores_encrypted_tokens_audits_and_registers_webhooks(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    location = market.approve(oauth.start_authorization(admin, market.platform, settings=settings, keyring=KEYRING))

    [connection] = complete(engine, market.platform, params_of(location), settings=settings)

    [row] = stored(engine)
    assert (row.id, row.platform, row.shop_id, row.status, row.last_error) == (
        connection.id, market.platform, market.shop_id, "connected", None,
    )  # fmt: skip
    accesses, refreshes = market.issued_tokens()
    assert accesses == {decrypt(row, "access_token")} and refreshes == {decrypt(row, "refresh_token")}
    assert row.access_token not in accesses and row.refresh_token not in refreshes  # stored encrypted
    assert row.access_token_expires_at is not None and row.refresh_token_expires_at is not None
    if market.platform == "tiktokshop":
        assert (row.shop_name, row.region, row.shop_cipher) == ("Kopi Corner", "MY", market.cipher)
    assert market.webhooks() == market.expected_webhooks()

    save, authorize = audit_rows(engine)
    assert (save.action, save.actor_id, save.actor_label) == ("connection.save", admin.user_id, admin.label)
    assert (authorize.action, authorize.actor_id, authorize.entity_type) == (
        "connection.authorize", admin.user_id, "oauth_state",
    )  # fmt: skip
    assert authorize.after == {"platform": market.platform, "shop_ids": [market.shop_id], "connection_ids": [row.id]}
    audit_text = json.dumps([save.before, save.after, authorize.after])
    assert not any(token in audit_text for token in accesses | refreshes)


def test_connecting_the_same_shop_again_updates_its_row(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    for _ in range(2):
        location = market.approve(oauth.start_authorization(admin, market.platform, settings=settings, keyring=KEYRING))
        complete(engine, market.platform, params_of(location), settings=settings)
    [row] = stored(engine)
    assert decrypt(row, "access_token") in market.issued_tokens()[0]
    assert [a.action for a in audit_rows(engine)].count("connection.authorize") == 2


@pytest.mark.parametrize("change", ["demoted", "deactivated"])
def test_a_state_of_a_user_no_longer_admin_is_refused_before_the_code_is_spent(
    engine: sa.Engine, market: Market, change: str
) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    make_user(engine, "second-admin@example.com", "admin")  # the last active admin cannot be demoted
    settings = market.settings()
    location = market.approve(oauth.start_authorization(admin, market.platform, settings=settings, keyring=KEYRING))
    with transaction(engine) as session:
        if change == "demoted":
            auth.set_role(CLI, session, admin.user_id, "editor")
        else:
            auth.deactivate_user(CLI, session, admin.user_id)
    before = [row.id for row in audit_rows(engine)]

    with pytest.raises(PermissionDenied):
        complete(engine, market.platform, params_of(location), settings=settings)
    assert stored(engine) == [] and [row.id for row in audit_rows(engine)] == before
    assert market.code_exchanges() == 0


def states(market: Market, admin: Actor, *, now: float, keyring: crypto.Keyring = KEYRING) -> dict[str, str]:
    """A real callback's params, for a state minted at `now`."""
    link = oauth.start_authorization(
        admin, market.platform, settings=market.settings(), keyring=keyring, clock=lambda: now
    )
    return params_of(market.approve(link))


def test_tampered_expired_foreign_and_misused_states_are_refused(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    minted = time.time()
    params = states(market, admin, now=minted)
    state = params["state"]
    other = "tiktokshop" if market.platform == "shopee" else "shopee"

    def refused(
        candidate: dict[str, str], reason: str, *, now: float = minted, platform: str = market.platform
    ) -> None:
        with pytest.raises(oauth.OAuthStateError) as caught:
            complete(engine, platform, candidate, settings=settings, clock=lambda: now)
        assert caught.value.reason == reason
        assert state not in str(caught.value) and params["code"] not in str(caught.value)

    head, payload = state.rsplit(":", 1)
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    refused({**params, "state": f"{head}:{flipped}"}, "invalid_state")
    refused({**params, "state": state[:-2]}, "invalid_state")
    refused({**params, "state": ""}, "invalid_state")
    refused({k: v for k, v in params.items() if k != "state"}, "invalid_state")
    refused({**params, "state": "x" * 5000}, "invalid_state")
    # Minted for one platform, presented at the other's callback.
    refused(params, "invalid_state", platform=other)
    # Ten minutes later it has expired (one second earlier it had not: checked below by completing it).
    refused(params, "expired_state", now=minted + oauth.STATE_TTL_S)
    # A state sealed by another installation's keyring.
    foreign = states(market, admin, now=minted, keyring=crypto.Keyring.parse(crypto.generate_key("oauth")))
    refused(foreign, "invalid_state")
    # A stored token's ciphertext is no state (single purpose), even under the same key.
    plaintext = json.dumps({"u": admin.user_id, "n": "n", "x": int(minted) + 60})
    token = KEYRING.encrypt(plaintext, table="platform_connections", row_id=1, column="access_token")
    refused({**params, "state": token}, "invalid_state")
    assert_nothing_stored(engine)
    assert market.code_exchanges() == 0

    complete(engine, market.platform, params, settings=settings, clock=lambda: minted + oauth.STATE_TTL_S - 1)
    assert len(stored(engine)) == 1


def test_a_state_made_before_a_key_rotation_still_completes(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    params = states(market, admin, now=time.time())
    rotated_spec = f"{crypto.generate_key('newer')},{KEY_SPEC}"
    settings = market.settings(encryption_keys=rotated_spec)
    complete(engine, market.platform, params, settings=settings)
    [row] = stored(engine)
    assert row.access_token is not None and row.access_token.startswith("v1:newer:")


def test_a_replayed_state_is_refused_even_with_a_fresh_code(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    link = oauth.start_authorization(admin, market.platform, settings=settings, keyring=KEYRING)
    first, second = params_of(market.approve(link)), params_of(market.approve(link))
    assert first["state"] == second["state"] and first["code"] != second["code"]

    complete(engine, market.platform, first, settings=settings)
    with pytest.raises(oauth.OAuthStateError) as caught:
        complete(engine, market.platform, second, settings=settings)
    assert caught.value.reason == "state_reused"
    assert market.code_exchanges() == 1  # refused before the second code was spent
    with pytest.raises(oauth.OAuthStateError):
        complete(engine, market.platform, first, settings=settings)
    assert len(stored(engine)) == 1


def test_two_callbacks_racing_with_one_state_store_once(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    link = oauth.start_authorization(admin, market.platform, settings=settings, keyring=KEYRING)
    attempts = [params_of(market.approve(link)) for _ in range(4)]
    barrier, outcomes = threading.Barrier(len(attempts)), []

    def attempt(params: dict[str, str]) -> None:
        barrier.wait()
        try:
            complete(engine, market.platform, params, settings=settings)
            outcomes.append("stored")
        except oauth.OAuthStateError as error:
            outcomes.append(error.reason)

    threads = [threading.Thread(target=attempt, args=(params,)) for params in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["state_reused"] * 3 + ["stored"]
    assert len(stored(engine)) == 1
    assert [a.action for a in audit_rows(engine)].count("connection.authorize") == 1


def test_a_code_the_platform_refuses_stores_nothing(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    params = params_of(market.approve(oauth.start_authorization(admin, market.platform, settings=settings)))
    wrong = {**params, "code": "not-the-code-" + params["code"][:4]}
    with pytest.raises(oauth.OAuthError) as caught:
        complete(engine, market.platform, wrong, settings=settings)
    assert caught.value.reason == "code_rejected" and wrong["code"] not in str(caught.value)
    with pytest.raises(oauth.OAuthError) as caught:
        complete(engine, market.platform, {**params, "code": ""}, settings=settings)
    assert caught.value.reason == "missing_code"
    assert_nothing_stored(engine)
    # The state was not used up by the failure: the right code still completes.
    complete(engine, market.platform, params, settings=settings)
    assert len(stored(engine)) == 1


def test_shopee_callback_without_a_shop_is_refused(engine: sa.Engine) -> None:
    market = Market("shopee")
    try:
        admin = make_user(engine, "owner@example.com", "admin")
        settings = market.settings()
        params = params_of(market.approve(oauth.start_authorization(admin, "shopee", settings=settings)))
        for bad, reason in (
            ({"shop_id": ""}, "invalid_request"),
            ({"shop_id": "12a"}, "invalid_request"),
            ({"shop_id": "", "main_account_id": "55"}, "main_account_unsupported"),
        ):
            with pytest.raises(oauth.OAuthError) as caught:
                complete(engine, "shopee", {**params, **bad}, settings=settings)
            assert caught.value.reason == reason
        assert_nothing_stored(engine)
        assert market.code_exchanges() == 0
    finally:
        market.stop()


def test_a_webhook_registration_failure_keeps_the_tokens(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    params = params_of(market.approve(oauth.start_authorization(admin, market.platform, settings=market.settings())))
    # The platform refuses a webhook address that is not http(s): registration fails after the tokens are stored.
    settings = market.settings(public_url="ftp://receiver.test")

    [connection] = complete(engine, market.platform, params, settings=settings)

    assert connection.last_error is not None and connection.last_error.startswith("webhook registration failed")
    [row] = stored(engine)
    assert (row.status, row.last_error) == ("connected", connection.last_error)
    accesses, refreshes = market.issued_tokens()
    assert decrypt(row, "access_token") in accesses and decrypt(row, "refresh_token") in refreshes
    assert not any(token in row.last_error for token in accesses | refreshes)
    assert not market.webhooks()


@pytest.mark.parametrize("flag", ["is_cnsc", "is_cb"])
def test_a_cross_border_shopee_shop_is_refused_with_the_reason_and_nothing_is_stored(
    engine: sa.Engine, flag: str
) -> None:
    """CNSC/KRSC shops write stock through global_product; connecting one would fail every stock write."""
    market = Market("shopee")
    try:
        market.shopee.set_shop_options(SHOPEE_SHOP, **{flag: True})
        admin = make_user(engine, "owner@example.com", "admin")
        link = oauth.start_authorization(admin, "shopee", settings=market.settings())
        params = params_of(market.approve(link))
        with pytest.raises(oauth.OAuthError) as refused:
            complete(engine, "shopee", params, settings=market.settings())
        assert refused.value.reason == "cross_border_unsupported"
        assert "cross-border" in str(refused.value) and "Connect a local shop" in str(refused.value)
        assert stored(engine) == []
    finally:
        market.stop()


def test_the_connection_keeps_the_region_the_platform_reports(engine: sa.Engine, market: Market) -> None:
    """The region decides price decimals (Shopee) and title lengths (TikTok Shop) in every dry run."""
    if market.platform == "shopee":
        market.shopee.set_shop_options(SHOPEE_SHOP, region="ID")
    admin = make_user(engine, "owner@example.com", "admin")
    params = params_of(market.approve(oauth.start_authorization(admin, market.platform, settings=market.settings())))
    [connection] = complete(engine, market.platform, params, settings=market.settings())
    assert connection.region == ("ID" if market.platform == "shopee" else "MY")
    assert connection.cross_border is False
