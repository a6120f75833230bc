# SKU mapping on SQLite and PostgreSQL: the Listings read, bind/unbind/exclude, preview, import, shop affixes.
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog import bindings
from syncstore.catalog.bindings import BindingFilter
from syncstore.db.engine import transaction
from syncstore.db.models import (
    AuditLog,
    OutboxEvent,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
)
from syncstore.errors import InvalidInput, PermissionDenied, VersionConflict
from tests.syncstore.catalog.conftest import EDITOR, VIEWER, Shop, add_listing


def page(engine: sa.Engine, **filters: object) -> bindings.BindingPage:
    with transaction(engine) as session:
        return bindings.list_bindings(session, BindingFilter(**filters))  # type: ignore[arg-type]


def test_the_listings_read_shows_every_shops_skus_with_state_counts_and_filters(engine: sa.Engine, world: Shop) -> None:
    everything = page(engine)
    assert everything.total == 3 and everything.counts == {"bound": 0, "orphan": 3, "excluded": 0}
    assert [row.seller_sku for row in page(engine, shop_name="My Shopee").rows] == ["lin s", "OTHER-1"]
    assert [row.seller_sku for row in page(engine, search="mug").rows] == ["MUG-1"]
    assert [row.seller_sku for row in page(engine, search="other").rows] == ["OTHER-1"]
    suggested = page(engine, search="lin s").rows[0]
    assert suggested.suggestion == "LIN-S" and suggested.reason == "matches master SKU LIN-S: bound at the next sync"
    assert page(engine, search="other").rows[0].reason == "no master SKU has the key 'other1'"
    with transaction(engine) as session:
        second = bindings.list_bindings(session, BindingFilter(), limit=2, offset=2)
    assert [row.seller_sku for row in second.rows] == ["MUG-1"] and second.total == 3


def test_binding_an_orphan_is_audited_announced_and_the_state_follows(engine: sa.Engine, world: Shop) -> None:
    sku_id = world.skus["OTHER-1"]
    with transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, sku_id, "lin-m", expected_version=0)
    bound = page(engine, state="bound")
    assert [(row.seller_sku, row.master_sku, row.version) for row in bound.rows] == [("OTHER-1", "LIN-M", 1)]
    assert bound.counts == {"bound": 1, "orphan": 2, "excluded": 0}
    with transaction(engine) as session:
        audit = session.scalars(sa.select(AuditLog).where(AuditLog.action == "listing_sku.bind")).one()
        assert audit.after is not None and audit.after["master_sku"] == "LIN-M"
        assert audit.actor_label == "editor@example.com"
        event = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.payload["reason"].as_string() == "sku_bound")
        ).one()
        assert event.event_type == "product.updated" and event.payload["variant_ids"] == [world.variants["LIN-M"]]
        listing = session.scalars(sa.select(PlatformListing).where(PlatformListing.remote_item_id == "9001")).one()
        assert listing.product_id is not None


def test_a_variant_bound_in_the_shop_is_refused_naming_the_other_sku(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, world.skus["OTHER-1"], "LIN-S", expected_version=0)
    with pytest.raises(InvalidInput, match="in this shop to seller SKU OTHER-1"), transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, world.skus["lin s"], "LIN-S", expected_version=0)
    with pytest.raises(InvalidInput, match="no master SKU 'NOPE'"), transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, world.skus["lin s"], "NOPE", expected_version=0)
    assert page(engine, state="bound").total == 1


def test_two_people_acting_on_one_sku_cannot_both_win(engine: sa.Engine, world: Shop) -> None:
    sku_id = world.skus["lin s"]
    with transaction(engine) as session:
        bindings.set_excluded(EDITOR, session, sku_id, True, expected_version=0)
    with pytest.raises(VersionConflict), transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, sku_id, "LIN-S", expected_version=0)
    assert page(engine, state="excluded").total == 1 and page(engine, state="bound").total == 0


def test_unbind_exclude_and_include(engine: sa.Engine, world: Shop) -> None:
    sku_id = world.skus["lin s"]
    with transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, sku_id, "LIN-S", expected_version=0)
    with transaction(engine) as session:
        bindings.set_excluded(EDITOR, session, sku_id, True, expected_version=1)  # unbinds it too
    [row] = page(engine, state="excluded").rows
    assert (row.seller_sku, row.variant_id, row.version) == ("lin s", None, 2)
    with pytest.raises(InvalidInput, match="excluded; include it first"), transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, sku_id, "LIN-S", expected_version=2)
    with transaction(engine) as session:
        bindings.set_excluded(EDITOR, session, sku_id, False, expected_version=2)
        bindings.bind_sku(EDITOR, session, sku_id, "LIN-S", expected_version=3)
        bindings.unbind_sku(EDITOR, session, sku_id, expected_version=4)
        listing = session.get_one(PlatformListing, session.get_one(PlatformListingSku, sku_id).listing_id)
        assert listing.product_id is None  # no SKU of it is bound any more
    assert page(engine).counts == {"bound": 0, "orphan": 3, "excluded": 0}
    with transaction(engine) as session:
        actions = session.scalars(sa.select(AuditLog.action).where(AuditLog.entity_type == "listing_sku")).all()
    assert sorted(actions) == sorted(["listing_sku.bind", "listing_sku.exclude", "listing_sku.include",
                                      "listing_sku.bind", "listing_sku.unbind"])  # fmt: skip


def test_a_viewer_may_read_but_not_bind(engine: sa.Engine, world: Shop) -> None:
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        bindings.bind_sku(VIEWER, session, world.skus["lin s"], "LIN-S", expected_version=0)
    assert page(engine).counts["orphan"] == 3


def test_a_master_product_is_created_from_a_listing_and_bound(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        shop = session.get_one(PlatformConnection, world.tiktok)
        add_listing(
            session, shop, "8002", "Tea set", [("LIN-S", "20.00", 3), (None, "25.50", 0), ("TEA-2", "20.00", 9)]
        )
        listing_id = session.scalars(
            sa.select(PlatformListing.id).where(PlatformListing.remote_item_id == "8002")
        ).one()
    with transaction(engine) as session:
        imported = bindings.create_product_from_listing(EDITOR, session, listing_id)
    assert [sku for _, sku in imported.bound] == ["TIK-8002-8002-0", "TIK-8002-8002-1", "TEA-2"]
    assert imported.notes[:2] == [
        "seller SKU LIN-S is already a master SKU: master SKU TIK-8002-8002-0 generated",
        "seller SKU (none) is empty: master SKU TIK-8002-8002-1 generated",
    ]
    assert "image shopee-image-id-1 is not a URL: left out" in imported.notes
    with transaction(engine) as session:
        variants = session.scalars(
            sa.select(ProductVariant)
            .where(ProductVariant.product_id == imported.product_id)
            .order_by(ProductVariant.id)
        ).all()
        assert [(v.sku, v.price, v.stock) for v in variants] == [
            ("TIK-8002-8002-0", None, 3), ("TIK-8002-8002-1", Decimal("25.50"), 0), ("TEA-2", None, 9),
        ]  # fmt: skip
        assert variants[0].product.title == "Tea set" and variants[0].product.base_price == Decimal("20.00")
        assert variants[0].product.description == "Tea set description"
        assert variants[0].product.images == ["https://img.example.com/a.jpg"]
    assert page(engine, shop_name="My TikTok", state="bound").total == 3


def test_a_shop_prefix_and_suffix_recompute_its_keys(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        shop = session.get_one(PlatformConnection, world.shopee)
        add_listing(session, shop, "9002", "Prefixed", [("SHP-LIN-M-x", "12.90", 4)])
    assert page(engine, search="shp").rows[0].reason == "no master SKU has the key 'shplinmx'"
    with transaction(engine) as session:
        rewritten = bindings.set_shop_affixes(EDITOR, session, world.shopee, prefix="shp-", suffix="-X")
    assert rewritten == 1  # the other keys have no such prefix or suffix
    [row] = page(engine, search="shp").rows
    assert (row.sku_key, row.suggestion) == ("linm", "LIN-M")
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        bindings.set_shop_affixes(VIEWER, session, world.shopee, prefix="", suffix="")


def test_two_orphans_with_one_key_are_shown_ambiguous(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        shop = session.get_one(PlatformConnection, world.shopee)
        add_listing(session, shop, "9003", "Again", [("LIN-S", "12.90", 4)])
    reasons = {row.reason for row in page(engine, search="lin").rows if row.sku_key == "lins"}
    assert reasons == {"ambiguous: 2 SKUs of this shop share the key 'lins'"}


def _counted_one_by_one(engine: sa.Engine, connection_id: int | None = None) -> dict[str, int]:
    """The state counts as a person would count the rows: every SKU whose listing is not deleted."""
    counts = {"bound": 0, "orphan": 0, "excluded": 0}
    with transaction(engine) as session:
        rows = session.execute(
            sa.select(PlatformListingSku, PlatformListing.remote_status).join(
                PlatformListing, PlatformListing.id == PlatformListingSku.listing_id
            )
        ).all()
        for sku, status in rows:
            if status == "deleted" or connection_id not in (None, sku.connection_id):
                continue
            state = "bound" if sku.variant_id is not None else "excluded" if sku.binding_excluded else "orphan"
            counts[state] += 1
    return counts


def test_the_state_counts_leave_out_the_skus_of_deleted_listings(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        mug = session.scalars(sa.select(PlatformListingSku).where(PlatformListingSku.seller_sku == "MUG-1")).one()
        bindings.bind_sku(EDITOR, session, world.skus["OTHER-1"], "lin-m", expected_version=0)
        bindings.bind_sku(EDITOR, session, mug.id, "lin-s", expected_version=0)
        listing = session.get(PlatformListing, mug.listing_id)
        assert listing is not None
        listing.remote_status = "deleted"  # the shop deleted the item: its bound SKU is no longer counted
    everything = page(engine)
    assert everything.counts == _counted_one_by_one(engine)
    assert everything.counts == {"bound": 1, "orphan": 1, "excluded": 0} and everything.total == 2
    assert "MUG-1" not in [row.seller_sku for row in everything.rows]
    for shop in (world.shopee, world.tiktok):
        assert page(engine, connection_id=shop).counts == _counted_one_by_one(engine, shop)
