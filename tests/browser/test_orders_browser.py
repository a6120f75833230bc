# Browser smoke test of the Orders page: a viewer finds an order, its detail and the link to the seller centre.
"""The Orders page in Debian's Chromium, on the app server and browser of `test_app_browser` (its fixtures)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from connectors.base import OrderStatus
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import PlatformConnection, ProductVariant
from tests.browser.test_app_browser import WAIT_MS, _idle, _screenshot, _sign_in, browser, server  # noqa: F401
from tests.syncstore.orders.seen import line, remote_order, see

pytestmark = pytest.mark.slow


def _place_order(database_url: str) -> str:
    """A paid Shopee order with a bound line and an unknown one; the bound line's master SKU."""
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            shop = session.scalars(sa.select(PlatformConnection).where(PlatformConnection.platform == "shopee")).one()
            sku = session.scalars(sa.select(ProductVariant.sku).order_by(ProductVariant.id).limit(1)).one()
            connection_id, shop_id = shop.id, shop.shop_id
        see(engine, connection_id, remote_order(("shopee", shop_id), "2412BRW", OrderStatus.PAID,
                                                line("1", sku, 2), line("2", "NOT-A-SKU", 1)))  # fmt: skip
        return sku
    finally:
        engine.dispose()


# `server` and `browser` are the imported fixtures (pytest passes them by name).
def test_a_viewer_opens_an_order_and_its_seller_centre_link(server: tuple[str, str], browser: object) -> None:  # noqa: F811
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    base, database_url = server
    _place_order(database_url)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "viewer@example.com")
        page.get_by_role("link", name="Orders", exact=True).click()
        expect(page.get_by_role("heading", name="Orders", exact=True).first).to_be_visible(timeout=WAIT_MS)
        _idle(page)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_text(re.compile(r"^1 order\.$"))).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("2412BRW", exact=True).first).to_be_visible(timeout=WAIT_MS)
        link = page.get_by_role("link", name="Open in Shopee seller centre")
        expect(link).to_be_visible(timeout=WAIT_MS)
        assert "2412BRW" in (link.get_attribute("href") or "")
        expect(page.get_by_text("Ledger effects")).to_be_visible(timeout=WAIT_MS)
        _screenshot(page, "page-orders")
    finally:
        page.close()
