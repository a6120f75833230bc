# The whole system on PostgreSQL and Redis: orders, price edits, conflicts and cancellations cross the marketplaces.
"""Every scenario acts as a buyer or seller on a simulator, or as a merchant through syncstore, and
waits (generously) for the effect on the other side. No timing is asserted: "eventually" only."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TypeVar

import pytest
import sqlalchemy as sa

from demo.config import Part
from demo.control import MarketplaceControl
from demo.supervisor import Supervisor
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, ProductConflict, ProductVariant
from syncstore.plan import conflicts
from syncstore.security.auth import Actor, Role

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

DEADLINE_S = 120.0
T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, system: Supervisor, timeout_s: float = DEADLINE_S) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        system.check_children()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s\n{_recent_output(system)}")
        time.sleep(0.5)


def _recent_output(system: Supervisor) -> str:
    """The last lines each process printed: what a failed wait needs to be understood."""
    parts = []
    for part, child in system.children.items():
        lines = "\n".join(f"    {line}" for line in list(child.tail)[-40:])
        parts.append(f"--- {part.value} ---\n{lines}")
    return "\n".join(parts)


def merchant(system: Supervisor) -> Actor:
    return Actor(user_id=None, label="e2e-merchant", role=Role.ADMIN)


def common_skus(shopee: MarketplaceControl, tiktok: MarketplaceControl, *, start: int, count: int) -> list[str]:
    """SKUs both shops list with the same available stock (synced), at least 10 of it; sorted, a slice."""
    a, b = shopee.skus(), tiktok.skus()
    both = sorted(
        sku for sku in a.keys() & b.keys() if a[sku].available == b[sku].available >= 10 and "-ONLY-" not in sku
    )
    assert len(both) >= start + count, "the shops hold too few synced SKUs"
    return both[start : start + count]


@pytest.fixture
def shops(demo_system: Supervisor) -> tuple[MarketplaceControl, MarketplaceControl]:
    shopee, tiktok = demo_system.marketplace(Part.SHOPEE), demo_system.marketplace(Part.TIKTOKSHOP)
    yield shopee, tiktok
    shopee.close()
    tiktok.close()


def test_an_order_on_shopee_lowers_the_stock_on_tiktokshop(demo_system: Supervisor, shops, redis_url: str) -> None:
    shopee, tiktok = shops
    (sku,) = common_skus(shopee, tiktok, start=0, count=1)
    before = tiktok.sku(sku).available
    shopee.place_order(sku, 2)
    eventually(lambda: tiktok.sku(sku).available == before - 2, f"TikTok Shop stock of {sku} down by 2", demo_system)


def test_a_cancelled_order_releases_the_stock(demo_system: Supervisor, shops, redis_url: str) -> None:
    shopee, tiktok = shops
    (sku,) = common_skus(shopee, tiktok, start=5, count=1)
    before = tiktok.sku(sku).available
    order = shopee.place_order(sku, 3)
    eventually(lambda: tiktok.sku(sku).available == before - 3, f"TikTok Shop stock of {sku} down by 3", demo_system)
    shopee.set_order_status(order.order_id, "CANCELLED")
    eventually(lambda: tiktok.sku(sku).available == before, f"TikTok Shop stock of {sku} back to {before}", demo_system)
    assert shopee.sku(sku).available == before


def test_a_price_edit_in_the_master_reaches_both_shops(demo_system: Supervisor, shops, redis_url: str) -> None:
    shopee, tiktok = shops
    (sku,) = common_skus(shopee, tiktok, start=10, count=1)
    new_price = shopee.sku(sku).price + Decimal("3.10")
    with transaction(demo_system.engine) as session:
        variant = session.scalars(sa.select(ProductVariant).where(ProductVariant.sku == sku)).one()
        product = session.get(MasterProduct, variant.product_id)
        assert product is not None
        catalog.update_product(
            merchant(demo_system),
            session,
            product.id,
            expected_version=product.version,
            changes={"variants": [{"id": variant.id, "price": str(new_price)}]},
        )
    eventually(lambda: shopee.sku(sku).price == new_price, f"Shopee price of {sku} = {new_price}", demo_system)
    eventually(lambda: tiktok.sku(sku).price == new_price, f"TikTok Shop price of {sku} = {new_price}", demo_system)


def test_a_title_edited_on_tiktokshop_becomes_a_conflict_and_resolving_it_pushes(
    demo_system: Supervisor, shops, redis_url: str
) -> None:
    shopee, tiktok = shops
    (sku,) = common_skus(shopee, tiktok, start=15, count=1)
    master_title = tiktok.sku(sku).title
    tiktok.edit_title(sku, f"{master_title} (seller's edit)")

    with transaction(demo_system.engine) as session:
        product_id = session.scalars(sa.select(ProductVariant.product_id).where(ProductVariant.sku == sku)).one()

    def pending_title_conflict() -> int | None:
        with transaction(demo_system.engine) as session:
            found = [
                c.id
                for c in conflicts.list_conflicts(session, product_id=product_id)
                if c.field == "title" and c.platform == "tiktokshop"
            ]
        return found[0] if found else None

    conflict_id = eventually(pending_title_conflict, f"a pending title conflict for {sku}", demo_system)
    with transaction(demo_system.engine) as session:
        conflict = session.get(ProductConflict, conflict_id)
        assert conflict is not None and conflict.platform_value == f"{master_title} (seller's edit)"
        conflicts.resolve(merchant(demo_system), session, conflict_id, "use_master")
    eventually(
        lambda: tiktok.sku(sku).title == master_title, f"TikTok Shop title of {sku} back to the master's", demo_system
    )
    assert shopee.sku(sku).title == master_title


def _dismiss_dialogs(page: object) -> None:
    """Close Dagster's one-time dialogs (the community prompt may open seconds after the page loads)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("button", name="Skip")  # type: ignore[attr-defined]
    with contextlib.suppress(PlaywrightTimeout):  # no dialog this time: nothing to close
        skip.wait_for(state="visible", timeout=5_000)
        skip.click()
    backdrop = page.locator(".bp5-overlay-backdrop")  # type: ignore[attr-defined]
    for _ in range(3):
        if not backdrop.count():
            return
        page.keyboard.press("Escape")  # type: ignore[attr-defined]
        page.wait_for_timeout(500)  # type: ignore[attr-defined]


def test_the_dagster_ui_shows_the_asset_lineage_of_both_shops(demo_system: Supervisor) -> None:
    """The data engineer's view, in Debian's chromium; the screenshot is a test artifact (and the README's)."""
    import os
    import shutil
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    chromium = Path(os.environ.get("SYNCSTORE_CHROMIUM", "/usr/bin/chromium"))
    if not chromium.exists():
        message = f"{chromium} is missing: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
    artifacts.mkdir(parents=True, exist_ok=True)
    base = demo_system.status.urls["dagster"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.goto(f"{base}/asset-groups", wait_until="networkidle", timeout=60_000)
            _dismiss_dialogs(page)
            # The lineage opens with each asset group folded; unfold both (their toggles sit at the
            # node's right edge), then reload so the graph fits the unfolded groups on screen.
            for group in ("catalog", "shops"):
                title = page.get_by_text(group, exact=True).last
                box = title.bounding_box()
                assert box is not None, f"asset group {group} is not on the lineage page"
                page.mouse.click(box["x"] + 275, box["y"] + box["height"] / 2)
                page.wait_for_timeout(1000)
            _dismiss_dialogs(page)
            page.get_by_text("Hide navigation").click()
            page.reload(wait_until="networkidle")
            for asset in ("master_catalog", "shop_snapshot", "catalog_diff", "listing_sync"):
                page.get_by_text(asset, exact=True).first.wait_for(timeout=60_000)
            page.wait_for_timeout(2000)  # the graph lays itself out after the names appear
            page.screenshot(path=str(artifacts / "dagster-assets.png"))
            page.goto(f"{base}/runs", wait_until="networkidle", timeout=60_000)
            page.get_by_text("reconcile").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(artifacts / "dagster-runs.png"))
        finally:
            browser.close()
    extra = os.environ.get("SYNCSTORE_SCREENSHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        for name in ("dagster-assets.png", "dagster-runs.png"):
            shutil.copyfile(artifacts / name, Path(extra) / name)


def skus_on_all_three(*controls: MarketplaceControl, start: int, count: int) -> list[str]:
    """SKUs every shop lists with the same available stock (synced), at least 10 of it; sorted, a slice."""
    listed = [control.skus() for control in controls]
    common = set.intersection(*(set(skus) for skus in listed))
    synced = sorted(
        sku
        for sku in common
        if "-ONLY-" not in sku and len({skus[sku].available for skus in listed}) == 1 and listed[0][sku].available >= 10
    )
    assert len(synced) >= start + count, "the shops hold too few SKUs synced on all three"
    return synced[start : start + count]


@pytest.fixture
def lazada(demo_system: Supervisor) -> Iterator[MarketplaceControl]:
    with demo_system.marketplace(Part.LAZADA) as control:
        yield control


def test_an_order_on_lazada_lowers_the_stock_on_shopee_and_tiktokshop(
    demo_system: Supervisor, shops, lazada: MarketplaceControl, redis_url: str
) -> None:
    shopee, tiktok = shops
    (sku,) = skus_on_all_three(lazada, shopee, tiktok, start=20, count=1)
    before = lazada.sku(sku).available
    lazada.place_order(sku, 2)  # one order row per unit on Lazada: two pushes
    assert lazada.sku(sku).available == before - 2
    eventually(lambda: shopee.sku(sku).available == before - 2, f"Shopee stock of {sku} down by 2", demo_system)
    eventually(lambda: tiktok.sku(sku).available == before - 2, f"TikTok Shop stock of {sku} down by 2", demo_system)


def test_an_order_on_shopee_lowers_the_stock_on_lazada(
    demo_system: Supervisor, shops, lazada: MarketplaceControl, redis_url: str
) -> None:
    shopee, tiktok = shops
    (sku,) = skus_on_all_three(lazada, shopee, tiktok, start=25, count=1)
    before = lazada.sku(sku).available
    shopee.place_order(sku, 3)
    eventually(lambda: lazada.sku(sku).available == before - 3, f"Lazada stock of {sku} down by 3", demo_system)
    eventually(lambda: tiktok.sku(sku).available == before - 3, f"TikTok Shop stock of {sku} down by 3", demo_system)
