# The Orders page: orders of every shop with their bound SKUs, filters, the detail's ledger effects and link.
from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from connectors import registry
from connectors.base import OrderStatus
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, ProductVariant
from syncstore.security.auth import Actor
from syncstore.shops import connections
from tests.connectors.fake_marketplace.spec import PLATFORM as FAKEMART
from tests.connectors.fake_marketplace.spec import make_spec
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with
from tests.syncstore.orders.seen import T0, line, remote_order, see

NOT_BACKFILLED = "orders placed before are not backfilled"


def place_orders(db: SeededDatabase) -> tuple[str, str]:
    """Shopee order 2412SH (paid, a bound SKU and an unknown one), then TikTok order 5770TT (shipped). Their SKUs."""
    engine = db.engine()
    with transaction(engine) as session:
        shops = {c.platform: (c.id, c.shop_id) for c in session.scalars(sa.select(PlatformConnection))}
        first, second = session.scalars(sa.select(ProductVariant.sku).order_by(ProductVariant.id).limit(2)).all()
    shopee_id, shopee_shop = shops["shopee"]
    tiktok_id, tiktok_shop = shops["tiktokshop"]
    see(
        engine,
        shopee_id,
        remote_order(
            ("shopee", shopee_shop), "2412SH", OrderStatus.PAID, line("1", first.lower(), 2), line("2", "NOT-A-SKU", 1)
        ),
    )
    see(
        engine,
        tiktok_id,
        remote_order(
            ("tiktokshop", tiktok_shop),
            "5770TT",
            OrderStatus.SHIPPED,
            line("1", second, 1),
            updated_at=T0 + timedelta(hours=1),
        ),
    )
    engine.dispose()
    return first, second


def test_with_no_order_yet_the_page_says_orders_are_recorded_from_now_on(app_as: AppAs) -> None:
    at = app_as("viewer", "orders")
    assert not at.exception
    assert any(NOT_BACKFILLED in info.value for info in at.info)


def test_a_viewer_sees_every_shop_s_orders_newest_first_with_their_master_skus(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    first, second = place_orders(seeded_db)
    at = app_as("viewer", "orders")
    assert not at.exception
    table = frame_with(at, "Lines")
    assert list(table["Lines"].iloc[0]) == [f"{second} x1 → {second}"]
    assert list(table["Order"]) == ["5770TT", "2412SH"]
    assert list(table["Shop"]) == ["Demo TikTok MY", "Demo Shopee MY"]
    assert list(table["Platform"]) == ["TikTok Shop", "Shopee"]
    assert [list(status) for status in table["Status"]] == [["shipped"], ["paid"]]
    assert list(table["Lines"].iloc[1]) == [f"{first.lower()} x2 → {first}", "NOT-A-SKU x1 → unbound"]


def test_the_detail_shows_the_ledger_effects_per_line_and_links_to_the_seller_centre(
    app_as: AppAs, seeded_db: SeededDatabase
) -> None:
    first, _ = place_orders(seeded_db)
    at = app_as("viewer", "orders")
    pick = at.selectbox(key="ord_pick")
    pick.select(next(option for option in pick.options if option.startswith("2412SH"))).run()
    assert not at.exception
    effects = frame_with(at, "Transition")
    assert [(r["Line"], r["Transition"], r["SKU"], r["On hand"], r["Reserved"]) for _, r in effects.iterrows()] == [
        ("1", "reserve", first, 0, 2)
    ]
    lines = frame_with(at, "Master SKU")
    assert list(lines["Master SKU"]) == [first, "unbound"]
    [link] = at.link_button  # type: ignore[attr-defined]
    assert link.proto.url.startswith("https://seller.shopee.com.my/") and "2412SH" in link.proto.url


def test_filters_narrow_the_list_and_say_when_nothing_matches(app_as: AppAs, seeded_db: SeededDatabase) -> None:
    _, second = place_orders(seeded_db)
    at = app_as("viewer", "orders")
    at.text_input(key="ord_search").input(second).run()
    assert list(frame_with(at, "Lines")["Order"]) == ["5770TT"]
    at.text_input(key="ord_search").input("").run()
    at.selectbox(key="ord_status").select("paid").run()
    assert list(frame_with(at, "Lines")["Order"]) == ["2412SH"]
    at.selectbox(key="ord_status").select("cancelled").run()
    assert not at.exception
    assert [info.value for info in at.info] == ["No order matches these filters."]


def test_many_orders_are_paged_newest_first(sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase) -> None:
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        shop = session.scalars(sa.select(PlatformConnection).where(PlatformConnection.platform == "shopee")).one()
        connection_id, shop_id = shop.id, shop.shop_id
    for n in range(55):
        see(engine, connection_id, remote_order(("shopee", shop_id), f"N{n:03}", OrderStatus.PAID, line("1", "X-9")))
    engine.dispose()
    at = sqlite_app_as("viewer", "orders")
    assert list(frame_with(at, "Lines")["Order"])[:2] == ["N054", "N053"]
    assert any("Orders 1 to 50 of 55" in c.value for c in at.caption)
    at.pagination[0].select(2).run()
    assert not at.exception
    assert list(frame_with(at, "Lines")["Order"]) == ["N004", "N003", "N002", "N001", "N000"]


def test_a_platform_without_a_seller_centre_link_shows_none(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    unregister = registry.register(make_spec(httpx.MockTransport(lambda request: httpx.Response(404))))
    try:
        engine = sqlite_seeded_db.engine()
        with transaction(engine) as session:
            shop = connections.save_connection(
                Actor.command_line(), session, platform=FAKEMART, shop_id="fm-1", shop_name="Fake shop",
                access_token="a", refresh_token="r", access_token_expires_at=None, refresh_token_expires_at=None,
            )  # fmt: skip
            connection_id = shop.id
        see(engine, connection_id, remote_order((FAKEMART, "fm-1"), "FM-77", OrderStatus.PAID, line("1", "X-1")))
        engine.dispose()
        at = sqlite_app_as("viewer", "orders")
        assert not at.exception
        assert list(at.link_button) == []  # type: ignore[attr-defined]
        assert any("Fake Mart offers no link to its orders." in c.value for c in at.caption)
    finally:
        unregister()


def test_status_is_a_coloured_badge_and_times_are_in_the_users_zone(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    import json

    from syncstore.db.engine import transaction
    from syncstore.security import preferences
    from syncstore.security.auth import Role

    place_orders(sqlite_seeded_db)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        preferences.change(session, sqlite_seeded_db.actors[Role.VIEWER], None, "Asia/Kuala_Lumpur")
    engine.dispose()
    at = sqlite_app_as("viewer", "orders")
    assert not at.exception
    said = " ".join(m.value for m in at.markdown)
    assert ":violet-badge[shipped]" in said, said  # the newest order, chosen first
    assert any("Times are in your time zone (Asia/Kuala_Lumpur)" in c.value for c in at.caption)
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["First seen"]["type_config"]["timezone"] == "Asia/Kuala_Lumpur", config["First seen"]
    assert "paid" in at.selectbox(key="ord_status").options and "Any status" in at.selectbox(key="ord_status").options
