# The dry run says what each platform still needs, per product and shop, before anything is sent; then publish.
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing
from syncstore.errors import InvalidInput, PermissionDenied
from syncstore.publishing import cache, logistics, mappings
from syncstore.publishing.attributes import AttributeValue, set_product_attribute_values
from syncstore.sync import engine as sync
from syncstore.sync import publish as publishing
from tests.syncstore.publishing.marts import ADMIN, EDITOR, REVIEW, SHIP, VIEWER, World

MAP_IT = "map it on the Categories page (or `syncstore categories map`)"
NO_CHANNEL = ("logistics: no logistics channel chosen for shop shipmart shop: refresh its channels and enable at least "
              "one on the Connections page")  # fmt: skip


def missing(previews: list[publishing.ShopPreview]) -> dict[tuple[str, int], set[str]]:
    return {(shop.platform, product.product_id): set(product.missing) for shop in previews for product in shop.products}


def preview(world: World, *product_ids: int) -> list[publishing.ShopPreview]:
    return publishing.publish_preview(world.engine, list(product_ids), world.connection_ids)


def test_every_missing_thing_is_named_with_what_to_do_and_nothing_is_sent(world: World) -> None:
    shirt = world.product("LIN-1", description='<p>Soft</p><img src="https://cdn.example.com/a.jpg">')
    rake = world.product("GAR-1", title="Rake", category="Garden")
    for connection_id in world.connection_ids:
        cache.refresh_categories(EDITOR, world.engine, connection_id, world.connector(connection_id))
    with transaction(world.engine) as session:
        for platform in (SHIP, REVIEW):
            mappings.set_category_mapping(EDITOR, session, platform, "Shirts", "101")
    not_fetched = missing(preview(world, shirt.id))[(SHIP, shirt.id)]
    assert any("the attributes of Ship Mart category 101 are not fetched yet" in m for m in not_fetched)

    for connection_id in world.connection_ids:
        cache.ensure_category_details(world.engine, connection_id, world.connector(connection_id), "101")
    logistics.refresh_shop_logistics(ADMIN, world.engine, world.review_connection, world.review)
    found = missing(preview(world, shirt.id, rake.id))

    def attribute(name: str, mart: str, attribute_id: str) -> str:
        return (f"attributes.{attribute_id}: {name!r} is mandatory in {mart} category 101: set a default for "
                "'Shirts' on the Categories page, or a value on the product")  # fmt: skip

    assert found[(SHIP, shirt.id)] == {
        attribute("Care label", "Ship Mart", "7003"), attribute("Material", "Ship Mart", "7001"), NO_CHANNEL,
    }  # fmt: skip
    assert found[(REVIEW, shirt.id)] == {
        attribute("Care label", "Review Mart", "7003"), attribute("Material", "Review Mart", "7001"),
        "description: Review Mart shows only its own uploaded images inside a description: remove the <img> tags "
        "(put the pictures in the product's images)",
    }  # fmt: skip
    assert found[(SHIP, rake.id)] == {
        f"category: category 'Garden' is not mapped to a Ship Mart category: {MAP_IT}", NO_CHANNEL,
    }  # fmt: skip
    assert found[(REVIEW, rake.id)] == {
        "title: 4 characters; reviewmart needs at least 25 in MY",
        f"category: category 'Garden' is not mapped to a Review Mart category: {MAP_IT}",
    }
    logistics.refresh_shop_logistics(ADMIN, world.engine, world.ship_connection, world.ship)
    assert "location: shop shipmart shop has 2 warehouses and none is chosen to receive stock: choose one on the " \
           "Connections page" in missing(preview(world, shirt.id))[(SHIP, shirt.id)]  # fmt: skip

    # A sync sends none of it: every change has issues.
    for connection_id in world.connection_ids:
        report = sync.sync_shop(world.engine, connection_id, world.connector(connection_id))
        assert report.succeeded == 0 and report.invalid == 2
    assert world.ship.created() == [] and world.review.created() == []


def test_after_the_fixes_publish_sends_defaults_merged_with_the_products_own_values(world: World) -> None:
    shirt = world.product("LIN-1")
    for connection_id in world.connection_ids:
        mart = world.connector(connection_id)
        cache.refresh_categories(EDITOR, world.engine, connection_id, mart)
        cache.ensure_category_details(world.engine, connection_id, mart, "101")
    defaults = {"7001": AttributeValue(value_ids=("2",)), "7003": AttributeValue(text="Machine wash")}
    with transaction(world.engine) as session:
        for platform in (SHIP, REVIEW):
            mappings.set_category_mapping(EDITOR, session, platform, "Shirts", "101", defaults=defaults, brand_id="B1")
        set_product_attribute_values(EDITOR, session, shirt.id, SHIP, {"7003": AttributeValue(text="Hand wash")})
    logistics.refresh_shop_logistics(ADMIN, world.engine, world.ship_connection, world.ship)
    with transaction(world.engine) as session:
        logistics.set_shop_logistics(ADMIN, session, world.ship_connection, ["2001"], "WH-B")

    shops = {shop.platform: shop for shop in preview(world, shirt.id)}
    [ship_product] = shops[SHIP].products
    assert ship_product.ready and ship_product.summary == "create"
    [create] = ship_product.changes
    assert create.request["attributes"] == [
        {"attribute_id": "7001", "value_ids": ["2"], "text": None},
        {"attribute_id": "7003", "value_ids": [], "text": "Hand wash"},  # the product's own value wins
    ]
    assert (create.request["brand_id"], create.request["brand_name"]) == ("B1", "Acme")
    assert (create.request["logistics_channel_ids"], create.request["location_id"]) == (["2001"], "WH-B")
    assert shops[REVIEW].products[0].ready and shops[REVIEW].ready == 1

    with pytest.raises(PermissionDenied):
        publishing.publish(VIEWER, world.engine, [shirt.id], world.connection_ids, world.connector)
    with pytest.raises(InvalidInput):
        publishing.publish(EDITOR, world.engine, [], world.connection_ids, world.connector)
    seen: list[tuple[str, bool]] = []
    results = publishing.publish(EDITOR, world.engine, [shirt.id], world.connection_ids, world.connector,
                                 progress=lambda p: seen.append((p.shop_name, p.done)))  # fmt: skip
    assert seen == [("shipmart shop", False), ("shipmart shop", True), ("reviewmart shop", False),
                    ("reviewmart shop", True)]  # fmt: skip
    by_platform = {result.platform: result for result in results}
    assert by_platform[SHIP].ok and by_platform[SHIP].created == 1 and by_platform[SHIP].in_review == 0
    assert by_platform[REVIEW].ok and by_platform[REVIEW].created == 1 and by_platform[REVIEW].in_review == 1
    [ship_draft], [review_draft] = world.ship.created(), world.review.created()
    assert [(a.attribute_id, a.value_ids, a.text) for a in review_draft.attributes] == [
        ("7001", ("2",), None), ("7003", (), "Machine wash"),
    ]  # fmt: skip
    assert (ship_draft.location_id, review_draft.location_id) == ("WH-B", "R-WH")
    assert ship_draft.skus[0].price == Decimal("59.90")
    # Published again: nothing left to send.
    again = publishing.publish(EDITOR, world.engine, [shirt.id], world.connection_ids, world.connector)
    assert [result.created for result in again] == [0, 0] and len(world.ship.created()) == 1
    with transaction(world.engine) as session:
        statuses = {p: s for p, s in session.execute(sa.select(PlatformListing.platform, PlatformListing.sync_status))}
    assert statuses == {SHIP: "synced", REVIEW: "in_review"}


def test_a_variant_added_to_a_listed_product_is_sent_and_bound(world: World) -> None:
    shirt = world.product("LIN-1", category="Garden tools", variants=2)
    with transaction(world.engine) as session:
        mappings.set_category_mapping(EDITOR, session, SHIP, "Garden tools", "201")
        logistics.set_shop_logistics(ADMIN, session, world.ship_connection, [], "")
    logistics.refresh_shop_logistics(ADMIN, world.engine, world.ship_connection, world.ship)
    with transaction(world.engine) as session:
        logistics.set_shop_logistics(ADMIN, session, world.ship_connection, ["2001"], "WH-A")
    [result] = publishing.publish(EDITOR, world.engine, [shirt.id], [world.ship_connection], world.connector)
    assert result.ok and result.created == 1
    with transaction(world.engine) as session:
        product = catalog.get_product(session, shirt.id)
        catalog.update_product(EDITOR, session, shirt.id, expected_version=product.version, changes={
            "variants": [{"sku": "LIN-1-3", "name": "V3", "price": "61.00", "stock": 4, "attributes": {"Size": "S3"}}],
        })  # fmt: skip
    [plan] = sync.dry_run(world.engine, product_ids=[shirt.id], connection_ids=[world.ship_connection])
    [added] = plan.changes
    assert added.valid and added.request()["sku"] == {
        "variant_id": added.variant_id, "seller_sku": "LIN-1-3", "price": "61.00", "stock": 4,
        "attributes": {"Size": "S3"},
    }  # fmt: skip
    report = sync.sync_shop(world.engine, world.ship_connection, world.ship, product_ids=[shirt.id])
    assert report.succeeded == 1 and report.failed == 0
    [item] = world.ship.items.values()
    assert ("add_variants", (item.item_id, ["LIN-1-3"], "WH-A")) in world.ship.calls
    assert sorted(seller for seller, _, _ in item.skus.values()) == ["LIN-1-1", "LIN-1-2", "LIN-1-3"]
    # Bound: the next plan has nothing to do for it, before and after a pull.
    assert sync.dry_run(world.engine, product_ids=[shirt.id], connection_ids=[world.ship_connection])[0].changes == ()
    from syncstore.sync import snapshot

    snapshot.pull(world.engine, world.ship_connection, world.ship)
    assert sync.dry_run(world.engine, product_ids=[shirt.id], connection_ids=[world.ship_connection])[0].changes == ()


def test_a_publish_to_a_shop_never_refreshed_fetches_what_it_needs_and_sends_nothing_incomplete(world: World) -> None:
    shirt = world.product("LIN-1")
    with transaction(world.engine) as session:
        mappings.set_category_mapping(EDITOR, session, REVIEW, "Shirts", "101")  # no cache yet: not checked
    [result] = publishing.publish(EDITOR, world.engine, [shirt.id], [world.review_connection], world.connector)
    assert ("list_categories", None) in world.review.calls and ("get_category_attributes", "101") in world.review.calls
    assert result.created == 0 and world.review.created() == []
    [failure] = result.failures
    assert failure.startswith(f"product {shirt.id}: not sent: attributes.7003: 'Care label' is mandatory")


def test_a_mapping_to_a_category_the_platform_removed_says_to_map_again(world: World) -> None:
    shirt = world.product("LIN-1")
    with transaction(world.engine) as session:
        mappings.set_category_mapping(EDITOR, session, REVIEW, "Shirts", "555")  # before any refresh: accepted
    cache.refresh_categories(EDITOR, world.engine, world.review_connection, world.review)
    [review] = publishing.publish_preview(world.engine, [shirt.id], [world.review_connection])
    assert review.products[0].missing == (
        "category: Review Mart category 555 no longer exists: map 'Shirts' again on the Categories page",
    )
