# The Overview's reads: shop health, the counts needing action, today's figures and sync activity per hour.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import (
    Alert,
    InventoryHistory,
    Order,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductConflict,
    ProductVariant,
    SyncLog,
)
from syncstore.db.types import utcnow
from syncstore.reports import overview
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
NOW = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # 01:30 on the 8th in Kuala Lumpur


def _shop(session: sa.orm.Session, platform: str, shop_id: str, name: str, **values: object) -> PlatformConnection:
    shop = PlatformConnection(platform=platform, shop_id=shop_id, shop_name=name, status="connected", **values)
    session.add(shop)
    session.flush()
    return shop


def _log(session: sa.orm.Session, shop: PlatformConnection | None, status: str, at: datetime) -> None:
    session.add(
        SyncLog(connection_id=shop.id if shop else None, platform=shop.platform if shop else "shopee",
                operation="update_stock", status=status, created_at=at)
    )  # fmt: skip


def _variants(session: sa.orm.Session) -> list[ProductVariant]:
    product = catalog.create_product(
        EDITOR, session,
        {"title": "Lamp", "category": "Home", "base_price": "10.00",
         "variants": [{"sku": "LAMP-S", "name": "S", "stock": 2}, {"sku": "LAMP-M", "name": "M", "stock": 9},
                      {"sku": "LAMP-L", "name": "L", "stock": 1}]},
    )  # fmt: skip
    return list(product.variants)


def test_shop_health_counts_failures_of_the_last_day_per_shop(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        shopee = _shop(
            session, "shopee", "1001", "Kedai Demo", api_quota_used=8_500, api_quota_limit=10_000,
            access_token_expires_at=NOW + timedelta(hours=2), refresh_token_expires_at=NOW + timedelta(days=2),
            last_synced_at=NOW - timedelta(minutes=5),
        )  # fmt: skip
        tiktok = _shop(
            session, "tiktokshop", "7001", "Amir TikTok", access_token_expires_at=NOW - timedelta(hours=1),
            refresh_token_expires_at=NOW + timedelta(days=30),
        )  # fmt: skip
        _shop(session, "shopee", "1002", "Lapsed", access_token_expires_at=NOW - timedelta(hours=1))
        for status in ("success", "success", "success", "failed"):
            _log(session, shopee, status, NOW - timedelta(hours=1))
        _log(session, shopee, "failed", NOW - timedelta(hours=30))  # older than a day: not counted
        _log(session, shopee, "pending", NOW - timedelta(minutes=1))  # not sent yet: not counted
        _log(session, tiktok, "success", NOW - timedelta(hours=2))
    with transaction(engine) as session:
        shops = {shop.shop_name: shop for shop in overview.shop_health(session, now=NOW)}
    assert list(shops) == ["Amir TikTok", "Kedai Demo", "Lapsed"]
    demo, amir = shops["Kedai Demo"], shops["Amir TikTok"]
    assert (demo.sent, demo.failed, demo.failure_rate) == (4, 1, 0.25)
    assert (amir.sent, amir.failed, amir.failure_rate) == (1, 0, 0.0)
    assert demo.quota_high and demo.token_trouble(NOW) and not demo.healthy(NOW)  # authorization ends in 2 days
    # An expired access token with a good refresh token is renewed by the workers: no trouble.
    assert not amir.quota_high and not amir.token_trouble(NOW) and amir.healthy(NOW)
    assert shops["Lapsed"].token_trouble(NOW) and shops["Lapsed"].failure_rate is None
    assert demo.last_synced_at == NOW - timedelta(minutes=5)


def test_attention_counts_only_what_needs_action(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        shop = _shop(session, "shopee", "1001", "Kedai Demo")
        low, fine, inactive = _variants(session)
        low.low_stock_threshold, low.reserved = 3, 1  # available 1 <= 3
        fine.low_stock_threshold = 3  # available 9
        inactive.low_stock_threshold, inactive.is_active = 5, False
        listings = {}
        for key, status, remote in (("A", "in_review", "active"), ("B", "synced", "active"),
                                    ("C", "in_review", "active"), ("D", "synced", "deleted")):  # fmt: skip
            listings[key] = PlatformListing(connection_id=shop.id, platform="shopee", remote_item_id=key,
                                            remote_status=remote, sync_status=status)  # fmt: skip
            session.add(listings[key])
        session.flush()
        session.add_all(
            [
                PlatformListingSku(listing_id=listings["B"].id, connection_id=shop.id, remote_sku_id="1"),  # orphan
                PlatformListingSku(
                    listing_id=listings["B"].id, connection_id=shop.id, remote_sku_id="2", binding_excluded=True
                ),
                PlatformListingSku(
                    listing_id=listings["B"].id, connection_id=shop.id, remote_sku_id="3", variant_id=fine.id
                ),
                PlatformListingSku(listing_id=listings["D"].id, connection_id=shop.id, remote_sku_id="4"),  # gone
                ProductConflict(conflict_key="a", connection_id=shop.id, platform="shopee", field="title"),
                ProductConflict(conflict_key="b", connection_id=shop.id, platform="shopee", field="price"),
                ProductConflict(
                    conflict_key="c", connection_id=shop.id, platform="shopee", field="stock", status="resolved"
                ),
                Alert(alert_key="quota:x", kind="quota", subject="x", severity="warning", message="m", details={}),
                Alert(
                    alert_key="quota:y",
                    kind="quota",
                    subject="y",
                    severity="warning",
                    message="m",
                    details={},
                    status="resolved",
                ),
            ]
        )
        for status in ("failed", "failed", "failed", "superseded", "success"):
            _log(session, shop, status, utcnow() - timedelta(hours=2))
        _log(session, shop, "failed", utcnow() - timedelta(days=2))  # older than a day: on Sync activity only
    with transaction(engine) as session:
        counts = overview.attention(session)
    assert counts == overview.Attention(
        pending_conflicts=2, failed_changes=3, listings_in_review=2, orphan_skus=1, low_stock_variants=1, open_alerts=1
    )


def test_today_starts_at_the_viewers_midnight(engine: sa.Engine) -> None:
    kuala_lumpur = ZoneInfo("Asia/Kuala_Lumpur")
    since = overview.local_midnight(NOW, kuala_lumpur)
    assert since == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    assert overview.local_midnight(NOW, ZoneInfo("UTC")) == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    with transaction(engine) as session:
        shop = _shop(session, "shopee", "1001", "Kedai Demo")
        variant = _variants(session)[0]
        session.execute(sa.delete(InventoryHistory))  # the opening stock, written now (not on the test's day)
        for previous, new, at in ((5, 3, since + timedelta(minutes=10)), (3, 7, since + timedelta(hours=1)),
                                  (7, 7, since + timedelta(hours=1)),  # reserved only: no stock moved
                                  (9, 5, since - timedelta(minutes=1))):  # fmt: skip
            session.add(InventoryHistory(variant_id=variant.id, previous_quantity=previous, new_quantity=new,
                                         change_reason="manual", created_at=at))  # fmt: skip
        for number, (units, at) in enumerate(((2, since + timedelta(minutes=5)), (1, since - timedelta(hours=2)))):
            session.add(Order(connection_id=shop.id, platform="shopee", shop_id="1001", order_id=f"O{number}",
                              status="paid", updated_at=at, first_seen_at=at, units=units))  # fmt: skip
    with transaction(engine) as session:
        figures = overview.today(session, since)
    assert (figures.stock_changes, figures.units_moved, figures.orders, figures.order_units) == (2, 6, 1, 2)


def test_activity_by_hour_has_every_hour_and_counts_each_status(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        shop = _shop(session, "shopee", "1001", "Kedai Demo")
        for status, at in (("success", NOW - timedelta(minutes=20)), ("success", NOW - timedelta(minutes=10)),
                           ("failed", NOW - timedelta(minutes=5)), ("pending", NOW - timedelta(hours=3)),
                           ("success", NOW - timedelta(hours=30))):  # fmt: skip
            _log(session, shop, status, at)
    with transaction(engine) as session:
        hours = overview.activity_by_hour(session, now=NOW)
    assert len(hours) == 24
    assert hours[-1].hour == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    assert hours[0].hour == datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    assert hours[-1].counts["success"] == 2 and hours[-1].counts["failed"] == 1
    assert hours[-4].counts["pending"] == 1
    assert sum(hour.total for hour in hours) == 4  # the one from 30 h ago is outside the chart
