# Browser test of issue 16: create a product in the app, map its category, publish it to both simulators; CSV import.
"""Publishing in a real browser.

Both simulators run in this process (one shop each, as `bench.api_calls.Marketplaces` starts them);
`streamlit run streamlit_app/app.py` runs on 127.0.0.1 over a fresh SQLite database holding an
Editor and the two connected shops, with the simulators' hosts and keys in its environment.
Headless Debian Chromium (Playwright) then, as an Editor:

1. creates a product with two variants (Colour: Silver, Black) and an uploaded image, in a new
   master category "Watches";
2. on the Categories page, refreshes each platform's tree from its shop, maps "Watches" to the
   platform's Watches category and sets its mandatory attribute "Watch Movement";
3. on Publish to shops, checks what will be sent, publishes, and the product is then live on both
   simulators (with the uploaded image's platform id, never a URL);
4. imports a CSV with bad rows in strict mode: each bad row is reported by line, nothing imported.

Needs /usr/bin/chromium (Debian's `chromium` package); never downloads a browser.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bench.api_calls import SHOPEE_SHOP, TIKTOK_SHOP, Marketplaces
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import MasterProduct
from syncstore.security import auth, crypto
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections
from tests.conftest import IN_CI
from tests.streamlit_app.conftest import PASSWORD
from tests.syncstore.test_importer import csv_text, product

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("SYNCSTORE_CHROMIUM", "/usr/bin/chromium"))
START_TIMEOUT_S = 60
WAIT_MS = 30_000
EDITOR = "editor@example.com"
TITLE = "Browser quartz watch with a steel band"

pytestmark = pytest.mark.slow


@dataclass
class System:
    base: str
    database_url: str
    markets: Marketplaces
    keys: str = ""  # the app's encryption keys, for a connector in the test process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(database_url: str, markets: Marketplaces, keyring: crypto.Keyring) -> None:
    """Migrate; an Editor; both simulator shops connected with real tokens (no catalog: the test makes it)."""
    engine = create_engine(database_url)
    cli = Actor.command_line()
    expires = datetime.now(UTC) + timedelta(hours=3)
    try:
        migrate.upgrade(engine)
        shopee_tokens = markets.shopee.issue_tokens(SHOPEE_SHOP)
        tiktok_tokens = markets.tiktok.issue_tokens(TIKTOK_SHOP)
        with transaction(engine) as session:
            auth.create_user(cli, session, email=EDITOR, role=Role.EDITOR, password=PASSWORD, name="Editor")
            connections.save_connection(
                cli, session, platform="shopee", shop_id=str(SHOPEE_SHOP), shop_name="Browser Shopee",
                access_token=shopee_tokens[0], refresh_token=shopee_tokens[1], access_token_expires_at=expires,
                refresh_token_expires_at=None, keyring=keyring,
            )  # fmt: skip
            connections.save_connection(
                cli, session, platform="tiktokshop", shop_id=TIKTOK_SHOP, shop_name="Browser TikTok",
                access_token=tiktok_tokens[0], refresh_token=tiktok_tokens[1], access_token_expires_at=expires,
                refresh_token_expires_at=None, shop_cipher=markets.cipher, keyring=keyring,
            )  # fmt: skip
    finally:
        engine.dispose()


def _environment(markets: Marketplaces, database_url: str, keys: str) -> dict[str, str]:
    settings = markets.settings
    assert settings.shopee_partner_key is not None and settings.tiktokshop_app_secret is not None
    return {
        **os.environ,
        "SYNCSTORE_DATABASE_URL": database_url,
        "SYNCSTORE_DATA_DIR": os.environ["SYNCSTORE_DATA_DIR"],
        "SYNCSTORE_ENCRYPTION_KEYS": keys,
        "SYNCSTORE_RATELIMIT_ENABLED": "false",
        "SYNCSTORE_SHOPEE_PARTNER_ID": str(settings.shopee_partner_id),
        "SYNCSTORE_SHOPEE_PARTNER_KEY": settings.shopee_partner_key.get_secret_value(),
        "SYNCSTORE_SHOPEE_HOST": settings.shopee_host,
        "SYNCSTORE_TIKTOKSHOP_APP_KEY": str(settings.tiktokshop_app_key),
        "SYNCSTORE_TIKTOKSHOP_APP_SECRET": settings.tiktokshop_app_secret.get_secret_value(),
        "SYNCSTORE_TIKTOKSHOP_API_HOST": settings.tiktokshop_api_host,
        "SYNCSTORE_TIKTOKSHOP_AUTH_HOST": settings.tiktokshop_auth_host,
        "SYNCSTORE_TIKTOKSHOP_AUTHORIZE_HOST": settings.tiktokshop_authorize_host,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Both simulators, the seeded database and a running app on loopback."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("publishing-browser")
    database_url = f"sqlite:///{workdir / 'syncstore.db'}"
    keys = crypto.generate_key("browser")
    markets = Marketplaces()
    log = (workdir / "streamlit.log").open("wb")
    process: subprocess.Popen[bytes] | None = None
    try:
        _seed(database_url, markets, crypto.Keyring.parse(keys))
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app" / "app.py"),
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
             "--server.fileWatcherType", "none", "--global.developmentMode", "false",
             "--client.toolbarMode", "minimal"],
            cwd=workdir, env=_environment(markets, database_url, keys), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
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
        yield System(base, database_url, markets, keys)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        markets.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


# --- acting as a person ------------------------------------------------------------------------


def _idle(page: Any) -> None:
    """Wait until Streamlit has finished the current run (its status widget disappears)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=WAIT_MS)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base)
    page.get_by_role("textbox", name="E-mail").fill(EDITOR)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=WAIT_MS)  # the landing page


def _open(page: Any, title: str) -> None:
    from playwright.sync_api import expect

    more = page.get_by_text(re.compile(r"^View \d+ more$"))
    if more.count():  # the sidebar shows the first links of each section until asked for all
        more.click()
    # A menu title may carry the count needing action: "Conflicts (2)".
    page.get_by_role("link", name=re.compile(rf"^{re.escape(title)}( \(\d[\d,]*\))?$")).click()
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=WAIT_MS)
    _idle(page)


def _type(page: Any, label: str | re.Pattern[str], text: str) -> None:
    box = page.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Enter" if box.evaluate("e => e.tagName") == "INPUT" else "Control+Enter")
    _idle(page)


def _choose(page: Any, label: str | re.Pattern[str], option: str | re.Pattern[str]) -> None:
    """Pick `option` in the select box labelled `label` (opened, filtered by typing, clicked)."""
    _idle(page)
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).first.click()
    _idle(page)
    page.wait_for_timeout(300)


def _click_until(page: Any, button: str, shows: Any, attempts: int = 3) -> None:
    """Click `button` until `shows` is visible: a click landing while the page reruns can be dropped."""
    from playwright.sync_api import expect

    for attempt in range(attempts):
        _idle(page)
        page.get_by_role("button", name=button, exact=True).click()
        _idle(page)
        try:
            expect(shows).to_be_visible(timeout=WAIT_MS if attempt == attempts - 1 else 8_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 640), (40, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _create_product(page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, "New product")
    _type(page, "Title", TITLE)
    _type(page, "Description", "A quartz watch with a steel band, water resistant to 30 m.")
    _choose(page, "Category", "New category…")
    _type(page, "New category name", "Watches")
    _type(page, "Brand", "Kilat")
    _type(page, "Base price", "129.00")
    _type(page, re.compile(r"^Weight"), "0.2")
    _type(page, "Option 1 name", "Colour")
    _type(page, re.compile(r"^Option 1 values"), "Silver, Black")
    _type(page, "SKU prefix", "BRW")
    stock = page.get_by_role("spinbutton", name="Stock of each")
    stock.fill("5")
    stock.press("Enter")
    _idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "watch.png", "mimeType": "image/png", "buffer": _png()}]
    )
    _idle(page)
    expect(page.get_by_text("watch.png").first).to_be_visible(timeout=WAIT_MS)
    _shot(page, "publishing-01-new-product")
    _click_until(page, "Create product", page.get_by_text(re.compile("Created .* It is on no shop yet")), attempts=1)


def _map_category(page: Any, platform_label: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("radio", name=platform_label, exact=True).click()
    _idle(page)
    _click_until(page, "Refresh from shop", page.get_by_text("Category tree refreshed."))
    _choose(page, "Map a category", "Watches")
    _type(page, "Search the platform's categories", "watch")
    expect(page.get_by_role("combobox", name="Platform category")).to_be_visible(timeout=WAIT_MS)
    _choose(page, re.compile(r"^Watch Movement"), "Quartz")
    _click_until(
        page, "Save mapping", page.get_by_text(re.compile(rf"ready\s*1 product · {re.escape(platform_label)}"))
    )


def _database_product(database_url: str) -> MasterProduct:
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            found = session.scalars(sa.select(MasterProduct).where(MasterProduct.title == TITLE)).one()
            _ = list(found.variants)
            return found
    finally:
        engine.dispose()


def test_an_editor_creates_maps_and_publishes_a_product_to_both_shops(system: System, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    try:
        _sign_in(page, system.base)
        _create_product(page)
        created = _database_product(system.database_url)
        assert sorted(v.sku for v in created.variants) == ["BRW-BLACK", "BRW-SILVER"]
        assert len(created.images) == 1 and created.images[0].startswith("media:")

        _open(page, "Categories")
        _map_category(page, "Shopee")
        _map_category(page, "TikTok Shop")
        _shot(page, "publishing-02-categories")

        _open(page, "Publish to shops")
        _type(page, "Add products", "quartz watch")
        page.get_by_role("button", name="Add", exact=True).click()
        _idle(page)
        _click_until(
            page, "Check what will be sent", page.get_by_text(re.compile(r"Browser Shopee: 1 ready, 0 blocked"))
        )
        expect(page.get_by_text(re.compile(r"Browser TikTok: 1 ready, 0 blocked"))).to_be_visible(timeout=WAIT_MS)
        _shot(page, "publishing-03-preview")
        _click_until(page, "Publish", page.get_by_text(re.compile(r"Browser Shopee: 1 created")), attempts=1)
        expect(page.get_by_text(re.compile(r"Browser TikTok: 1 created"))).to_be_visible(timeout=WAIT_MS)
        _shot(page, "publishing-04-published")
    except Exception:
        _shot(page, "publishing-failed")
        raise
    finally:
        page.close()

    # Live on both simulators, with the uploaded image's platform id (never a URL) and both SKUs.
    shopee_items = [item for item in system.markets.shopee.state.items.values() if item.name == TITLE]
    assert len(shopee_items) == 1
    item = shopee_items[0]
    assert item.status == "NORMAL" and item.category_id == 100106
    assert len(item.image_ids) == 1 and not item.image_ids[0].startswith("http")
    assert {a["attribute_id"] for a in item.attribute_list} == {100010}  # Watch Movement: Quartz
    assert item.logistic_info
    tiktok = [p for p in system.markets.tiktok.state.products.values() if p.title == TITLE]
    assert len(tiktok) == 1
    assert sorted(sku.seller_sku for sku in tiktok[0].skus) == ["BRW-BLACK", "BRW-SILVER"]
    system.markets.tiktok.pump()  # the audit (no delay in this simulator) ends: the product goes live
    assert tiktok[0].status == "ACTIVATE"


def test_a_strict_csv_import_with_bad_rows_reports_them_by_line_and_imports_nothing(
    system: System, browser: Any
) -> None:
    from playwright.sync_api import expect

    text = csv_text(
        product("csv-lamp", "CSV-LAMP-1", title="Desk lamp"),
        product("csv-chair", "CSV-CHAIR-1", title="Chair", base_price="free"),
        product("csv-table", "CSV TABLE", title="Table"),
    )
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    try:
        _sign_in(page, system.base)
        _open(page, "Import and export")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}]
        )
        _idle(page)
        _click_until(page, "Check the file", page.get_by_text(re.compile(r"line 3, base_price")))
        expect(page.get_by_text(re.compile(r"line 4, sku"))).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text(re.compile("strict mode imports nothing"))).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
        _shot(page, "publishing-05-csv-strict")
    finally:
        page.close()
    engine = create_engine(system.database_url)
    try:
        with transaction(engine) as session:
            handles = session.scalars(sa.select(MasterProduct.handle).where(MasterProduct.handle.like("csv-%"))).all()
    finally:
        engine.dispose()
    assert handles == []
