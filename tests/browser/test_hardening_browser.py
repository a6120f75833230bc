# Browser tests of issue 14: the right variant's stock, no lost update (S2), no typed text as Markdown (S3).
"""Issue 14 in a real browser.

Like tests/browser/test_app_browser.py: `streamlit run streamlit_app/app.py` on 127.0.0.1 over a
seeded SQLite database, driven in headless Debian Chromium with Playwright. Each test uses its
own products, so their order does not matter.

Needs /usr/bin/chromium (Debian's `chromium` package); never downloads a browser.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import MasterProduct, ProductVariant
from tests.conftest import IN_CI
from tests.streamlit_app.conftest import PASSWORD, seed_database

ROOT = Path(__file__).resolve().parents[2]
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
    workdir = tmp_path_factory.mktemp("hardening-browser")
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
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app" / "app.py"),
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
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


def _sign_in(page: Any, base: str, email: str) -> None:
    from playwright.sync_api import expect

    page.goto(base)
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=WAIT_MS)  # the landing page


def _idle(page: Any) -> None:
    """Wait until Streamlit has finished the current run (its status widget disappears)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=WAIT_MS)


def _open(page: Any, title: str) -> None:
    from playwright.sync_api import expect

    # A menu title may carry the count needing action: "Conflicts (2)".
    page.get_by_role("link", name=re.compile(rf"^{re.escape(title)}( \(\d[\d,]*\))?$")).click()
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=WAIT_MS)
    _idle(page)


def _stock(database_url: str, sku: str) -> int:
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            return session.scalars(sa.select(ProductVariant.stock).where(ProductVariant.sku == sku)).one()
    finally:
        engine.dispose()


# --- item 1: an exact SKU search adjusts that SKU, from its own value ----------------------------


def test_an_exact_sku_search_shows_and_adjusts_that_variant(server: tuple[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    base, database_url = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        _sign_in(page, base, "editor@example.com")
        _open(page, "Inventory")
        # BLACK-M is not the first variant of its product; BLACK-S (the first) has another stock.
        sku, first = "KS-TEE00001-BLACK-M", "KS-TEE00001-BLACK-S"
        before, first_before = _stock(database_url, sku), _stock(database_url, first)
        assert before != first_before
        search = page.get_by_role("textbox", name="Find variants")
        search.fill(sku)
        search.press("Enter")
        _idle(page)
        field = page.get_by_role("spinbutton", name="New on hand")
        expect(field).to_have_value(str(before), timeout=WAIT_MS)
        field.fill(str(before + 40))
        page.get_by_role("button", name="Apply").click()
        _idle(page)
        expect(page.get_by_text(f"{sku}: on hand {before} → {before + 40}").first).to_be_visible(timeout=WAIT_MS)
        assert _stock(database_url, sku) == before + 40
        assert _stock(database_url, first) == first_before, "the product's first variant is untouched"
        expect(page.get_by_role("spinbutton", name="New on hand")).to_have_value(str(before + 40), timeout=WAIT_MS)
    finally:
        page.close()


# --- item 2: two people edit the same product; the second save is refused (S2) --------------------


def _open_product(page: Any, sku: str) -> None:
    from playwright.sync_api import expect

    _open(page, "Product editor")
    finder = page.get_by_role("textbox", name="Find a product")
    finder.fill(sku)
    finder.press("Enter")
    _idle(page)
    page.get_by_role("button", name="Edit this product").click()
    expect(page.get_by_role("heading", name="Product editor")).to_be_visible(timeout=WAIT_MS)
    _idle(page)


def _first_sku(database_url: str, product_id: int) -> str:
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            query = sa.select(ProductVariant.sku).where(ProductVariant.product_id == product_id)
            return str(session.scalars(query.order_by(ProductVariant.id)).first())
    finally:
        engine.dispose()


def _base_price(database_url: str, product_id: int) -> str:
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            query = sa.select(MasterProduct.base_price).where(MasterProduct.id == product_id)
            return str(session.scalars(query).one())
    finally:
        engine.dispose()


def test_the_second_of_two_concurrent_saves_is_refused(server: tuple[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    base, database_url = server
    product_id = 3
    sku = _first_sku(database_url, product_id)
    # Two people, two browser sessions.
    first, second = (browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(2))
    try:
        editor, admin = first.new_page(), second.new_page()
        _sign_in(editor, base, "editor@example.com")
        _sign_in(admin, base, "admin@example.com")
        _open_product(editor, sku)
        _open_product(admin, sku)  # both opened the same version
        editor.get_by_role("textbox", name=re.compile(r"^Base price")).fill("81.10")
        editor.get_by_role("button", name="Save").click()
        _idle(editor)
        expect(editor.get_by_text(re.compile(r"version 2 · updated"))).to_be_visible(timeout=WAIT_MS)
        assert _base_price(database_url, product_id) == "81.10"

        admin.get_by_role("textbox", name=re.compile(r"^Base price")).fill("92.20")
        admin.get_by_role("button", name="Save").click()
        _idle(admin)
        refusal = admin.get_by_text(re.compile(r"changed by editor@example\.com since you opened it"))
        expect(refusal.first).to_be_visible(timeout=WAIT_MS)
        assert _base_price(database_url, product_id) == "81.10", "the first save stands"
    finally:
        first.close()
        second.close()


# --- item 6: text an Editor typed makes no other browser fetch anything (S3) ----------------------

PAYLOAD = "![x](http://attacker.test/p.png) [click](http://attacker.test) <img src=x>"


def _type_payload(database_url: str, product_id: int) -> str:
    """An Editor's rules, product title and stock note holding an image, a link and HTML; returns a SKU."""
    from syncstore.catalog import commands as catalog
    from syncstore.catalog import reads as catalog_reads
    from syncstore.inventory import ledger as inventory
    from syncstore.plan import rules
    from syncstore.security.auth import Actor, Role

    editor = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
    engine = create_engine(database_url)
    try:
        with transaction(engine) as session:
            product = catalog_reads.get_product(session, product_id)
            catalog.update_product(editor, session, product_id, expected_version=product.version,
                                   changes={"title": f"Tee {PAYLOAD}"})  # fmt: skip
            inventory.adjust_stock(editor, session, product.variants[0].id, delta=1, note=PAYLOAD)
            rules.create_rule(editor, session, {"name": PAYLOAD, "priority": 5})
            rules.create_rule(editor, session, {"name": "Second rule", "priority": 4})
            return product.variants[0].sku
    finally:
        engine.dispose()


def test_typed_markdown_makes_the_browser_fetch_nothing(server: tuple[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    base, database_url = server
    sku = _type_payload(database_url, 4)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        _sign_in(page, base, "admin@example.com")
        _open(page, "Rules")
        expect(page.get_by_text("Second rule").filter(visible=True).first).to_be_visible(timeout=WAIT_MS)
        # The name is shown as typed, as text.
        expect(page.get_by_text(PAYLOAD).filter(visible=True).first).to_be_visible(timeout=WAIT_MS)
        _open(page, "Inventory")
        search = page.get_by_role("textbox", name="Find variants")
        search.fill(sku)
        search.press("Enter")
        _idle(page)
        expect(page.get_by_role("heading", name=re.compile(re.escape(sku)))).to_be_visible(timeout=WAIT_MS)
        _open(page, "Product editor")
        finder = page.get_by_role("textbox", name="Find a product")
        finder.fill(sku)
        finder.press("Enter")
        _idle(page)
        page.get_by_role("button", name="Edit this product").click()
        _idle(page)
        expect(page.get_by_role("heading", name=f"Tee {PAYLOAD}")).to_be_visible(timeout=WAIT_MS)
        page.wait_for_load_state("networkidle")
        assert requested, "the page made requests at all"
        leaked = [url for url in requested if "attacker.test" in url]
        assert not leaked, f"user text made the browser fetch {leaked}"
        planted = page.locator("img[src='x'], img[src*='attacker.test'], a[href*='attacker.test']")
        assert not planted.count(), [
            planted.nth(i).evaluate('e => e.closest("[data-testid*=stMarkdown], [data-testid=stHeading]")?.outerHTML')
            for i in range(planted.count())
        ]
    finally:
        page.close()
