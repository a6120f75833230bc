# The per-shop assets materialized against both simulators with an ephemeral instance: pull, diff, sync, checks.
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.catalog import master_catalog
from assets.checks import CHECKS
from assets.partitions import shop_partitions, with_shop_partitions
from assets.resources import DatabaseResource, MarketplacesResource
from assets.shops import catalog_diff, listing_sync
from assets.shops import shop_snapshot as declared_snapshot
from syncstore.settings import Settings
from syncstore.shops.marketplaces import CachedConnectors
from tests.syncstore.simulated_shops import (
    APP_KEY,
    APP_SECRET,
    KEYRING,
    PARTNER_ID,
    PARTNER_KEY,
    SHOPEE_SHOP,
    TIKTOK_SHOP,
    MarketplaceWorld,
)

SHOP_KEYS = (f"shopee-{SHOPEE_SHOP}", f"tiktokshop-{TIKTOK_SHOP}")
# Partitioned as the code location does it (pipelines.shops), plus a key no shop has.
SHOP_ASSETS = with_shop_partitions(
    [declared_snapshot, catalog_diff, listing_sync], shop_partitions([*SHOP_KEYS, "shopee-404"])
)
shop_snapshot = SHOP_ASSETS[0]


class SimulatedMarketplaces(MarketplacesResource):
    """The marketplaces resource pointed at the simulators (and the test keyring the world stored tokens with)."""

    shopee_host: str
    tiktok_host: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = Settings(
            shopee_partner_id=PARTNER_ID, shopee_partner_key=PARTNER_KEY, shopee_host=self.shopee_host,
            tiktokshop_app_key=APP_KEY, tiktokshop_app_secret=APP_SECRET, tiktokshop_api_host=self.tiktok_host,
            tiktokshop_auth_host=self.tiktok_host, ratelimit_burst=100,
        )  # fmt: skip
        engine = cast(DatabaseResource, self.database).get_engine()
        self._factory = CachedConnectors(engine, settings, keyring=KEYRING)


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def resources(world: MarketplaceWorld) -> dict[str, Any]:
    database = DatabaseResource(url=world.engine.url.render_as_string(hide_password=False))
    marketplaces = SimulatedMarketplaces(
        database=database, shopee_host=world.settings.shopee_host, tiktok_host=world.settings.tiktokshop_api_host
    )
    return {"database": database, "marketplaces": marketplaces}


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def reconcile(world: MarketplaceWorld, instance: dg.DagsterInstance, key: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [master_catalog, *SHOP_ASSETS, *CHECKS], selection=[*SHOP_ASSETS], partition_key=key,
        instance=instance, resources=resources(world),
    )  # fmt: skip


def test_reconciling_each_shop_lists_the_catalog_and_a_second_pass_finds_nothing(
    world: MarketplaceWorld, instance: dg.DagsterInstance
) -> None:
    mug = world.product("MUG-1", title="Mug", price="12.50", stock=4)
    catalog = dg.materialize([master_catalog], instance=instance, resources=resources(world))
    assert metadata(catalog, "master_catalog")["active_variants"] == 1

    for key in SHOP_KEYS:
        result = reconcile(world, instance, key)
        assert result.success
        diff = metadata(result, "catalog_diff")
        assert diff["create"] == 1 and "MUG-1" in diff["largest_differences"]
        synced = metadata(result, "listing_sync")
        assert (synced["succeeded"], synced["failed"]) == (1, 0)
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {
            "sync_failure_rate_under_10_percent": True, "no_conflict_pending_over_a_day": True,
            "api_quota_under_80_percent": True,
        }  # fmt: skip

    for connection_id in world.connection_ids:
        shown = world.shown(connection_id, mug.variants[0].id)
        assert (shown["price"], shown["stock"]) == (Decimal("12.50"), 4)

    again = reconcile(world, instance, SHOP_KEYS[1])
    assert metadata(again, "catalog_diff")["largest_differences"] == "Every listing is in sync."
    assert metadata(again, "listing_sync")["planned"] == 0


def test_the_nightly_full_pull_is_chosen_by_run_config_or_tag(
    world: MarketplaceWorld, instance: dg.DagsterInstance
) -> None:
    world.product("MUG-1", title="Mug", price="12.50", stock=4)
    reconcile(world, instance, SHOP_KEYS[0])  # the first pull (no cursor yet) is full anyway
    incremental = dg.materialize(
        [shop_snapshot], partition_key=SHOP_KEYS[0], instance=instance, resources=resources(world)
    )
    tagged = dg.materialize(
        [shop_snapshot], partition_key=SHOP_KEYS[0], instance=instance, resources=resources(world),
        tags={"syncstore/full": "true"},
    )  # fmt: skip
    configured = dg.materialize(
        [shop_snapshot], partition_key=SHOP_KEYS[0], instance=instance, resources=resources(world),
        run_config={"ops": {"shop_snapshot": {"config": {"full": True}}}},
    )  # fmt: skip
    assert metadata(incremental, "shop_snapshot")["full"] is False
    assert metadata(tagged, "shop_snapshot")["full"] is True
    assert metadata(configured, "shop_snapshot")["full"] is True
    assert metadata(configured, "shop_snapshot")["listings_stored"] == 1


def test_a_shop_that_is_not_connected_fails_its_run_clearly(
    world: MarketplaceWorld, instance: dg.DagsterInstance
) -> None:
    result = dg.materialize(
        [shop_snapshot], partition_key="shopee-404", instance=instance, resources=resources(world),
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert "no connected shop has the partition key shopee-404" in str(failure.step_failure_data.error)


def test_listing_sync_applies_the_plan_catalog_diff_stored_and_shows_what_it_pushed(
    world: MarketplaceWorld, instance: dg.DagsterInstance
) -> None:
    world.product("MUG-1", title="Mug", price="12.50", stock=4)
    result = reconcile(world, instance, SHOP_KEYS[0])
    diff, synced = metadata(result, "catalog_diff"), metadata(result, "listing_sync")
    # The plan the data engineer saw in catalog_diff is the one listing_sync applied, as stored.
    assert (synced["plan_id"], synced["plan_source"], synced["replanned_products"]) == (diff["plan_id"], "stored", 0)
    assert '"seller_sku": "MUG-1"' in diff["planned_changes"] and '"price": "12.50"' in diff["planned_changes"]
    pushed = synced["pushed"]
    assert "| create |" in pushed and "| success |" in pushed and '"price": "12.50"' in pushed
    again = reconcile(world, instance, SHOP_KEYS[0])
    assert metadata(again, "catalog_diff")["planned_changes"] == "Nothing to send."
    assert metadata(again, "listing_sync")["pushed"] == "Nothing was pushed."
