# The Overview page: the landing page; counts needing action with links, today's figures, shop health, activity chart.
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from streamlit_app import attention
from syncstore.db.engine import transaction
from syncstore.db.models import (
    Alert,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductConflict,
    ProductVariant,
    SyncLog,
    User,
)
from syncstore.db.types import utcnow
from syncstore.reports import overview
from tests.streamlit_app.conftest import AppAs, SeededDatabase


def _shops(session: sa.orm.Session) -> list[PlatformConnection]:
    return list(session.scalars(sa.select(PlatformConnection).order_by(PlatformConnection.id)))


def _needing_action(database: SeededDatabase) -> None:
    """A pending conflict, two failed changes, a listing in review, an orphan SKU, a low-stock variant, an alert."""
    engine = database.engine()
    try:
        with transaction(engine) as session:
            shop = _shops(session)[0]
            variant = session.scalars(sa.select(ProductVariant).order_by(ProductVariant.id)).first()
            assert variant is not None
            variant.low_stock_threshold = variant.stock - variant.reserved + 1
            listing = PlatformListing(connection_id=shop.id, platform=shop.platform, remote_item_id="new-1",
                                      remote_status="in_review", sync_status="in_review")  # fmt: skip
            session.add(listing)
            session.flush()
            session.add_all(
                [
                    PlatformListingSku(listing_id=listing.id, connection_id=shop.id, remote_sku_id="x", seller_sku="X"),
                    ProductConflict(conflict_key="k", connection_id=shop.id, platform=shop.platform, field="title"),
                    Alert(alert_key="quota:s", kind="quota", subject="s", severity="warning", message="m", details={}),
                ]
            )
            for _ in range(2):
                session.add(SyncLog(connection_id=shop.id, platform=shop.platform, operation="update_price",
                                    status="failed", created_at=utcnow() - timedelta(minutes=30)))  # fmt: skip
    finally:
        engine.dispose()


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def links(at: AppTest) -> dict[str, str]:
    """Page links on the page: label -> the page they open."""
    found = {}
    for element in at.get("page_link"):
        proto: Any = element.proto
        found[proto.label] = proto.page
    return found


def test_a_signed_in_user_lands_on_the_overview(sqlite_app_as: AppAs) -> None:
    at = sqlite_app_as("viewer")
    assert not at.exception
    assert at.title[0].value == "Overview"


def test_the_counts_that_need_action_link_to_their_pages(
    sqlite_seeded_db: SeededDatabase, sqlite_app_as: AppAs
) -> None:
    at = sqlite_app_as("admin")
    assert metrics(at)["Pending conflicts"] == "0" and metrics(at)["Failed changes"] == "0"
    assert "Nothing needs your attention." in [s.value for s in at.success]

    _needing_action(sqlite_seeded_db)
    st.cache_data.clear()  # as a write through the app does (ui.after_write); else the counts refresh in 30 s
    at.run()
    assert not at.exception
    shown = metrics(at)
    assert shown["Pending conflicts"] == "1"
    assert shown["Failed changes"] == "2"
    assert shown["Listings in review"] == "1"
    assert shown["Orphan SKUs"] == "1"
    assert shown["Low-stock variants"] == "1"
    assert shown["Open alerts"] == "1"
    assert "Nothing needs your attention." not in [s.value for s in at.success]
    targets = links(at)
    assert targets["Resolve"].endswith("conflicts")
    assert targets["Bind SKUs"].endswith("listings")
    assert targets["See alerts"].endswith("admin")


def test_a_viewer_sees_the_alert_count_without_a_link_to_admin(
    sqlite_seeded_db: SeededDatabase, sqlite_app_as: AppAs
) -> None:
    _needing_action(sqlite_seeded_db)
    at = sqlite_app_as("viewer")
    assert not at.exception
    assert metrics(at)["Open alerts"] == "1"
    assert "See alerts" not in links(at)
    assert "An admin sees them." in [c.value for c in at.caption]


def test_the_menu_shows_the_counts_next_to_the_pages() -> None:
    counts = overview.Attention(
        pending_conflicts=3, failed_changes=0, listings_in_review=4, orphan_skus=1_200, low_stock_variants=1,
        open_alerts=2,
    )  # fmt: skip
    assert attention.nav_title("views/conflicts.py", "Conflicts", counts) == "Conflicts (3)"
    assert attention.nav_title("views/sync_activity.py", "Sync activity", counts) == "Sync activity"
    assert attention.nav_title("views/listings.py", "Listings", counts) == "Listings (1,200)"
    assert attention.nav_title("views/products.py", "Products", counts) == "Products"
    assert attention.nav_title("views/conflicts.py", "Conflicts", None) == "Conflicts"


def _chart_rows(at: AppTest) -> list[dict[str, Any]]:
    """The rows the activity chart draws (its Arrow data set)."""
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    proto: Any = charts[0].proto
    spec = json.loads(proto.spec)
    assert spec["mark"]["type"] == "bar" if isinstance(spec["mark"], dict) else spec["mark"] == "bar"
    datasets = [named.data.data for named in proto.datasets] or [proto.data.data]
    rows: list[dict[str, Any]] = []
    for blob in datasets:
        rows += pl.read_ipc_stream(io.BytesIO(blob)).to_dicts()
    return rows


def test_the_activity_chart_draws_the_changes_of_each_hour(
    sqlite_seeded_db: SeededDatabase, sqlite_app_as: AppAs
) -> None:
    last_hour = utcnow().replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)
    engine = sqlite_seeded_db.engine()
    try:
        with transaction(engine) as session:
            shop = _shops(session)[0]
            session.execute(
                sa.update(User).where(User.email == "editor@example.com").values(time_zone="Asia/Kuala_Lumpur")
            )
            for status, hours_before in (
                ("success", 0),
                ("success", 0),
                ("failed", 0),
                ("success", 3),
                ("pending", 30),
            ):
                session.add(SyncLog(connection_id=shop.id, platform=shop.platform, operation="update_stock",
                                    status=status, created_at=last_hour - timedelta(hours=hours_before)))  # fmt: skip
    finally:
        engine.dispose()
    at = sqlite_app_as("editor")  # whose time zone is Kuala Lumpur's (UTC+8)
    assert not at.exception
    assert "4 changes logged · 1 failed" in [c.value for c in at.caption]
    rows = _chart_rows(at)
    assert len({row["hour"] for row in rows}) == 24
    drawn = {(row["hour"], row["status"]): row["changes"] for row in rows if row["changes"]}

    def local(moment: datetime) -> str:  # the hour as read in Kuala Lumpur
        return (moment + timedelta(hours=8)).strftime("%H:00")

    assert drawn == {
        (local(last_hour), "success"): 2,
        (local(last_hour), "failed"): 1,
        (local(last_hour - timedelta(hours=3)), "success"): 1,
    }  # the entry of 30 hours ago is not on the chart
    assert any(c.value.startswith("Since midnight") and "+08" in c.value for c in at.caption)


def test_each_shop_shows_its_health(sqlite_seeded_db: SeededDatabase, sqlite_app_as: AppAs) -> None:
    engine = sqlite_seeded_db.engine()
    try:
        with transaction(engine) as session:
            first, second = _shops(session)
            first.refresh_token_expires_at = utcnow() + timedelta(days=2)
            first.api_quota_used, first.api_quota_limit = 9_000, 10_000
            first.last_synced_at = utcnow() - timedelta(minutes=3)
            for status in ("success", "failed", "success", "success"):
                session.add(SyncLog(connection_id=first.id, platform=first.platform, operation="update_stock",
                                    status=status, created_at=utcnow() - timedelta(hours=2)))  # fmt: skip
            second_name = second.shop_name
    finally:
        engine.dispose()
    at = sqlite_app_as("viewer")
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("Authorization valid until") for w in warnings)  # ends in 2 days: said loudly
    assert "1 of 4 changes failed in the last 24 hours (25%)" in [e.value for e in at.error]
    captions = [c.value for c in at.caption]
    assert "Healthy: 1 of 2 shops" in captions
    assert any(c.startswith("Last sync:") and "3 minutes ago" in c for c in captions)
    assert "No change sent in the last 24 hours" in captions
    assert any(second_name in m.value for m in at.markdown)
    bars = [p.proto.text for p in at.get("progress")]
    assert "API calls today: 9,000 of 10,000 (90%)" in bars


def test_the_overview_speaks_the_users_language(sqlite_seeded_db: SeededDatabase, sqlite_app_as: AppAs) -> None:
    engine = sqlite_seeded_db.engine()
    try:
        with transaction(engine) as session:
            session.execute(sa.update(User).where(User.email == "viewer@example.com").values(language="ms"))
    finally:
        engine.dispose()
    at = sqlite_app_as("viewer")
    assert not at.exception
    assert at.title[0].value == "Gambaran keseluruhan"
    assert "Konflik belum selesai" in metrics(at)
    assert "Sihat: 2 daripada 2 kedai" in [c.value for c in at.caption]


def test_the_figures_refresh_by_themselves_in_the_next_refresh_slot(
    sqlite_seeded_db: SeededDatabase, sqlite_app_as: AppAs, monkeypatch: Any
) -> None:
    """No write through the app clears the cache here: the figures change because a new refresh slot began
    (what the fragment's timed rerun finds every 30 s); the menu's counts, read the same way, follow."""
    slot = [1_000]
    monkeypatch.setattr(attention, "refresh_slot", lambda: slot[0])
    at = sqlite_app_as("admin")
    assert not at.exception
    assert metrics(at)["Pending conflicts"] == "0"
    assert "These figures refresh by themselves every 30 seconds." in [c.value for c in at.caption]

    _needing_action(sqlite_seeded_db)  # written elsewhere (a sync run, a webhook): the app's cache is not cleared
    at.run()
    assert metrics(at)["Pending conflicts"] == "0"  # the same slot: the figures read a moment ago

    slot[0] += 1
    at.run()
    assert not at.exception
    shown = metrics(at)
    assert shown["Pending conflicts"] == "1" and shown["Failed changes"] == "2" and shown["Open alerts"] == "1"
    assert attention.counts().pending_conflicts == 1  # what the menu shows on its next rerun
