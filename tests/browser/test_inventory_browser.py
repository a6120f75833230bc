# Browser tests of issue 17: a bundle sold on Shopee lowers its components on TikTok Shop; a transfer moves its shops.
"""Bundles and locations in a real browser, against the running demo.

The demo supervisor (`demo.supervisor`) starts the Shopee, TikTok Shop and Lazada simulators (each
seeded with the sample catalog), the webhook receiver, the events worker (so an order or a stock
change is pushed within seconds) and `streamlit run`, on free ports over the session's PostgreSQL
database (emptied first), and waits until every shop is in sync. The test adds an Editor; headless Debian Chromium
(Playwright) then acts as that Editor:

(a) in the Product editor, makes a SKU a bundle of two other SKUs (2 of the first, 1 of the
    second); a buyer orders the bundle on the Shopee simulator (its order push reaches the
    receiver), and TikTok Shop's stock of each component drops by the units the bundle holds;
(b) with a second location "Back room" where Shopee sells only the main warehouse and TikTok Shop
    only the back room (Lazada sells every location), transfers 5 of a SKU from the main
    warehouse to the back room on the Inventory page: Shopee's quantity drops 5, TikTok Shop's
    rises 5, and Lazada's is unchanged.

No timing is asserted: every wait is "eventually", generously. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.simulator.common import free_port
from demo.config import DemoConfig, Part, Ports
from demo.control import MarketplaceControl
from demo.supervisor import Supervisor
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, ProductVariant
from syncstore.inventory import availability
from syncstore.inventory import locations as stock_locations
from syncstore.security import auth
from syncstore.security.auth import Actor, Role
from tests.browser.test_hardening_browser import _open_product
from tests.browser.test_publishing_browser import (
    CHROMIUM,
    EDITOR,
    WAIT_MS,
    _click_until,
    _idle,
    _open,
    _shot,
    _sign_in,
    browser,  # noqa: F401 (the fixture, shared)
)
from tests.conftest import IN_CI
from tests.e2e.conftest import empty_database, running_demo
from tests.e2e.test_whole_system import common_skus, eventually, skus_on_all_three
from tests.streamlit_app.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ADMIN = Actor(user_id=None, label="browser-test-admin", role=Role.ADMIN)
BACK_ROOM = "Back room"


@pytest.fixture(scope="module")
def demo(postgres_url: str) -> Iterator[Supervisor]:
    """The demo (three simulators, receiver, worker, app) on free ports and PostgreSQL, in sync; an Editor added.

    PostgreSQL, as in the e2e tests: on SQLite every transaction takes the one write lock, and on a
    loaded machine the app's sign-in can outwait its busy timeout while the worker pushes.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    empty_database(postgres_url)
    config = DemoConfig(
        data_dir=Path(tempfile.mkdtemp(prefix="syncstore-inventory-browser-")),  # kept: its logs/ explain a failure
        database_url=postgres_url,
        ports=Ports(**{name: free_port() for name in Ports.__dataclass_fields__}),
        parts=frozenset({Part.SHOPEE, Part.TIKTOKSHOP, Part.LAZADA, Part.RECEIVER, Part.WORKER, Part.STREAMLIT}),
        orders_every_s=None,
        conflicting_edits=0,
        console_lines=False,
    )
    with running_demo(config) as supervisor:
        with transaction(supervisor.engine) as session:
            auth.create_user(Actor.command_line(), session, email=EDITOR, role=Role.EDITOR, password=PASSWORD,
                             name="Editor")  # fmt: skip
        yield supervisor


def _variant_id(demo: Supervisor, sku: str) -> int:
    with transaction(demo.engine) as session:
        return int(session.scalars(sa.select(ProductVariant.id).where(ProductVariant.sku == sku)).one())


def _connection(demo: Supervisor, platform: str) -> int:
    with transaction(demo.engine) as session:
        query = sa.select(PlatformConnection.id).where(PlatformConnection.platform == platform)
        return int(session.scalars(query).one())


def _wanted(demo: Supervisor, variant_id: int, connection_id: int) -> int:
    """The quantity SyncStore sends this shop for this variant (its sources, bundles computed)."""
    frame = availability.channel_available(demo.engine, [variant_id], [connection_id])
    return int(frame["available"].sum())


@pytest.fixture
def shops(demo: Supervisor) -> Iterator[dict[Part, MarketplaceControl]]:
    controls = {part: demo.marketplace(part) for part in (Part.SHOPEE, Part.TIKTOKSHOP, Part.LAZADA)}
    yield controls
    for control in controls.values():
        control.close()


def _find_variants(page: Any, sku: str) -> None:
    search = page.get_by_role("textbox", name="Find variants")
    search.fill(sku)
    search.press("Enter")
    _idle(page)


def _make_bundle(page: Any, bundle: str, components: list[tuple[str, int]]) -> None:
    from playwright.sync_api import expect

    _open_product(page, bundle)
    page.get_by_role("tab", name="Bundle").click()
    _idle(page)
    variant = page.get_by_role("combobox", name="Variant")
    variant.click()
    page.get_by_role("option", name=bundle, exact=True).click()
    _idle(page)
    expect(page.get_by_text(f"{bundle} is a plain variant")).to_be_visible(timeout=WAIT_MS)
    for sku, quantity in components:
        for attempt in range(3):  # typing that lands while the page reruns can be dropped: type again
            _idle(page)
            page.get_by_role("textbox", name="Component SKU").fill(sku)
            page.get_by_role("spinbutton", name="Quantity").fill(str(quantity))
            page.get_by_role("button", name="Add component").click()
            _idle(page)
            try:
                expect(page.get_by_text(f"quantity {quantity}").first).to_be_visible(timeout=8_000)
                expect(page.get_by_text(sku, exact=True).first).to_be_visible(timeout=8_000)
                break
            except AssertionError:
                if attempt == 2:
                    raise
    _click_until(page, "Save bundle", page.get_by_text(re.compile(r"Available as a bundle: \d+")).first)


def test_a_bundle_sold_on_shopee_lowers_its_components_on_tiktok_shop(
    demo: Supervisor,
    shops: dict[Part, MarketplaceControl],
    browser: Any,  # noqa: F811
) -> None:
    shopee, tiktok = shops[Part.SHOPEE], shops[Part.TIKTOKSHOP]
    bundle, first, second = common_skus(shopee, tiktok, start=0, count=3)
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    try:
        _sign_in(page, demo.config.app_url)
        _make_bundle(page, bundle, [(first, 2), (second, 1)])
        _shot(page, "inventory-01-bundle")
    except Exception:
        _shot(page, "inventory-bundle-failed")
        raise
    finally:
        page.close()
    bundle_id, shopee_id = _variant_id(demo, bundle), _connection(demo, "shopee")
    # The bundle's own quantity on Shopee becomes the one its components make.
    eventually(lambda: shopee.sku(bundle).available == _wanted(demo, bundle_id, shopee_id) > 0,
               f"Shopee shows what the components of {bundle} make", demo)  # fmt: skip
    before = {sku: tiktok.sku(sku).available for sku in (first, second)}
    shopee.place_order(bundle, 1)
    eventually(
        lambda: tiktok.sku(first).available == before[first] - 2 and tiktok.sku(second).available == before[second] - 1,
        f"TikTok Shop's stock of {first} down by 2 and of {second} down by 1",
        demo,
    )


def test_a_transfer_moves_only_the_shops_fed_by_those_locations(
    demo: Supervisor,
    shops: dict[Part, MarketplaceControl],
    browser: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    shopee, tiktok, lazada = shops[Part.SHOPEE], shops[Part.TIKTOKSHOP], shops[Part.LAZADA]
    (sku,) = skus_on_all_three(shopee, tiktok, lazada, start=10, count=1)
    variant_id = _variant_id(demo, sku)
    ids = {part: _connection(demo, part.value) for part in (Part.SHOPEE, Part.TIKTOKSHOP, Part.LAZADA)}
    with transaction(demo.engine) as session:
        back_room = stock_locations.create_location(ADMIN, session, BACK_ROOM).id
        main = next(loc.id for loc in stock_locations.list_locations(session) if loc.is_default)
        stock_locations.set_shop_sources(ADMIN, session, ids[Part.SHOPEE], [main])
        stock_locations.set_shop_sources(ADMIN, session, ids[Part.TIKTOKSHOP], [back_room])

    def settled() -> bool:
        return (
            shopee.sku(sku).available == _wanted(demo, variant_id, ids[Part.SHOPEE])
            and tiktok.sku(sku).available == _wanted(demo, variant_id, ids[Part.TIKTOKSHOP])
            and lazada.sku(sku).available == _wanted(demo, variant_id, ids[Part.LAZADA])
        )

    eventually(settled, f"every shop shows the stock of {sku} its locations hold", demo)
    before = {part: control.sku(sku).available for part, control in shops.items()}
    assert before[Part.SHOPEE] >= 5 and before[Part.TIKTOKSHOP] == 0

    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    try:
        _sign_in(page, demo.config.app_url)
        _open(page, "Inventory")
        _find_variants(page, sku)
        expect(page.get_by_role("button", name="Transfer")).to_be_visible(timeout=WAIT_MS)
        quantity = page.get_by_role("spinbutton", name="Quantity")
        quantity.fill("5")
        page.get_by_role("textbox", name="Transfer note (kept in the ledger)").fill("restock the back room")
        _click_until(
            page, "Transfer", page.get_by_text(re.compile(rf"Moved 5 of {re.escape(sku)} from")).first, attempts=1
        )
        _shot(page, "inventory-02-transfer")
    except Exception:
        _shot(page, "inventory-transfer-failed")
        raise
    finally:
        page.close()
    eventually(
        lambda: (
            shopee.sku(sku).available == before[Part.SHOPEE] - 5
            and tiktok.sku(sku).available == before[Part.TIKTOKSHOP] + 5
        ),
        f"Shopee's {sku} down by 5 and TikTok Shop's up by 5",
        demo,
    )
    assert lazada.sku(sku).available == before[Part.LAZADA], "a shop selling every location is unchanged"
