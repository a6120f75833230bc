# The OAuth callback routes end to end: platform simulator -> callback -> stored shop -> back to the app.
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from syncstore.db.engine import transaction
from syncstore.security import auth
from syncstore.settings import Settings
from syncstore.shops import oauth
from tests.syncstore.test_oauth import (
    APP_URL,
    CLI,
    KEY_SPEC,
    KEYRING,
    PUBLIC_URL,
    Market,
    assert_nothing_stored,
    audit_rows,
    decrypt,
    make_user,
    params_of,
    stored,
)
from webhook_receiver.oauth_routes import routes as oauth_routes

CONNECTIONS_PAGE = f"{APP_URL}/connections"


@pytest.fixture(params=["shopee", "tiktokshop"])
def market(request: pytest.FixtureRequest) -> Iterator[Market]:
    marketplace = Market(request.param)
    yield marketplace
    marketplace.stop()


def receiver(engine: sa.Engine | None, settings: Settings | None) -> Starlette:
    """A Starlette app mounting the OAuth routes, configured the way the receiver app does it."""
    app = Starlette(routes=list(oauth_routes))
    if engine is not None:
        app.state.engine = engine
    if settings is not None:
        app.state.settings = settings
    return app


def get(app: Starlette, url: str, *, browser: bool = True, cookies: httpx.Cookies | None = None) -> httpx.Response:
    """GET `url` on the receiver; `browser`: with the cookie the start route set in the browser that started it."""
    jar = httpx.Cookies(cookies)
    parts = urlsplit(url)
    if browser and parts.path.startswith("/oauth/") and parts.path.endswith("/callback"):
        platform = parts.path.split("/")[2]
        binding = oauth.browser_binding(params_of(url).get("state", ""), platform, KEYRING)
        jar.set(oauth.browser_cookie_name(platform), binding, domain=urlsplit(PUBLIC_URL).hostname or "")

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, cookies=jar) as client:
            return await client.get(url)

    return asyncio.run(go())


def redirected_to(response: httpx.Response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 303, response.text
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    return location.split("?", 1)[0], params_of(location)


def test_connecting_a_shop_end_to_end(engine: sa.Engine, market: Market, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    link = oauth.start_authorization(admin, market.platform, settings=settings)
    callback = market.approve(link)

    response = get(receiver(engine, settings), callback)

    page, query = redirected_to(response)
    assert (page, query) == (CONNECTIONS_PAGE, {"connected": f"{market.platform}:{market.shop_id}"})
    assert response.headers["location"] == f"{CONNECTIONS_PAGE}?connected={market.platform}:{market.shop_id}"
    [row] = stored(engine)
    accesses, refreshes = market.issued_tokens()
    assert (row.platform, row.shop_id, row.status) == (market.platform, market.shop_id, "connected")
    assert {decrypt(row, "access_token")} == accesses and {decrypt(row, "refresh_token")} == refreshes
    assert [a.action for a in audit_rows(engine)] == ["connection.save", "connection.authorize"]
    assert all(a.actor_id == admin.user_id for a in audit_rows(engine))
    assert market.webhooks() == market.expected_webhooks()

    # E5: no token in the redirect or anywhere in the log (SQL statements included).
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "platform_connections" in logs and "authorized" in logs  # the capture is real
    for token in accesses | refreshes:
        assert token not in logs and token not in response.headers["location"]
    # Our own log lines do not even carry the code or the state.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("syncstore", "webhook_receiver"))]
    secrets = (params_of(callback)["state"], params_of(callback)["code"])
    assert not [line for line in ours if any(secret in line for secret in secrets)]


def callback_with(platform: str, params: dict[str, str]) -> str:
    return f"{PUBLIC_URL}/oauth/{platform}/callback?{urlencode(params)}"


@pytest.mark.parametrize(
    "case",
    ["no_state", "tampered_state", "other_platform", "wrong_code", "no_code", "demoted", "duplicate_state",
     "not_configured", "replayed"],
)  # fmt: skip
def test_every_failure_goes_back_to_the_app_with_a_reason_and_stores_nothing(
    engine: sa.Engine, market: Market, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    callback = market.approve(oauth.start_authorization(admin, market.platform, settings=settings))
    params = params_of(callback)
    app = receiver(engine, settings)
    other = "tiktokshop" if market.platform == "shopee" else "shopee"
    url = callback
    expected = {
        "no_state": "invalid_state", "tampered_state": "invalid_state", "other_platform": "invalid_state",
        "wrong_code": "code_rejected", "no_code": "missing_code", "demoted": "permission_denied",
        "duplicate_state": "invalid_request", "not_configured": "not_configured", "replayed": "state_reused",
    }[case]  # fmt: skip
    if case == "no_state":
        url = callback_with(market.platform, {k: v for k, v in params.items() if k != "state"})
    elif case == "tampered_state":
        state = params["state"]
        url = callback_with(market.platform, {**params, "state": state[:-1] + ("A" if state[-1] != "A" else "B")})
    elif case == "other_platform":
        url = callback_with(other, params)
    elif case == "wrong_code":
        url = callback_with(market.platform, {**params, "code": "TTP_code_000"})
    elif case == "no_code":
        url = callback_with(market.platform, {**params, "code": ""})
    elif case == "demoted":
        make_user(engine, "second-admin@example.com", "admin")  # the last active admin cannot be demoted
        with transaction(engine) as session:
            auth.set_role(CLI, session, admin.user_id, "viewer")
    elif case == "duplicate_state":
        url = callback + "&" + urlencode({"state": params["state"]})
    elif case == "not_configured":
        keys = settings.encryption_keys
        app = receiver(engine, Settings(public_url=PUBLIC_URL, app_url=APP_URL, encryption_keys=keys))
    elif case == "replayed":
        assert redirected_to(get(app, callback))[1] == {"connected": f"{market.platform}:{market.shop_id}"}
        fresh = params_of(market.approve(oauth.start_authorization(admin, market.platform, settings=settings)))
        url = callback_with(market.platform, {**fresh, "state": params["state"]})
    assert url != callback or case in ("demoted", "not_configured")
    rows_before = [row.id for row in stored(engine)]

    response = get(app, url)

    assert redirected_to(response) == (CONNECTIONS_PAGE, {"error": expected})
    assert [row.id for row in stored(engine)] == rows_before
    location = response.headers["location"]
    assert params["state"] not in location and params["code"] not in location
    accesses, refreshes = market.issued_tokens()
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert not [token for token in accesses | refreshes if token in logs or token in location]
    assert f"refused ({expected})" in logs


def test_a_webhook_failure_still_connects_and_warns(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    callback = market.approve(oauth.start_authorization(admin, market.platform, settings=market.settings()))
    app = receiver(engine, market.settings(public_url="ftp://receiver.test"))

    response = get(app, callback)

    expected = {"connected": f"{market.platform}:{market.shop_id}", "warning": "webhooks"}
    assert redirected_to(response) == (CONNECTIONS_PAGE, expected)
    [row] = stored(engine)
    assert row.last_error is not None and "webhook registration failed" in row.last_error
    assert decrypt(row, "access_token") in market.issued_tokens()[0]


def test_without_app_state_the_configured_engine_and_settings_are_used() -> None:
    from syncstore.settings import get_settings

    state = KEYRING.encrypt('{"u":1,"n":"n","x":1}', table="oauth_state", row_id="shopee", column="state")
    response = get(receiver(None, None), f"{PUBLIC_URL}/oauth/shopee/callback?code=c&shop_id=1&state={state}")
    assert response.status_code == 303
    assert response.headers["location"] == f"{get_settings().app_url}/connections?error=invalid_state"


def test_only_get_is_routed() -> None:
    app = receiver(None, None)

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
            return await client.post("/oauth/shopee/callback")

    assert asyncio.run(post()).status_code == 405
    assert urlsplit(oauth.callback_url(Settings(public_url="https://r.example/"), "shopee")).path == (
        "/oauth/shopee/callback"
    )


# --- S7: the state is bound to the browser that started it ---------------------------------------


def browse(app: Starlette, link: str) -> tuple[httpx.Response, httpx.Cookies]:
    """Follow `link` like a browser (cookies kept) up to the app's page: the receiver in process, the platform real."""

    async def go() -> tuple[httpx.Response, httpx.Cookies]:
        mounts = {PUBLIC_URL: httpx.ASGITransport(app=app)}
        async with httpx.AsyncClient(mounts=mounts) as browser:
            url = link
            for _hop in range(6):
                response = await browser.get(url)
                assert response.is_redirect, (url, response.status_code, response.text)
                url = response.headers["location"]
                if url.startswith(APP_URL):
                    return response, browser.cookies
            raise AssertionError("too many redirects")

    return asyncio.run(go())


def test_a_callback_in_another_browser_is_refused_and_stores_nothing(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    app = receiver(engine, settings)
    link = oauth.start_authorization(admin, market.platform, settings=settings)
    # The Admin's link goes through the receiver, which marks the browser before sending it to the platform.
    assert link.startswith(f"{PUBLIC_URL}/oauth/{market.platform}/start?state=")
    started = get(app, link)
    assert started.status_code == 302 and started.headers["cache-control"] == "no-store"
    cookie = started.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and f"path=/oauth/{market.platform}/" in cookie
    assert params_of(link)["state"] not in cookie
    callback = market.approve(started.headers["location"])

    # Another browser (no cookie) arrives with the valid state and a good code: refused, nothing stored.
    response = get(app, callback, browser=False)

    assert redirected_to(response) == (CONNECTIONS_PAGE, {"error": "state_not_this_browser"})
    assert_nothing_stored(engine)
    # A cookie of another authorization does not open this one either.
    other = get(app, oauth.start_authorization(admin, market.platform, settings=settings))
    assert other.cookies
    response = get(app, callback, browser=False, cookies=other.cookies)
    assert redirected_to(response) == (CONNECTIONS_PAGE, {"error": "state_not_this_browser"})
    assert_nothing_stored(engine)
    assert market.code_exchanges() == 0


def test_the_browser_that_started_it_connects_the_shop(engine: sa.Engine, market: Market) -> None:
    admin = make_user(engine, "owner@example.com", "admin")
    settings = market.settings()
    app = receiver(engine, settings)

    response, cookies = browse(app, oauth.start_authorization(admin, market.platform, settings=settings))

    assert redirected_to(response) == (CONNECTIONS_PAGE, {"connected": f"{market.platform}:{market.shop_id}"})
    [row] = stored(engine)
    assert row.shop_id == market.shop_id
    assert not list(cookies.jar)  # the callback clears the cookie once it is spent


def test_a_start_with_a_bad_state_sets_no_cookie_and_goes_back_to_the_app(engine: sa.Engine) -> None:
    app = receiver(engine, Settings(public_url=PUBLIC_URL, app_url=APP_URL, encryption_keys=KEY_SPEC))
    response = get(app, f"{PUBLIC_URL}/oauth/shopee/start?state=v1:nope:AAAA")
    assert redirected_to(response) == (CONNECTIONS_PAGE, {"error": "invalid_state"})
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/oauth/nowhere/start?state=s", "/oauth/nowhere/callback?state=s&code=c"])
def test_a_platform_no_spec_is_registered_for_has_no_oauth_routes(engine: sa.Engine, path: str) -> None:
    """One route pair serves every registered platform; any other name is not found (as before: no route)."""
    settings = Settings(public_url=PUBLIC_URL, app_url=APP_URL, encryption_keys=KEY_SPEC)
    response = get(receiver(engine, settings), f"{PUBLIC_URL}{path}")
    assert response.status_code == 404
    assert "location" not in response.headers and "set-cookie" not in response.headers
