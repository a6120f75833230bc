# Browser test of the Products table at 1440x900: price, stock and channel status visible without scrolling sideways.
"""The Products table's layout in a real browser (issue 18 item 6).

Reuses tests/browser/test_app_browser.py's `server` (`streamlit run` over a seeded SQLite database)
and `browser` (Debian's chromium) fixtures. At a 1440x900 window the table's grid must not scroll
sideways (its scroll width fits its client width) and it must reach the bottom of the window (it uses
the page's height rather than a small box with its own scroll bar).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_app_browser import WAIT_MS, _idle, _menu_link, _screenshot, _sign_in, browser, server

pytestmark = pytest.mark.slow
__all__ = ["browser", "server"]  # the imported fixtures, used by name


def test_products_table_fits_1440_and_fills_the_page(server: tuple[str, str], browser: object) -> None:
    assert isinstance(browser, Browser)
    base, _ = server
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        _sign_in(page, base, "viewer@example.com")
        _menu_link(page, "Products").click()
        expect(page.get_by_role("heading", name="Products")).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("combobox", name="Platform").click()  # the listed products: status pills in every row
        page.get_by_role("option", name="Shopee").click()
        _idle(page)
        table = page.get_by_test_id("stDataFrame")
        expect(table).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("combobox", name="Platform").click()
        page.get_by_role("option", name="All").click()
        _idle(page)
        expect(page.get_by_text("254 products · page 1 of 6")).to_be_visible(timeout=WAIT_MS)
        page.wait_for_timeout(1000)  # the grid paints on a canvas a moment after the run
        _screenshot(page, "products-layout-1440")
        grid = table.locator(".dvn-scroller").first
        sizes = grid.evaluate("e => ({scroll: e.scrollWidth, client: e.clientWidth})")
        assert sizes["scroll"] <= sizes["client"], f"the table scrolls sideways at 1440 px: {sizes}"
        headers = table.locator('[role="columnheader"]').all_inner_texts()
        for name in ("Base price", "Stock", "Channel status"):
            assert any(name in header for header in headers), (name, headers)
        box = table.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] >= 900, f"the table stops at {box['y'] + box['height']:.0f} px of 900"
        assert box["height"] >= 50 * 40, "the page's 50 rows are shown at once"
    finally:
        page.close()
