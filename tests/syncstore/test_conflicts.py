# Conflicts: one row per shop, listing, SKU and field; resolving writes the chosen value and queues the push.
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import (
    AuditLog,
    MasterProduct,
    OutboxEvent,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductVariant,
)
from syncstore.errors import InvalidInput, PermissionDenied, VersionConflict
from syncstore.plan import conflicts
from syncstore.plan.conflicts import FoundConflict
from syncstore.security import crypto
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)


@pytest.fixture
def listing(engine: sa.Engine) -> dict[str, int]:
    """A product bound to a Shopee listing whose title and price were edited on both sides."""
    with transaction(engine) as session:
        product = catalog.create_product(
            EDITOR, session,
            {"title": "Linen shirt v2", "category": "Fashion", "base_price": "59.90",
             "variants": [{"sku": "LIN-S", "name": "S", "price": "61.00"}]},
        )  # fmt: skip
        connection = connections.save_connection(
            Actor.command_line(), session, platform="shopee", shop_id="100001", access_token="a",
            refresh_token="r", access_token_expires_at=None, refresh_token_expires_at=None,
            keyring=crypto.Keyring.parse(crypto.generate_key("c")),
        )  # fmt: skip
        remote = PlatformListing(
            connection_id=connection.id, product_id=product.id, platform="shopee", remote_item_id="555",
            remote_title="Linen shirt (seller edit)", base_title="Linen shirt",
        )  # fmt: skip
        session.add(remote)
        session.flush()
        session.add(
            PlatformListingSku(
                listing_id=remote.id, connection_id=connection.id, variant_id=product.variants[0].id,
                remote_sku_id="0", seller_sku="LIN-S", remote_price=Decimal("58.00"), base_price=Decimal("59.90"),
            )
        )  # fmt: skip
    return {
        "connection": connection.id, "listing": remote.id, "product": product.id, "variant": product.variants[0].id,
    }  # fmt: skip


def found(
    ids: dict[str, int], field: str = "title", platform_value: object = "Linen shirt (seller edit)"
) -> FoundConflict:
    item_level = field != "price"
    return FoundConflict(
        connection_id=ids["connection"], listing_id=ids["listing"], product_id=ids["product"],
        variant_id=None if item_level else ids["variant"], platform="shopee", field=field,
        master_value="Linen shirt v2" if item_level else Decimal("61.00"), platform_value=platform_value,
        base_value="Linen shirt" if item_level else Decimal("59.90"),
    )  # fmt: skip


def test_the_same_conflict_found_twice_is_one_row(engine: sa.Engine, listing: dict[str, int]) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing), found(listing, "price", Decimal("58.00"))])
        conflicts.record(session, [found(listing, platform_value="Linen shirt (edited again)")])
        rows = conflicts.list_conflicts(session)
    assert len(rows) == 2 and {r.field for r in rows} == {"title", "price"}
    title = next(r for r in rows if r.field == "title")
    assert title.platform_value == "Linen shirt (edited again)" and title.base_value == "Linen shirt"


def test_use_master_moves_the_baseline_and_queues_the_push(engine: sa.Engine, listing: dict[str, int]) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing)])
        [conflict] = conflicts.list_conflicts(session)
        conflicts.resolve(EDITOR, session, conflict.id, "use_master")
    with transaction(engine) as session:
        remote = session.get_one(PlatformListing, listing["listing"])
        event = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
        audit_row = session.scalars(sa.select(AuditLog).where(AuditLog.action == "conflict.resolve")).one()
        assert conflicts.pending_count(session) == 0
    # Next diff: remote == base and master differs -> push the master's title.
    assert remote.base_title == remote.remote_title == "Linen shirt (seller edit)"
    assert event is not None and event.event_type == "conflict.resolved" and event.payload["fields"] == ["title"]
    assert audit_row.after == {"strategy": "use_master", "value": "Linen shirt v2"}


def test_use_platform_writes_an_override_for_that_platform_only(engine: sa.Engine, listing: dict[str, int]) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing, "price", Decimal("58.00"))])
        [conflict] = conflicts.list_conflicts(session)
        conflicts.resolve(EDITOR, session, conflict.id, "use_platform")
    with transaction(engine) as session:
        override = session.scalars(sa.select(PlatformOverride)).one()
        variant = session.get_one(ProductVariant, listing["variant"])
        sku = session.scalars(sa.select(PlatformListingSku)).one()
    assert (override.platform, override.field, override.value, override.variant_id) == (
        "shopee", "price", "58.00", listing["variant"],
    )  # fmt: skip
    assert variant.price == Decimal("61.00")  # the master (and so other channels) keep their price
    assert sku.base_price == Decimal("58.00")


def test_an_override_made_by_use_platform_names_who_made_it(engine: sa.Engine, listing: dict[str, int]) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing, "price", Decimal("58.00"))])
        [conflict] = conflicts.list_conflicts(session)
        conflicts.resolve(EDITOR, session, conflict.id, "use_platform")
    with transaction(engine) as session:
        override = session.scalars(sa.select(PlatformOverride)).one()
        [recent] = conflicts.recently_resolved(session)
    assert override.updated_by == "editor@example.com"
    assert (recent.conflict.id, recent.conflict.resolved_by, recent.override_by) == (
        conflict.id, "editor@example.com", "editor@example.com",
    )  # fmt: skip
    # The same field conflicting again and kept by another person: the override names the latest author.
    admin = Actor(user_id=None, label="admin@example.com", role=Role.ADMIN)
    with transaction(engine) as session:
        conflicts.record(session, [found(listing, "price", Decimal("57.00"))])
        [again] = conflicts.list_conflicts(session)
        conflicts.resolve(admin, session, again.id, "use_platform")
    with transaction(engine) as session:
        assert session.scalars(sa.select(PlatformOverride)).one().updated_by == "admin@example.com"


def test_a_manual_value_goes_to_the_master_and_is_checked(engine: sa.Engine, listing: dict[str, int]) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing)])
        [conflict] = conflicts.list_conflicts(session)
    with pytest.raises(InvalidInput), transaction(engine) as session:
        conflicts.resolve(EDITOR, session, conflict.id, "manual", "   ")
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        conflicts.resolve(VIEWER, session, conflict.id, "manual", "Linen shirt, relaxed")
    with transaction(engine) as session:
        conflicts.resolve(EDITOR, session, conflict.id, "manual", " Linen shirt, relaxed ")
    with transaction(engine) as session:
        product = session.get_one(MasterProduct, listing["product"])
        assert product.title == "Linen shirt, relaxed" and product.version == 2
        with pytest.raises(InvalidInput, match="already resolved"):
            conflicts.resolve(EDITOR, session, conflict.id, "use_master")


def test_a_resolved_conflict_reopens_when_it_recurs_and_settled_ones_close(
    engine: sa.Engine, listing: dict[str, int]
) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing), found(listing, "price", Decimal("58.00"))])
        title = next(c for c in conflicts.list_conflicts(session) if c.field == "title")
        conflicts.resolve(EDITOR, session, title.id, "use_master")
        conflicts.record(session, [found(listing, platform_value="Yet another title")])
        assert {c.field for c in conflicts.list_conflicts(session)} == {"title", "price"}
        closed = conflicts.close_settled(session, listing["connection"], [found(listing).key])
        assert closed == 1 and [c.field for c in conflicts.list_conflicts(session)] == ["title"]
        with pytest.raises(InvalidInput, match="one conflict at a time"):
            conflicts.resolve_many(EDITOR, session, [title.id], "manual")


# --- issue 14 items 2 and 3: a manual value is checked like the editor's, and no lost update (S2) ----


@pytest.mark.parametrize("bad", ["1e40", "Infinity", "NaN", "-Infinity", "-1", "0", "19.999", "cheap", "", None])
def test_a_manual_price_is_checked_like_the_editors_and_nothing_is_stored(
    engine: sa.Engine, listing: dict[str, int], bad: object
) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing, "price", Decimal("58.00"))])
        [conflict] = conflicts.list_conflicts(session)
    with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
        conflicts.resolve(EDITOR, session, conflict.id, "manual", bad)
    assert set(refused.value.errors) == {"value"}, refused.value.errors
    with transaction(engine) as session:
        assert session.get_one(ProductVariant, listing["variant"]).price == Decimal("61.00")
        assert session.get_one(MasterProduct, listing["product"]).version == 1
        assert conflicts.pending_count(session) == 1


@pytest.mark.parametrize(
    ("field", "bad"),
    [("title", "x" * 256), ("title", "  "), ("images", ["not a url"]), ("images", "https://a.test/1.png"),
     ("description", "d" * 20_001)],
)  # fmt: skip
def test_a_manual_item_value_is_checked_like_the_editors(
    engine: sa.Engine, listing: dict[str, int], field: str, bad: object
) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing, field, "remote")])
        [conflict] = conflicts.list_conflicts(session)
    with pytest.raises(InvalidInput) as refused, transaction(engine) as session:
        conflicts.resolve(EDITOR, session, conflict.id, "manual", bad)
    assert set(refused.value.errors) == {"value"}, refused.value.errors


def test_a_manual_resolution_bumps_the_version_so_an_older_edit_is_refused(
    engine: sa.Engine, listing: dict[str, int]
) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing, "price", Decimal("58.00"))])
        [conflict] = conflicts.list_conflicts(session)
        conflicts.resolve(EDITOR, session, conflict.id, "manual", "57.50", expected_version=1)
    with transaction(engine) as session:
        assert session.get_one(ProductVariant, listing["variant"]).price == Decimal("57.50")
        assert session.get_one(MasterProduct, listing["product"]).version == 2
    # An editor who opened the product at version 1 cannot overwrite the resolution.
    with pytest.raises(VersionConflict), transaction(engine) as session:
        catalog.update_product(EDITOR, session, listing["product"], expected_version=1,
                               changes={"variants": [{"id": listing["variant"], "price": "70.00"}]})  # fmt: skip


def test_a_resolution_is_conditional_on_the_version_loaded(engine: sa.Engine, listing: dict[str, int]) -> None:
    with transaction(engine) as session:
        conflicts.record(session, [found(listing), found(listing, "price", Decimal("58.00"))])
        title, price = conflicts.list_conflicts(session)
        catalog.update_product(EDITOR, session, listing["product"], expected_version=1, changes={"title": "Newer"})
    for conflict, strategy, value in ((title, "manual", "Mine"), (price, "use_platform", None)):
        with pytest.raises(VersionConflict), transaction(engine) as session:
            conflicts.resolve(EDITOR, session, conflict.id, strategy, value, expected_version=1)
    with transaction(engine) as session:
        product = session.get_one(MasterProduct, listing["product"])
        assert (product.title, product.version) == ("Newer", 2)
        assert conflicts.pending_count(session) == 2
        assert session.scalars(sa.select(PlatformOverride)).first() is None
        conflicts.resolve(EDITOR, session, title.id, "manual", "Mine", expected_version=2)
        with pytest.raises(InvalidInput, match=r"already resolved by editor@example\.com"):
            conflicts.resolve(EDITOR, session, title.id, "use_master", expected_version=3)
