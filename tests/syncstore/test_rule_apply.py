# A rule change reaches the shops in the same worker cycle: saved, edited or deleted, with the preview's numbers.
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import SyncJob
from syncstore.errors import InvalidInput
from syncstore.sync import engine as sync
from syncstore.sync import rule_apply, snapshot
from syncstore.workers import dispatch
from tests.syncstore.simulated_shops import EDITOR, SHOPEE_SHOP, MarketplaceWorld


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[MarketplaceWorld]:
    shops = MarketplaceWorld.start(engine)
    yield shops
    shops.stop()


def _in_sync(world: MarketplaceWorld) -> None:
    for connection_id in world.connection_ids:
        connector = world.connector(connection_id)
        snapshot.pull(world.engine, connection_id, connector)
        assert sync.sync_shop(world.engine, connection_id, connector).failed == 0


SHOPEE_MARKUP = {
    "name": "Shopee markup",
    "platform": "shopee",
    "conditions": {"shop_keys": [f"shopee-{SHOPEE_SHOP}"], "sku_pattern": "LIN-*"},
    "actions": {"price_markup_percent": "10", "price_rounding": "0.90"},
}


def test_a_saved_rule_reaches_its_shop_in_the_same_worker_cycle_and_only_its_listings(world: MarketplaceWorld) -> None:
    shirt = world.product("LIN-1", price="59.90")
    mug = world.product("MUG-1", title="Mug", price="12.50", tags=["kitchen"])
    _in_sync(world)
    [shirt_variant] = [v.id for v in shirt.variants]
    [mug_variant] = [v.id for v in mug.variants]

    # Conditions on the price (after each shop's overrides) and on tags find the same listings the sync would.
    both = (world.shopee_connection, world.tiktok_connection)
    assert rule_apply.scope(world.engine, {"name": "dear", "conditions": {"min_price": "50"}}) == (
        rule_apply.RuleScope((shirt.id,), both)
    )
    assert rule_apply.scope(world.engine, {"name": "mugs", "conditions": {"tags": ["kitchen"]}}) == (
        rule_apply.RuleScope((mug.id,), both)
    )
    everything = rule_apply.RuleScope(tuple(sorted((shirt.id, mug.id))), both)
    assert rule_apply.scope(world.engine, {"name": "every listing", "actions": {"buffer_stock": 1}}) == everything

    applied = rule_apply.create_and_apply(EDITOR, world.engine, SHOPEE_MARKUP)
    # Only the shirt matches, and only in the Shopee shop.
    assert applied.scope == rule_apply.RuleScope((shirt.id,), (world.shopee_connection,))
    assert applied.job_id is not None

    report = dispatch.push_outbox(world.engine, world.connector)  # one worker cycle, no reconcile

    assert report.failed == 0
    # 59.90 + 10 % = 65.89, ending in .90 -> 65.90: the number the rule preview shows.
    assert world.shown(world.shopee_connection, shirt_variant)["price"] == Decimal("65.90")
    assert world.shown(world.tiktok_connection, shirt_variant)["price"] == Decimal("59.90")
    assert world.shown(world.shopee_connection, mug_variant)["price"] == Decimal("12.50")
    with transaction(world.engine) as session:
        progress = sync.bulk_progress(session, applied.job_id)
    assert (progress.status, progress.total, progress.done, progress.failed) == ("done", 1, 1, 0)
    assert world.pending_pushes()[world.shopee_connection] == []


def test_an_edit_moves_what_the_rule_matched_before_and_matches_now_and_a_delete_restores(
    world: MarketplaceWorld,
) -> None:
    shirt = world.product("LIN-1", price="59.90")
    mug = world.product("MUG-1", title="Mug", price="12.50")
    _in_sync(world)
    [shirt_variant] = [v.id for v in shirt.variants]
    [mug_variant] = [v.id for v in mug.variants]
    created = rule_apply.create_and_apply(EDITOR, world.engine, SHOPEE_MARKUP)
    dispatch.push_outbox(world.engine, world.connector)
    assert created.rule is not None

    # The rule now matches the mug instead: the shirt goes back to its master price, the mug is marked up.
    moved = {**SHOPEE_MARKUP, "conditions": {**SHOPEE_MARKUP["conditions"], "sku_pattern": "MUG-*"}}  # type: ignore[dict-item]
    edited = rule_apply.update_and_apply(
        EDITOR, world.engine, created.rule.id, moved, expected_updated_at=created.rule.updated_at
    )
    assert edited.scope.product_ids == tuple(sorted((shirt.id, mug.id)))
    dispatch.push_outbox(world.engine, world.connector)
    assert world.shown(world.shopee_connection, shirt_variant)["price"] == Decimal("59.90")
    assert world.shown(world.shopee_connection, mug_variant)["price"] == Decimal("13.90")  # 13.75 -> .90

    assert edited.rule is not None
    deleted = rule_apply.delete_and_apply(EDITOR, world.engine, edited.rule.id)
    assert deleted.scope.product_ids == (mug.id,)
    dispatch.push_outbox(world.engine, world.connector)
    assert world.shown(world.shopee_connection, mug_variant)["price"] == Decimal("12.50")


def test_a_rule_that_matches_no_listing_queues_nothing_and_an_invalid_one_writes_nothing(
    world: MarketplaceWorld,
) -> None:
    world.product("LIN-1")
    _in_sync(world)
    nothing = rule_apply.create_and_apply(EDITOR, world.engine, {**SHOPEE_MARKUP, "conditions": {"sku_pattern": "X*"}})
    assert nothing.scope.empty and nothing.job_id is None
    inactive = rule_apply.create_and_apply(EDITOR, world.engine, {**SHOPEE_MARKUP, "is_active": False})
    assert inactive.job_id is None
    with pytest.raises(InvalidInput):
        rule_apply.create_and_apply(EDITOR, world.engine, {**SHOPEE_MARKUP, "actions": {"price_markup_percent": "x"}})
    with transaction(world.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncJob)) == 0
