# Browser test of the app's sessions: a reload or a new tab keeps the user signed in; sign-out and deactivation end it.
"""Sessions in a real browser (issue 18 item 2).

Reuses tests/browser/test_app_browser.py's `server` (`streamlit run streamlit_app/syncstore_app.py`
over a seeded SQLite database) and `browser` (Debian's chromium) fixtures. Each test has its own
browser context (its own cookie jar), as a person with their own browser would.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect

from streamlit_app.session_cookie import COOKIE_NAME
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import User, UserSession
from syncstore.security import auth
from syncstore.security.auth import Actor
from tests.browser.test_app_browser import WAIT_MS, _idle, _sign_in, browser, server
from tests.streamlit_app.conftest import EMAILS

pytestmark = pytest.mark.slow
__all__ = ["browser", "server"]  # the imported fixtures, used by name


def _context(browser: object) -> BrowserContext:
    assert isinstance(browser, Browser)
    return browser.new_context(viewport={"width": 1440, "height": 1000})


def _session_cookie(context: BrowserContext) -> dict[str, object]:
    """The session cookie once the signed-in page has fetched it (it arrives a moment after the page)."""
    for _ in range(100):
        found = [c for c in context.cookies() if c.get("name") == COOKIE_NAME]
        if found:
            return dict(found[0])
        context.pages[0].wait_for_timeout(100)
    raise AssertionError(f"no {COOKIE_NAME} cookie after signing in: {context.cookies()}")


def _signed_in_on(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=WAIT_MS)


def _sign_in_form(page: Page) -> None:
    expect(page.get_by_role("textbox", name="E-mail")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_reload_and_a_new_tab_keep_the_user_signed_in_until_sign_out(
    server: tuple[str, str], browser: object
) -> None:
    base, database_url = server
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, EMAILS[auth.Role.ADMIN])
        cookie = _session_cookie(context)
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
        assert cookie["path"] == "/"
        # Never the password, a role or the e-mail in the cookie; only a digest of it in the database.
        value = str(cookie["value"])
        assert "admin" not in value.lower() and len(value) >= 40
        engine = create_engine(database_url)
        try:
            with transaction(engine) as session:
                stored = session.scalars(sa.select(UserSession.token_hash)).all()
        finally:
            engine.dispose()
        assert value not in stored and any(stored)

        page.reload()
        _signed_in_on(page, "Overview")

        tab = context.new_page()
        tab.goto(f"{base}/connections")
        _signed_in_on(tab, "Connections")

        # The OAuth callback's return: Connections, signed in, with the message.
        tab.goto(f"{base}/connections?connected=shopee:100001")
        _signed_in_on(tab, "Connections")
        expect(tab.get_by_text("Connected Shopee shop 100001.")).to_be_visible(timeout=WAIT_MS)
        expect(tab.get_by_text("Page not found")).to_have_count(0)

        page.get_by_role("button", name="Sign out").click()
        _sign_in_form(page)
        page.reload()
        _sign_in_form(page)
        # The other tab's next interaction shows the sign-in form too: the session ended server side.
        tab.reload()
        _sign_in_form(tab)
    finally:
        context.close()


def test_a_link_opened_signed_out_shows_the_sign_in_then_that_page(server: tuple[str, str], browser: object) -> None:
    base, _ = server
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(f"{base}/connections?connected=shopee:100001")
        _sign_in_form(page)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        page.get_by_role("textbox", name="E-mail").fill(EMAILS[auth.Role.ADMIN])
        from tests.streamlit_app.conftest import PASSWORD

        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        _signed_in_on(page, "Connections")
        expect(page.get_by_text("Connected Shopee shop 100001.")).to_be_visible(timeout=WAIT_MS)
        assert re.search(r"/connections\?connected=", page.url)
    finally:
        context.close()


def _deactivate(database_url: str, email: str) -> None:
    """What the Admin page's "Deactivate" does: the core's deactivate_user, by an Admin."""
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            admin = session.scalars(sa.select(User).where(User.email == EMAILS[auth.Role.ADMIN])).one()
            user = session.scalars(sa.select(User).where(User.email == email)).one()
            auth.deactivate_user(Actor.from_user(admin), session, user.id)
    finally:
        engine.dispose()


def test_a_deactivated_user_is_signed_out_at_the_next_click_and_reload(
    server: tuple[str, str], browser: object
) -> None:
    base, database_url = server
    email = EMAILS[auth.Role.VIEWER]
    context = _context(browser)
    try:
        page = context.new_page()
        _sign_in(page, base, email)
        _session_cookie(context)
        tab = context.new_page()
        tab.goto(f"{base}/inventory")
        _signed_in_on(tab, "Inventory")

        _deactivate(database_url, email)

        page.get_by_role("link", name="Connections").click()
        _idle(page)
        _sign_in_form(page)
        tab.reload()
        _sign_in_form(tab)
    finally:
        context.close()
