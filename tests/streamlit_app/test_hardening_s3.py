# S3 (issue 14 item 6): text a user typed reaches other users' pages as text, never as Markdown links, images or HTML.
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, SyncLog, WebhookLog
from syncstore.inventory import ledger as inventory
from syncstore.plan import conflicts, rules
from syncstore.plan.conflicts import FoundConflict
from syncstore.security.auth import Actor, Role
from tests.streamlit_app.conftest import AppAs, SeededDatabase

# An image (the browser would fetch it), a link and raw HTML, as an Editor might type them.
PAYLOAD = "![x](http://attacker.test/p.png) [click](http://attacker.test) <img src=x>"
SKU_PAYLOAD = "KS-![x](http://attacker.test/s.png)"  # a SKU has no spaces, and can still hold an image
UNESCAPED = re.compile(r"(?<!\\)\]\(|(?<!\\)<img|(?<!\\)!\[")


@pytest.fixture
def typed(seeded_db: SeededDatabase) -> Iterator[int]:
    """The payload in a product title, a SKU, a ledger note, a rule name, a shop name, errors; yields the variant id."""
    admin: Actor = seeded_db.actors[Role.ADMIN]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        product = catalog_reads.get_product(session, 1)
        variant = product.variants[0]
        catalog.update_product(admin, session, 1, expected_version=product.version, changes={
            "title": f"Tee {PAYLOAD}", "variants": [{"id": variant.id, "sku": SKU_PAYLOAD}],
        })  # fmt: skip
        inventory.adjust_stock(admin, session, variant.id, delta=1, note=PAYLOAD)
        rules.create_rule(admin, session, {"name": PAYLOAD, "priority": 2})
        rules.create_rule(admin, session, {"name": "Second", "priority": 1})
        shop = session.scalars(sa.select(PlatformConnection).order_by(PlatformConnection.id)).first()
        assert shop is not None
        shop.shop_name = "Shop ![x](http://attacker.test/n.png)"
        listing = session.scalars(
            sa.select(PlatformListing).where(PlatformListing.product_id == 1, PlatformListing.connection_id == shop.id)
        ).one()
        listing.last_error = PAYLOAD
        conflicts.record(session, [FoundConflict(
            connection_id=shop.id, listing_id=listing.id, product_id=1, variant_id=None, platform=shop.platform,
            field="title", master_value=f"Tee {PAYLOAD}", platform_value=PAYLOAD, base_value="Old",
        )])  # fmt: skip
        session.add(SyncLog(connection_id=shop.id, product_id=1, platform=shop.platform, operation="update_price",
                            status="failed", error_message=PAYLOAD, request_data={"note": PAYLOAD}))  # fmt: skip
        session.add(WebhookLog(platform=shop.platform, event_id="e-1", event_type="order.status_update",
                               payload={"note": PAYLOAD}, status="failed", error_message=PAYLOAD))  # fmt: skip
        variant_id = variant.id
    engine.dispose()
    yield variant_id


def markdown_texts(at: AppTest) -> list[str]:
    """Every text on the page that Streamlit renders as Markdown: bodies, alerts, captions, headings, labels."""
    texts: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "success", "error", "warning", "info", "toast"):
        texts += [str(element.value) for element in at.get(kind)]
    for kind in ("checkbox", "button", "text_input", "number_input", "selectbox", "radio", "toggle", "metric"):
        texts += [str(element.label) for element in at.get(kind)]
    texts += [str(element.proto.label) for element in at.get("expandable")]
    return texts


def assert_shown_as_text(at: AppTest, where: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    texts = markdown_texts(at)
    shown = [t for t in texts if "attacker" in t]
    assert shown, f"the payload is not on the {where} page at all: {texts}"
    leaked = [t for t in shown if UNESCAPED.search(t)]
    assert not leaked, f"{where}: user text rendered as Markdown: {leaked}"


def test_the_inventory_page_shows_typed_text_as_text(app_as: AppAs, typed: int) -> None:
    at = app_as("admin", "inventory")
    at.text_input(key="inventory_search").input(SKU_PAYLOAD).run()
    assert at.selectbox(key="inventory_variant").value == typed
    assert_shown_as_text(at, "inventory")
    [field] = [n for n in at.number_input if n.label == "New on hand"]
    field.set_value(40)
    at.button[[b.label for b in at.button].index("Apply")].click().run()
    assert_shown_as_text(at, "inventory after an adjustment")


def test_the_product_editor_shows_typed_text_as_text(app_as: AppAs, typed: int) -> None:
    at = app_as("admin", "product_editor", query_params={"product": "1"})
    assert_shown_as_text(at, "product editor")


def test_the_rules_page_shows_typed_text_as_text(app_as: AppAs, seeded_db: SeededDatabase, typed: int) -> None:
    at = app_as("admin", "rules")
    [rule] = [r for r in catalog_rules(seeded_db) if r.name == PAYLOAD]
    at.selectbox(key="rules_pick").select(rule.id).run()
    assert_shown_as_text(at, "rules")


def test_the_conflicts_page_shows_typed_text_as_text(app_as: AppAs, typed: int) -> None:
    assert_shown_as_text(app_as("admin", "conflicts"), "conflicts")


def test_the_sync_activity_page_shows_typed_text_as_text(app_as: AppAs, typed: int) -> None:
    assert_shown_as_text(app_as("admin", "sync_activity"), "sync activity")


def test_the_webhooks_page_shows_typed_text_as_text(app_as: AppAs, typed: int) -> None:
    assert_shown_as_text(app_as("admin", "webhooks"), "webhooks")


def test_plain_escapes_every_markdown_and_html_character() -> None:
    from streamlit_app.ui import plain

    escaped = plain(PAYLOAD + " *b* _i_ `c` # h | t ~s~ $m$ :red[x] &amp; www.a.test\nline")
    assert not UNESCAPED.search(escaped)
    assert "\n" not in escaped and "http\u200b" in escaped and "www\u200b" in escaped, "bare URLs are not links"
    as_read = re.sub(r"\\(.)", r"\1", escaped).replace("\u200b", "")
    assert as_read == PAYLOAD + " *b* _i_ `c` # h | t ~s~ $m$ :red[x] &amp; www.a.test line"


def catalog_rules(db: SeededDatabase) -> list[rules.Rule]:
    engine = db.engine()
    with transaction(engine) as session:
        found = rules.list_rules(session)
    engine.dispose()
    return found


def test_the_connections_page_shows_platform_and_link_text_as_text(app_as: AppAs, typed: int) -> None:
    """A shop name from the platform, and the callback's query parameters (anyone can craft the link)."""
    assert_shown_as_text(app_as("admin", "connections"), "connections")
    crafted = {"connected": f"shopee:{PAYLOAD}", "error": PAYLOAD}
    assert_shown_as_text(app_as("admin", "connections", query_params=crafted), "connections after a crafted link")
