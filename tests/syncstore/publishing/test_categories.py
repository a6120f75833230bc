# The category cache, category mappings with default attributes, product attribute values, and per-shop logistics.
from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from connectors.base import ConnectorError, RemoteCategory
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied
from syncstore.publishing import cache, logistics, mappings
from syncstore.publishing.attributes import AttributeValue, set_product_attribute_values
from tests.syncstore.publishing.marts import ADMIN, EDITOR, SHIP, SHIP_RULES, VIEWER, MartShop, World

SHIP_RULES_WITH_MIN_SIDE = replace(SHIP_RULES, image_min_side_px=500)


def refreshed(world: World) -> None:
    for connection_id in world.connection_ids:
        cache.refresh_categories(EDITOR, world.engine, connection_id, world.connector(connection_id))


def test_a_shops_tree_is_cached_searchable_and_attributes_are_fetched_once_per_category(world: World) -> None:
    report = cache.refresh_categories(EDITOR, world.engine, world.ship_connection, world.ship)
    assert report.categories == 4
    with transaction(world.engine) as session:
        found = cache.list_remote_categories(session, platform=SHIP, search="SHIRT")
        assert [(c.category_id, c.name, c.parent_id) for c in found] == [("101", "Shirts", "100")]
        assert cache.platform_category_attributes(session, SHIP, "101") is None  # not fetched yet
    first = cache.ensure_category_details(world.engine, world.ship_connection, world.ship, "101")
    again = cache.ensure_category_details(world.engine, world.ship_connection, world.ship, "101")
    assert [a.name for a in first] == ["Care label", "Material", "Sleeve length (cm)"]  # mandatory first
    assert again == first
    assert world.ship.calls.count(("get_category_attributes", "101")) == 1
    with transaction(world.engine) as session:
        assert [b.name for b in cache.category_brands(session, world.ship_connection, "101")] == ["Acme"]
        assert session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "categories.refresh")) is not None


def test_a_mapping_keeps_checked_default_attribute_values_and_a_brand(world: World) -> None:
    refreshed(world)
    cache.ensure_category_details(world.engine, world.ship_connection, world.ship, "101")
    bad = {
        "9999": AttributeValue(text="x"),  # unknown attribute
        "7001": AttributeValue(value_ids=("5",)),  # value not allowed
        "7002": AttributeValue(text="long"),  # wrong type: a number
        "7003": AttributeValue(),  # empty
    }
    with transaction(world.engine) as session, pytest.raises(InvalidInput) as refused:
        mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "101", defaults=bad)
    assert refused.value.errors == {
        "attributes.9999": "category shipmart 101 has no attribute '9999'",
        "attributes.7001": "'5' is not an allowed value of 'Material'",
        "attributes.7002": "'Sleeve length (cm)' is a number, not 'long'",
        "attributes.7003": "give a value for 'Care label'",
    }
    with transaction(world.engine) as session, pytest.raises(InvalidInput) as unknown:
        mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "999")
    assert "999 is not a shipmart category of your shops" in unknown.value.errors["remote_category_id"]
    with transaction(world.engine) as session, pytest.raises(InvalidInput) as no_brand:
        mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "101", brand_id="B9")
    assert no_brand.value.errors == {"brand_id": "B9 is not a brand of shipmart category 101"}
    with transaction(world.engine) as session, pytest.raises(PermissionDenied):
        mappings.set_category_mapping(VIEWER, session, SHIP, "Shirts", "101")
    good = {"7001": AttributeValue(value_ids=("2",)), "7002": AttributeValue(text="62.5")}
    with transaction(world.engine) as session:
        view = mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "101", defaults=good, brand_id="B1")
    assert (view.remote_category_name, view.brand_id, view.defaults) == ("Shirts", "B1", good)
    with transaction(world.engine) as session:
        # Re-mapping to the same category without defaults keeps them; to another drops them.
        assert mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "101").defaults == good
        assert mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "201").defaults == {}
        [shown] = mappings.list_category_mappings(session, SHIP)
        assert shown.remote_category_name == "Garden tools"
        mappings.delete_category_mapping(EDITOR, session, shown.id)
        assert mappings.list_category_mappings(session, SHIP) == []


def test_a_products_own_attribute_values_are_checked_and_removable(world: World) -> None:
    refreshed(world)
    cache.ensure_category_details(world.engine, world.ship_connection, world.ship, "101")
    product = world.product("LIN-1")
    with transaction(world.engine) as session:
        mappings.set_category_mapping(EDITOR, session, SHIP, "Shirts", "101")
        attributes = mappings.attributes_for_product(session, product.id, SHIP)
        assert attributes is not None
        with pytest.raises(InvalidInput):
            set_product_attribute_values(EDITOR, session, product.id, SHIP, {"7001": AttributeValue(text="Silk")},
                                         attributes)  # fmt: skip
        values = set_product_attribute_values(EDITOR, session, product.id, SHIP,
                                              {"7001": AttributeValue(value_ids=("1",))}, attributes)  # fmt: skip
        assert values == {"7001": AttributeValue(value_ids=("1",))}
        assert set_product_attribute_values(EDITOR, session, product.id, SHIP, {"7001": None}, attributes) == {}


def test_logistics_channels_and_warehouses_are_chosen_by_an_admin(world: World) -> None:
    with pytest.raises(PermissionDenied):
        logistics.refresh_shop_logistics(EDITOR, world.engine, world.ship_connection, world.ship)
    shop = logistics.refresh_shop_logistics(ADMIN, world.engine, world.ship_connection, world.ship)
    assert [c.channel_id for c in shop.channels] == ["2001", "2002"]
    assert shop.channel_ids == ("2001",)  # nothing chosen: the channels the platform has enabled
    assert shop.location_id is None and shop.needs_location_choice
    with transaction(world.engine) as session:
        with pytest.raises(PermissionDenied):
            logistics.set_shop_logistics(EDITOR, session, world.ship_connection, ["2001"], "WH-B")
        with pytest.raises(InvalidInput) as refused:
            logistics.set_shop_logistics(ADMIN, session, world.ship_connection, ["2009"], "WH-Z")
        assert set(refused.value.errors) == {"channel_ids", "location_id"}
        chosen = logistics.set_shop_logistics(ADMIN, session, world.ship_connection, ["2001", "2002"], "WH-B")
        assert (chosen.channel_ids, chosen.location_id) == (("2001", "2002"), "WH-B")
        listed = {s.connection_id: s for s in logistics.list_shop_logistics(session)}
        assert listed[world.review_connection].channels == () and not listed[world.review_connection].needs_channel
        assert listed[world.ship_connection].location_id == "WH-B"


def test_regional_content_rules_image_size_and_description_html() -> None:
    from syncstore.plan import validation

    rules = SHIP_RULES_WITH_MIN_SIDE
    assert validation.check_image_sizes(rules, [("a.jpg", 800, 800), ("b.jpg", 300, 900)]) == [
        ("images", "b.jpg is 300x900 px; Ship Mart needs at least 500 px on each side: use a larger image")
    ]
    assert validation.check_description_format(rules, "<p>ok</p><img src='x.jpg'>") == []  # not a hosted-only mart
    assert validation.check_description_format(rules, "<script>x()</script>") == [
        ("description", "<script> is not allowed in a description: remove it")
    ]


def test_a_platform_categorys_attributes_come_from_a_shop_that_has_it(world: World) -> None:
    with pytest.raises(NotFoundError):
        cache.attributes_for_platform(world.engine, SHIP, "101", world.connector)
    refreshed(world)
    found = cache.attributes_for_platform(world.engine, SHIP, "101", world.connector)
    assert [a.attribute_id for a in found if a.mandatory] == ["7003", "7001"]
    cache.attributes_for_platform(world.engine, SHIP, "101", world.connector)  # fresh: from the cache
    assert world.ship.calls.count(("get_category_attributes", "101")) == 1


def test_the_daily_refresh_goes_through_every_shop_and_reports_the_one_that_failed(world: World) -> None:
    class Unreachable(MartShop):
        def list_categories(self) -> list[RemoteCategory]:
            raise ConnectorError("the shop's token expired", platform=self.platform, code="invalid_token")

    broken = Unreachable(world.review.platform, world.review.shop_id, world.review.rules)
    summary = cache.refresh_every_shop(world.engine, lambda cid: world.ship if cid == world.ship_connection else broken)
    assert [r.connection_id for r in summary.refreshed] == [world.ship_connection]
    assert summary.failed == (
        (world.review_connection, "ConnectorError: reviewmart [invalid_token]: the shop's token expired"),
    )
    with transaction(world.engine) as session:
        actor = session.scalar(sa.select(AuditLog.actor_label).where(AuditLog.action == "categories.refresh"))
    assert actor == "system:schedule"
