# The Listings page (SKU mapping): states and filters, binding after a preview, CSV bulk binding, shop rules, roles.
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from syncstore.catalog.sku_keys import sku_key
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, PlatformListingSku, ProductVariant
from syncstore.shops import connections
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with

SELLER = "OLD-MUG-7"


def add_orphan(db: SeededDatabase) -> tuple[int, ProductVariant]:
    """An orphan SKU in the Shopee shop (stock 7, 10.00), and an unbound master variant (of product 6)."""
    engine = db.engine()
    try:
        with transaction(engine) as session:
            shop = session.scalars(sa.select(PlatformConnection).where(PlatformConnection.platform == "shopee")).one()
            listing = PlatformListing(connection_id=shop.id, platform="shopee", remote_item_id="orphan-1",
                                      remote_status="active", remote_title="Old enamel mug")  # fmt: skip
            session.add(listing)
            session.flush()
            sku = PlatformListingSku(listing_id=listing.id, connection_id=shop.id, remote_sku_id="0",
                                     seller_sku=SELLER, sku_key=sku_key(SELLER), currency="MYR",
                                     remote_price=Decimal("10.00"), remote_stock=7)  # fmt: skip
            session.add(sku)
            session.flush()
            variant = session.scalars(
                sa.select(ProductVariant).where(ProductVariant.product_id == 6).order_by(ProductVariant.id)
            ).first()
            assert variant is not None
            session.expunge(variant)
            return sku.id, variant
    finally:
        engine.dispose()


def binding_of(db: SeededDatabase, listing_sku_id: int) -> int | None:
    engine = db.engine()
    try:
        with transaction(engine) as session:
            return session.get_one(PlatformListingSku, listing_sku_id).variant_id
    finally:
        engine.dispose()


def orphans(at: AppTest) -> AppTest:
    at.selectbox(key="listings_state").select("orphan").run()
    return at


def test_a_viewer_sees_states_and_counts_but_no_actions(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    add_orphan(seeded_db)
    at = app_as("viewer", "listings")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Orphans"] == "1" and int(metrics["Bound"]) > 0 and metrics["Excluded"] == "0"
    orphans(at)
    table = frame_with(at, "Seller SKU")
    assert list(table["Seller SKU"]) == [SELLER]
    assert list(table["Why"]) == ["no master SKU has the key 'oldmug7'"]
    assert "Bind" not in [b.label for b in at.button] and "Preview binding" not in [b.label for b in at.button]
    assert any("may not edit the catalog" in c.value for c in at.caption)


def test_the_shop_filter_offers_shops_by_platform_and_name(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    add_orphan(seeded_db)
    at = app_as("viewer", "listings")
    picker = at.selectbox(key="listings_shop")
    assert picker.options == ["Every shop", "Shopee · Demo Shopee MY", "TikTok Shop · Demo TikTok MY"]
    engine = seeded_db.engine()
    with transaction(engine) as session:
        tiktok = next(c.id for c in connections.list_connections(session) if c.platform == "tiktokshop")
    engine.dispose()
    picker.select(tiktok).run()
    assert set(frame_with(at, "Seller SKU")["Shop"]) == {"TikTok Shop · Demo TikTok MY"}
    assert {m.label: m.value for m in at.metric}["Orphans"] == "0"


def test_an_editor_previews_then_binds_an_orphan(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    sku_id, variant = add_orphan(seeded_db)
    at = orphans(app_as("editor", "listings"))
    assert next(b for b in at.button if b.label == "Bind").disabled  # preview first
    at.text_input(key=f"listings_master_{sku_id}").input(variant.sku.lower()).run()
    at.button(key="listings_preview_button").click().run()
    assert not at.exception
    preview = " ".join(i.value for i in at.info).replace("\\", "")
    assert f"shop Demo Shopee MY, SKU {SELLER}: stock 7 -> {variant.stock}" in preview
    at.button(key="listings_bind").click().run()
    assert not at.exception
    assert binding_of(seeded_db, sku_id) == variant.id
    assert any("Bound: shop Demo Shopee MY" in s.value for s in at.success)
    at.selectbox(key="listings_state").select("bound").run()
    at.text_input(key="listings_search").input("old-mug").run()
    table = frame_with(at, "Seller SKU")
    assert (list(table["Seller SKU"]), list(table["Master SKU"])) == ([SELLER], [variant.sku])


def test_binding_a_variant_already_bound_in_the_shop_is_refused(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    sku_id, _ = add_orphan(seeded_db)
    at = orphans(app_as("editor", "listings"))
    bound_sku = "KS-TEE00001-BLACK-S"  # product 1 is bound in both shops by the seed
    at.text_input(key=f"listings_master_{sku_id}").input(bound_sku).run()
    at.button(key="listings_preview_button").click().run()
    assert any(f"master SKU {bound_sku} is already bound in this shop" in e.value for e in at.error)
    assert binding_of(seeded_db, sku_id) is None


def test_bulk_csv_previews_refuses_strictly_then_applies(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    sku_id, variant = add_orphan(seeded_db)
    at = app_as("editor", "listings")
    at.text_area(key="listings_csv_text").input(f"seller_sku,master_sku,shop\n{SELLER},{variant.sku},\nNOPE,X,\n").run()
    at.button(key="listings_csv_preview_button").click().run()
    lines = frame_with(at, "Outcome")
    assert list(lines["Outcome"]) == ["bind", "refused"]
    assert list(lines["Why"])[1] == "no master SKU X"
    pushed = list(lines["Would push"])
    assert pushed[0].startswith("stock 7 -> ") and pushed[1] == ""
    assert any("1 line refused" in e.value for e in at.error)
    assert "listings_csv_apply" not in [b.key for b in at.button]
    at.text_area(key="listings_csv_text").input(f"{SELLER},{variant.sku},Demo Shopee MY\n").run()
    at.button(key="listings_csv_preview_button").click().run()
    at.button(key="listings_csv_apply").click().run()
    assert not at.exception
    assert binding_of(seeded_db, sku_id) == variant.id


def test_an_editor_sets_a_shop_prefix_and_the_orphan_is_matched(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    add_orphan(seeded_db)
    at = app_as("editor", "listings")
    shop_id = at.selectbox(key="listings_rules_shop").value  # the first shop by name: Demo Shopee MY
    at.text_input(key=f"listings_prefix_{shop_id}").input("OLD-")
    at.button[[b.label for b in at.button].index("Save rules")].click().run()
    assert not at.exception
    assert any("Saved the SKU rules of Shopee · Demo Shopee MY" in s.value for s in at.success)
    orphans(at)
    assert list(frame_with(at, "Seller SKU")["Why"]) == ["no master SKU has the key 'mug7'"]


def test_an_editor_creates_a_master_product_from_an_orphan_listing(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    sku_id, _ = add_orphan(seeded_db)
    at = orphans(app_as("editor", "listings"))
    at.button(key="listings_create").click().run()
    assert not at.exception
    assert any("with 1 SKU, bound: OLD-MUG-7" in s.value for s in at.success), [s.value for s in at.success]
    assert binding_of(seeded_db, sku_id) is not None


def test_the_chosen_skus_state_is_a_coloured_badge_not_an_emoji(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    add_orphan(seeded_db)
    at = orphans(app_as("viewer", "listings"))
    said = " ".join(m.value for m in at.markdown)
    assert ":orange-badge[orphan]" in said, said
    assert not any(mark in said for mark in ("🟢", "🟠", "⚪"))
    assert list(frame_with(at, "Seller SKU")["State"]) == ["orphan"]
