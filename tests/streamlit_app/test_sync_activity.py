# The Sync activity page over real syncs to the simulators: health, runs, filtered logs, retry for Editors/Admins.
from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from connectors.retry import RetryPolicy
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import FaultPlan
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from demo.images import SampleImageServer
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import SyncJob, SyncLog
from syncstore.db.types import utcnow
from syncstore.errors import PermissionDenied
from syncstore.plan import inputs as sync_inputs
from syncstore.plan import store
from syncstore.security.auth import Actor, Role
from syncstore.settings import get_settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from tests.streamlit_app.conftest import AppAs, SeededDatabase

PARTNER_ID, PARTNER_KEY = 2001887, "sim-partner-key-0123456789"
APP_KEY, APP_SECRET = "sim-app-key", "sim-app-secret-0123456789"
SHOPEE_SHOP, TIKTOK_SHOP = 200001, "7300001"
CATEGORY = "Fashion > Linen"
DAGSTER = "http://dagster.test:3000"


@dataclass
class Synced:
    shopee: ShopeeSimulator
    tiktok: TikTokShopSimulator
    shopee_connection: int
    tiktok_connection: int
    product_id: int
    run_id: str
    failed_log: int
    succeeded_log: int


def _log_ids(db: SeededDatabase, status: str) -> list[int]:
    engine = db.engine()
    with transaction(engine) as session:
        logs, _ = sync.list_sync_logs(session, status=status)
    engine.dispose()
    return [log.id for log in logs]


@pytest.fixture
def synced(seeded_db: SeededDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Synced]:
    """Two more shops on the simulators and one product synced to both: TikTok Shop took it, Shopee failed."""
    shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY)
    tiktok = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET)
    shopee_url, tiktok_url = shopee.start(), tiktok.start()
    images = SampleImageServer()
    image_base = images.start()
    env = {
        "SHOPEE_PARTNER_ID": str(PARTNER_ID), "SHOPEE_PARTNER_KEY": PARTNER_KEY, "SHOPEE_HOST": shopee_url,
        "TIKTOKSHOP_APP_KEY": APP_KEY, "TIKTOKSHOP_APP_SECRET": APP_SECRET, "TIKTOKSHOP_API_HOST": tiktok_url,
        "TIKTOKSHOP_AUTH_HOST": tiktok_url, "TIKTOKSHOP_AUTHORIZE_HOST": tiktok_url, "DAGSTER_URL": DAGSTER,
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(f"SYNCSTORE_{name}", value)
    get_settings.cache_clear()
    try:
        shopee.add_shop(SHOPEE_SHOP, "Linen Lane", currency="MYR")
        cipher = tiktok.add_shop(TIKTOK_SHOP, "Linen Lane TT", currency="MYR")
        engine = seeded_db.engine()
        cli, editor = Actor.command_line(), seeded_db.actors[Role.EDITOR]
        shopee_tokens, tiktok_tokens = shopee.issue_tokens(SHOPEE_SHOP), tiktok.issue_tokens(TIKTOK_SHOP)
        with transaction(engine) as session:
            ids = [
                connections.save_connection(
                    cli, session, platform=platform, shop_id=shop_id, shop_name=name, access_token=tokens[0],
                    refresh_token=tokens[1], access_token_expires_at=utcnow() + timedelta(hours=3),
                    refresh_token_expires_at=None, shop_cipher=shop_cipher,
                ).id
                for platform, shop_id, name, tokens, shop_cipher in (
                    ("shopee", str(SHOPEE_SHOP), "Linen Lane", shopee_tokens, None),
                    ("tiktokshop", TIKTOK_SHOP, "Linen Lane TT", tiktok_tokens, cipher),
                )
            ]  # fmt: skip
            sync.set_category_mapping(editor, session, "shopee", CATEGORY, "100017")
            sync.set_category_mapping(editor, session, "tiktokshop", CATEGORY, "600001")
            product = catalog.create_product(
                editor, session,
                {"title": "Linen shirt", "category": CATEGORY, "base_price": "59.90", "weight_kg": "0.3",
                 "images": [f"{image_base}/linen-shirt/1.jpg"], "description": "<p>Soft linen</p>",
                 "variants": [{"sku": "LIN-UI-1", "name": "M", "price": "59.90", "stock": 10}]},
            )  # fmt: skip
        run_id = str(uuid.uuid4())
        once = RetryPolicy(max_attempts=1)
        for connection_id in ids:  # both shops read once while Shopee still answers
            snapshot.pull(engine, connection_id, marketplaces.connector_for(engine, connection_id, policy=once))
        shopee.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
        for connection_id in ids:
            connector = marketplaces.connector_for(engine, connection_id, policy=once)
            sync.sync_shop(engine, connection_id, connector, product_ids=[product.id], run_id=run_id)
        shopee.faults = FaultPlan()
        engine.dispose()
        [failed], [succeeded] = _log_ids(seeded_db, "failed"), _log_ids(seeded_db, "success")
        yield Synced(shopee, tiktok, ids[0], ids[1], product.id, run_id, failed, succeeded)
    finally:
        shopee.stop()
        tiktok.stop()
        images.stop()
        get_settings.cache_clear()


def column(at: object, name: str, table: int = -1) -> list[object]:
    values = at.dataframe[table].value[name]  # type: ignore[attr-defined]
    return [None if isinstance(value, float) and math.isnan(value) else value for value in values]


def metrics(at: object) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}  # type: ignore[attr-defined]


def choose_log(at: object, log_id: int) -> None:
    at.selectbox(key="log_entry").set_value(log_id).run()  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_every_role_sees_health_runs_and_the_log(app_as: AppAs, synced: Synced, role: str) -> None:
    at = app_as(role, "sync_activity")
    assert not at.exception
    shown = metrics(at)
    assert shown["Failed changes, last 24 h"] == "50.0%"
    assert {"Outbox: pending", "Outbox: done", "Outbox: failed"} <= set(shown)
    assert column(at, "Run", table=0) == [synced.run_id]
    assert column(at, "Dagster", table=0) == [f"{DAGSTER}/runs/{synced.run_id}"]
    assert set(column(at, "Log")) == {synced.failed_log, synced.succeeded_log}
    choose_log(at, synced.failed_log)
    assert any("error_server" in e.value for e in at.error)
    assert [b.proto.url for b in at.link_button] == [f"{DAGSTER}/runs/{synced.run_id}"]
    retry_buttons = [b for b in at.button if b.key == f"retry_{synced.failed_log}"]
    if role == "viewer":
        assert not retry_buttons and any("Read only" in c.value for c in at.caption)
    else:
        assert len(retry_buttons) == 1


def test_an_editor_retries_a_failed_change_and_it_succeeds(
    app_as: AppAs, seeded_db: SeededDatabase, synced: Synced
) -> None:
    at = app_as("editor", "sync_activity")
    choose_log(at, synced.failed_log)
    at.button(key=f"retry_{synced.failed_log}").click().run()
    assert not at.exception
    assert any(f"log {synced.failed_log} succeeded on attempt 2" in s.value for s in at.success)
    assert _log_ids(seeded_db, "failed") == []
    assert len(synced.shopee.state.items) == 1  # the listing now exists on Shopee
    assert metrics(at)["Failed changes, last 24 h"] == "0.0%"


def test_a_viewer_forcing_a_retry_is_refused(seeded_db: SeededDatabase, synced: Synced) -> None:
    engine = seeded_db.engine()
    connectors = marketplaces.connector_factory(engine)
    try:
        with pytest.raises(PermissionDenied):
            sync.retry_failed(seeded_db.actors[Role.VIEWER], engine, synced.failed_log, connectors)
    finally:
        connectors.close()
        engine.dispose()
    assert _log_ids(seeded_db, "failed") == [synced.failed_log]
    assert len(synced.shopee.state.items) == 0


def test_only_failed_entries_offer_a_retry(app_as: AppAs, synced: Synced) -> None:
    at = app_as("admin", "sync_activity")
    choose_log(at, synced.succeeded_log)
    assert not any(b.key == f"retry_{synced.succeeded_log}" for b in at.button)  # only failed entries offer it


def test_log_filters(app_as: AppAs, synced: Synced) -> None:
    at = app_as("viewer", "sync_activity")
    at.selectbox(key="log_status").set_value("failed").run()
    assert column(at, "Log") == [synced.failed_log]
    at.selectbox(key="log_status").set_value(None).run()
    at.selectbox(key="log_shop").set_value(synced.tiktok_connection).run()
    assert column(at, "Log") == [synced.succeeded_log]
    at.selectbox(key="log_shop").set_value(None).run()
    at.selectbox(key="log_operation").set_value("update_price").run()
    assert any("No sync log entry matches" in i.value for i in at.info)
    at.selectbox(key="log_operation").set_value(None).run()
    at.number_input(key="log_product").set_value(synced.product_id).run()
    assert len(column(at, "Log")) == 2
    at.selectbox(key="log_since").set_value("Last hour").run()
    assert len(column(at, "Log")) == 2
    assert not at.exception


def test_the_dry_run_preview_shows_each_shop(app_as: AppAs, synced: Synced) -> None:
    at = app_as("viewer", "sync_activity")
    at.button(key="preview_plan").click().run()
    assert not at.exception
    plans = {e.label: e.markdown[0].value for e in at.expander}
    assert {"Shopee · Linen Lane", "TikTok Shop · Linen Lane TT"} <= set(plans)
    # The create that failed on Shopee is still planned (it costs calls); TikTok Shop has the product already.
    # Sample products in unmapped categories are planned with problems and cost nothing.
    assert "with problems (not sent)" in plans["Shopee · Linen Lane"]
    assert " 0 API calls" not in plans["Shopee · Linen Lane"]
    assert " 0 API calls" in plans["TikTok Shop · Linen Lane TT"]


def test_the_preview_shows_the_plan_catalog_diff_stored_while_it_is_current(
    app_as: AppAs, synced: Synced, seeded_db: SeededDatabase
) -> None:
    engine = seeded_db.engine()
    [shop] = sync_inputs.shops(engine, [synced.tiktok_connection])
    plan_id = store.save(engine, store.plan_now(engine, shop), store.versions(engine, shop.connection_id))
    engine.dispose()
    at = app_as("viewer", "sync_activity")
    at.button(key="preview_plan").click().run()
    assert not at.exception
    plans = {e.label: e.markdown[0].value for e in at.expander}
    assert f"stored plan #{plan_id}" in plans["TikTok Shop · Linen Lane TT"]
    assert "stored plan" not in plans["Shopee · Linen Lane"]  # none stored: planned now


def test_no_sync_yet_says_so(app_as: AppAs) -> None:
    at = app_as("viewer", "sync_activity")
    assert not at.exception
    assert metrics(at)["Failed changes, last 24 h"] == "—"
    assert any("No sync has run yet" in c.value for c in at.caption)
    assert any("No sync log entry matches" in i.value for i in at.info)


def test_each_shop_card_shows_its_own_failure_rate(app_as: AppAs, synced: Synced) -> None:
    at = app_as("viewer", "connections")
    assert not at.exception
    cards = [m.value for m in at.markdown if "Failed changes, last 24 h" in m.value]
    assert len(cards) == 4
    assert sum(":red[100.0%]" in card for card in cards) == 1  # Linen Lane on Shopee
    assert sum("last 24 h: 0.0%" in card for card in cards) == 1  # Linen Lane on TikTok Shop
    assert sum("none sent" in card for card in cards) == 2  # the seeded shops


# --- issue 18: Apply now, runs counted in full, "not sent", badges and plurals ------------------------


def _add_logs(db: SeededDatabase, rows: list[dict[str, object]]) -> None:
    engine = db.engine()
    with transaction(engine) as session:
        session.execute(sa.insert(SyncLog), rows)
    engine.dispose()


def test_recent_runs_count_every_change_of_a_run(app_as: AppAs, seeded_db: SeededDatabase, synced: Synced) -> None:
    at_row = {"platform": "tiktokshop", "connection_id": synced.tiktok_connection, "operation": "update_stock",
              "status": "success", "run_id": synced.run_id, "created_at": utcnow(), "synced_at": utcnow()}  # fmt: skip
    _add_logs(seeded_db, [dict(at_row) for _ in range(700)])
    at = app_as("viewer", "sync_activity")
    assert not at.exception
    # 2 changes from the sync + 700: all of them, where the page used to stop at the last 500 log rows.
    assert column(at, "Changes", table=0) == [702]
    assert column(at, "Failed", table=0) == [1]
    assert column(at, "Shops", table=0) == ["Linen Lane, Linen Lane TT"]


def test_a_log_entry_never_answered_says_not_sent(app_as: AppAs, seeded_db: SeededDatabase, synced: Synced) -> None:
    _add_logs(seeded_db, [{"platform": "shopee", "connection_id": synced.shopee_connection, "operation": "update_price",
                           "status": "pending", "run_id": "by-hand", "created_at": utcnow(), "request_data": None,
                           "response_data": None}])  # fmt: skip
    at = app_as("viewer", "sync_activity")
    pending = [i for i in at.selectbox(key="log_entry").options if "pending" in i]
    assert pending, at.selectbox(key="log_entry").options
    at.selectbox(key="log_entry").select_index(at.selectbox(key="log_entry").options.index(pending[0])).run()
    assert not at.exception and not at.error
    assert sum("not sent" in m.value for m in at.markdown) == 2  # request and response, no JSON viewer
    assert not at.json
    assert any(":orange-badge[pending]" in m.value for m in at.markdown)


def test_apply_now_queues_the_previewed_changes_and_shows_progress(
    app_as: AppAs, seeded_db: SeededDatabase, synced: Synced
) -> None:
    viewer = app_as("viewer", "sync_activity")
    viewer.button(key="preview_plan").click().run()
    assert "apply_plan" not in [b.key for b in viewer.button]  # viewers see the plan, cannot send it

    at = app_as("editor", "sync_activity")
    at.button(key="preview_plan").click().run()
    apply = at.button(key="apply_plan")
    engine = seeded_db.engine()
    planned = [
        (plan.connection_id, c.operation)
        for plan in sync.dry_run(engine)
        for c in plan.changes
        if c.product_id == synced.product_id and not c.issues
    ]
    engine.dispose()
    # The failed create on Shopee is still pending (and on a seeded shop); changes with problems are not offered.
    shops = sorted({shop for shop, _ in planned})
    assert synced.shopee_connection in shops and synced.tiktok_connection not in shops, planned
    assert apply.label == f"Apply now: {len(planned)} changes for 1 product"
    apply.click().run()
    assert not at.exception  # (the log's failed entry below shows its own error)
    engine = seeded_db.engine()
    with transaction(engine) as session:
        [job] = session.scalars(sa.select(SyncJob)).all()
    engine.dispose()
    assert (job.product_ids, job.connection_ids, job.status) == ([synced.product_id], shops, "queued")
    assert any(f"Applying {len(planned)} changes for 1 product in " in s.value and "Linen Lane" in s.value
               for s in at.success)  # fmt: skip
    assert any(f"Bulk sync job {job.id}: queued" in p.proto.text for p in at.get("progress"))
    assert not at.expander  # the stale preview is gone; the progress stands for it
