# Browser smoke test: `streamlit run` on loopback, driven in Debian's Chromium with Playwright, as a merchant would.
"""The app in a real browser.

Starts `streamlit run streamlit_app/syncstore_app.py` on 127.0.0.1 against a seeded SQLite database
(sample catalog, one user per role, two shops), then, in headless Chromium: signs in, filters
the products, opens a product, edits its price, previews the sync plan, saves, and visits every
page as an admin. A PNG of each page goes to test-artifacts/browser/ (and to
$SYNCSTORE_SCREENSHOTS_DIR when set, e.g. docs/screenshots for the README).

Needs /usr/bin/chromium (Debian's `chromium` package); never downloads a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import MasterProduct
from tests.conftest import IN_CI
from tests.streamlit_app.conftest import PASSWORD, seed_database

ROOT = Path(__file__).resolve().parents[2]
# Git-ignored (.gitignore: test-artifacts/); CI can keep the folder as the run's artifact.
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("SYNCSTORE_CHROMIUM", "/usr/bin/chromium"))
START_TIMEOUT_S = 60
# Streamlit renders asynchronously: every wait is for something a person would see.
WAIT_MS = 30_000

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A running app on loopback over a seeded database; yields (base URL, database URL)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{workdir / 'syncstore.db'}"
    seed_database(database_url)
    port = _free_port()
    env = {
        **os.environ,
        "SYNCSTORE_DATABASE_URL": database_url,
        "SYNCSTORE_DATA_DIR": os.environ["SYNCSTORE_DATA_DIR"],
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log = (workdir / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app" / "syncstore_app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--global.developmentMode", "false", "--client.toolbarMode", "minimal"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start:\n{(workdir / 'streamlit.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, database_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


def _screenshot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    _idle(page)
    # Skeletons stand in for elements still loading; tables paint on a canvas a moment later.
    page.locator('[data-testid="stSkeleton"]').first.wait_for(state="detached", timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.wait_for_timeout(1000)  # type: ignore[attr-defined]
    page.screenshot(path=str(target), full_page=True)  # type: ignore[attr-defined]
    extra = os.environ.get("SYNCSTORE_SCREENSHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(extra) / target.name)


def _sign_in(page: object, base: str, email: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(base)
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=WAIT_MS)  # the landing page


def _menu_link(page: object, title: str) -> object:
    """The menu's link to a page, with or without the count needing action that follows its title ("Conflicts (2)")."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    return page.get_by_role("link", name=re.compile(rf"^{re.escape(title)}( \(\d[\d,]*\))?$"))


def _idle(page: object) -> None:
    """Wait until Streamlit has finished the current run (its status widget disappears)."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=WAIT_MS)


def _product(database_url: str, product_id: int) -> MasterProduct:
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            return session.scalars(sa.select(MasterProduct).where(MasterProduct.id == product_id)).one()
    finally:
        engine.dispose()


def test_an_editor_filters_edits_a_price_previews_and_saves(server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    base, database_url = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "editor@example.com")
        page.get_by_role("link", name="Products", exact=True).click()
        expect(page.get_by_role("heading", name="Products")).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=WAIT_MS)
        _screenshot(page, "01-products")

        page.get_by_role("textbox", name="Search").fill("boxy tee")
        page.get_by_role("textbox", name="Search").press("Enter")
        _idle(page)
        expect(page.get_by_text(re.compile(r"^\d+ products? · page 1 of 1 · filtered$"))).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=WAIT_MS)
        _screenshot(page, "02-products-filtered")

        # The editor of product 1 (listed on both demo shops), through the app's own navigation.
        page.get_by_role("link", name="Product editor").click()
        page.get_by_role("textbox", name="Find a product").fill("KS-TEE00001-BLACK-S")
        page.get_by_role("textbox", name="Find a product").press("Enter")
        _idle(page)
        page.get_by_role("button", name="Edit this product").click()
        expect(page.get_by_role("heading", name="Product editor")).to_be_visible(timeout=WAIT_MS)
        _idle(page)
        price = page.get_by_role("textbox", name=re.compile(r"^Base price"))
        price.fill("72.50")
        page.get_by_role("tab", name="Preview sync").click()
        page.get_by_role("button", name="Preview sync").click()
        _idle(page)
        plan = page.get_by_text(re.compile(r"Demo Shopee MY: \d+ changes?, \d+ API calls?")).filter(visible=True).first
        expect(plan).to_be_visible(timeout=WAIT_MS)
        _screenshot(page, "03-editor-preview")

        page.get_by_role("tab", name="Details, variants and stock").click()
        page.get_by_role("button", name="Save").click()
        _idle(page)
        expect(page.get_by_text(re.compile(r"version 2 · updated"))).to_be_visible(timeout=WAIT_MS)
        page.get_by_role("tab", name="Preview sync").click()
        expect(page.get_by_text(re.compile(r"Demo TikTok MY: \d+ changes?")).filter(visible=True).first).to_be_visible(
            timeout=WAIT_MS
        )
        # After the save the preview follows the saved product (its tables, drawn on a canvas, are checked by AppTest).
        expect(
            page.get_by_role("tabpanel", name="Preview sync").get_by_text("No edits yet: this is what")
        ).to_be_visible(timeout=WAIT_MS)
        _screenshot(page, "04-editor-saved-plan")
        assert _product(database_url, 1).base_price == Decimal("72.50")
    finally:
        page.close()


PAGES = ["Overview", "Products", "Product editor", "Bulk edit", "Inventory", "Connections", "Sync activity",
         "Conflicts", "Webhooks", "Rules", "Admin", "New product", "Import and export", "Categories",
         "Publish to shops", "Listings"]  # fmt: skip


def test_every_page_opens_for_an_admin(server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    base, _ = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "admin@example.com")
        for number, title in enumerate(PAGES, start=1):
            _menu_link(page, title).click()  # type: ignore[attr-defined]
            expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=WAIT_MS)
            _idle(page)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            _screenshot(page, f"page-{number:02d}-{title.lower().replace(' ', '-')}")
    finally:
        page.close()


def test_a_viewer_gets_no_edit_controls(server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    base, _ = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "viewer@example.com")
        expect(page.get_by_role("link", name="Bulk edit")).to_have_count(0)
        expect(page.get_by_role("link", name="Admin")).to_have_count(0)
        _menu_link(page, "Inventory").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name="Inventory")).to_be_visible(timeout=WAIT_MS)
        _idle(page)
        expect(page.get_by_text(re.compile("Read only: your role \\(viewer\\)")).first).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    finally:
        page.close()


def _bar_pixels(png: bytes, colour: tuple[int, int, int]) -> int:
    """How many pixels of a screenshot are (close to) `colour`."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    close = 0
    for x in range(width):
        for y in range(height):
            pixel = image.getpixel((x, y))
            assert isinstance(pixel, tuple)
            if all(abs(int(channel) - wanted) <= 12 for channel, wanted in zip(pixel, colour, strict=True)):
                close += 1
    return close


def test_the_overview_is_the_landing_page_with_its_chart_and_menu_counts(
    server: tuple[str, str], browser: object
) -> None:
    """Signed in, a merchant lands on the Overview: the activity chart draws its bars, the menu shows the counts."""
    from playwright.sync_api import Browser, expect

    from syncstore.db.models import PlatformConnection, ProductConflict, SyncLog
    from syncstore.db.types import utcnow

    assert isinstance(browser, Browser)
    base, database_url = server
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            shop = session.scalars(sa.select(PlatformConnection).order_by(PlatformConnection.id)).first()
            assert shop is not None
            for minutes, status in ((20, "success"), (50, "success"), (70, "failed"), (200, "success")):
                session.add(SyncLog(connection_id=shop.id, platform=shop.platform, operation="update_stock",
                                    status=status, created_at=utcnow() - timedelta(minutes=minutes)))  # fmt: skip
            session.add(ProductConflict(conflict_key="browser-overview", connection_id=shop.id,
                                        platform=shop.platform, field="title"))  # fmt: skip
    finally:
        engine.dispose()
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "admin@example.com")
        _idle(page)
        # The app's reads are cached for up to 30 s (ui.READ_TTL_SECONDS): an earlier test may have read the
        # counts before the rows above were written. Open the Overview again until they show.
        # The editor test above may have logged changes of its own: at least the four written here.
        logged = page.get_by_text(re.compile(r"^\d+ changes logged · 1 failed$"))
        conflicts = page.get_by_role("link", name="Conflicts (1)")
        deadline = time.monotonic() + 75
        while not (conflicts.count() and logged.count()) and time.monotonic() < deadline:
            page.wait_for_timeout(3000)
            _menu_link(page, "Overview").click()  # type: ignore[attr-defined]
            _idle(page)
        expect(conflicts).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("link", name="Sync activity (1)")).to_be_visible(timeout=WAIT_MS)
        expect(logged).to_be_visible(timeout=WAIT_MS)
        assert int((logged.text_content() or "0").split()[0]) >= 4
        chart = page.get_by_test_id("stVegaLiteChart").first
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible(timeout=WAIT_MS)
        page.wait_for_timeout(1000)  # vega draws after the element appears
        png = chart.screenshot()
        assert _bar_pixels(png, (0x21, 0xC3, 0x54)) > 50, "no green (succeeded) bar drawn"
        assert _bar_pixels(png, (0xFF, 0x4B, 0x4B)) > 20, "no red (failed) bar drawn"
        _screenshot(page, "00-overview")
        page.get_by_role("link", name="Resolve").click()
        expect(page.get_by_role("heading", name="Conflicts")).to_be_visible(timeout=WAIT_MS)
    finally:
        page.close()
