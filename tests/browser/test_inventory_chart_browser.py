# Browser test of the Inventory history chart: it draws a line of on hand over time (today: an empty chart, ".851").
"""The inventory history chart in a real browser (issue 18 item 6).

Only a browser shows whether Vega draws anything: the AppTests check the rows the chart receives,
this test checks that a variant with a single ledger row (the sample import's) draws a visible line
with readable time ticks, not an empty plot with one millisecond tick. Reuses the `server` and
`browser` fixtures of tests/browser/test_app_browser.py.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.browser.test_app_browser import WAIT_MS, _idle, _menu_link, _screenshot, _sign_in, browser, server

pytestmark = pytest.mark.slow
__all__ = ["browser", "server"]  # the imported fixtures, used by name

SKU = "KS-TEE00001-BLACK-L"  # one ledger row: the sample import's


def _coloured_pixels(png: bytes) -> int:
    """Pixels of a saturated colour (the line and its points; axes, grid and text are grey)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.getdata() if max(r, g, b) - min(r, g, b) > 80)


def test_the_history_chart_draws_a_line_with_readable_time_ticks(server: tuple[str, str], browser: object) -> None:
    assert isinstance(browser, Browser)
    base, _ = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "editor@example.com")
        _menu_link(page, "Inventory").click()
        expect(page.get_by_role("heading", name="Inventory", exact=True)).to_be_visible(timeout=WAIT_MS)
        search = page.get_by_role("textbox", name="Find variants")
        search.fill(SKU)
        search.press("Enter")
        _idle(page)
        chart = page.get_by_test_id("stVegaLiteChart").first
        expect(chart).to_be_visible(timeout=WAIT_MS)
        chart.scroll_into_view_if_needed()
        expect(chart.locator("svg text").first).to_be_attached(timeout=WAIT_MS)  # Vega has painted the axes
        page.wait_for_timeout(1000)
        _screenshot(page, "inventory-history-chart")
        drawn = _coloured_pixels(chart.screenshot())
        assert drawn > 300, f"the chart draws no line ({drawn} coloured pixels)"
        ticks = [text.strip() for text in chart.locator("svg text").all_text_contents()]
        # The x axis shows days and times ("07 Dec 22:00"), never a lone millisecond tick (".851").
        assert any(re.search(r"\d{2}:\d{2}", tick) for tick in ticks), ticks
        assert not any(re.fullmatch(r"\.\d{3}", tick) for tick in ticks), ticks
        expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        page.close()
