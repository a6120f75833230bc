# The Lazada connector against its independent simulator: what a seller would notice, end to end over HTTP.
"""Reads, stock and price writes, campaign locks, content edits, create with upload and QC, status changes,
orders with unit rows, and the typed errors (big sale, revoked token)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.base import (
    AttributeChoice,
    AuthExpired,
    ItemRefused,
    ListingDraft,
    ListingFields,
    ListingStatus,
    OrderStatus,
    ShopCredentials,
    SkuDraft,
    Transient,
)
from connectors.lazada.connector import LazadaConnector
from connectors.lazada.simulator.server import LazadaSimulator
from connectors.retry import RetryPolicy
from tests.connectors.lazada.conftest import APP_KEY, APP_SECRET, SELLER

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(hours=1)


def test_changed_items_and_detail_keyed_by_item_and_sku(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    product = sim.add_product(SELLER, "Phone case", [("CASE-BLK", "19.90", 7), ("CASE-WHT", "21.50", 3)])
    changes = list(connector.list_changed_items(*_window()))
    assert [change.item_id for change in changes] == [product.item_id]
    (listing,) = connector.get_listings([product.item_id, "999999999"])
    assert listing.status is ListingStatus.ACTIVE and listing.title == "Phone case"
    assert {(sku.seller_sku, sku.price, sku.total_stock) for sku in listing.skus} == {
        ("CASE-BLK", Decimal("19.9"), 7),
        ("CASE-WHT", Decimal("21.5"), 3),
    }
    assert listing.skus[0].sku_id == product.skus[0].sku_id


def test_stock_is_sellable_stock_and_a_campaign_lock_fails_only_that_sku(
    sim: LazadaSimulator, connector: LazadaConnector
) -> None:
    product = sim.add_product(SELLER, "Cable", [("C-1", "5", 10), ("C-2", "5", 10)])
    locked, free = product.skus
    sim.lock_campaign_stock(product.item_id, locked.sku_id, 4)
    result = connector.update_stock(product.item_id, {locked.sku_id: 2, free.sku_id: 6})
    by_sku = {row.sku_id: row for row in result.results}
    assert by_sku[free.sku_id].ok
    assert not by_sku[locked.sku_id].ok and by_sku[locked.sku_id].error_code == "4170"
    assert "campaign" in (by_sku[locked.sku_id].message or "")
    assert free.total_sellable == 6 and locked.total_sellable == 10
    # Raising stock under a campaign is allowed; editing the product is not (this item fails, the shop goes on).
    assert connector.update_stock(product.item_id, {locked.sku_id: 12}).failed == ()
    assert locked.total_sellable == 12
    with pytest.raises(ItemRefused) as refused:
        connector.update_fields(product.item_id, ListingFields(title="New"))
    assert refused.value.code == "501" and "campaign" in str(refused.value)


def test_stock_writes_are_batched_by_twenty(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    product = sim.add_product(SELLER, "Many", [(f"S-{n}", "1", 1) for n in range(45)])
    result = connector.update_stock(product.item_id, {sku.sku_id: 9 for sku in product.skus})
    assert result.failed == () and len(result.results) == 45
    assert sim.requests("/product/stock/sellable/update") == 3
    assert all(sku.total_sellable == 9 for sku in product.skus)


def test_multi_warehouse_seller_gets_the_multi_warehouse_form(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    sim.state.sellers[SELLER].warehouses = ["dropshipping", "wh-kl-2"]
    product = sim.add_product(SELLER, "Shoe", [("SHOE-40", "99", 5)])
    (sku,) = product.skus
    sku.sellable["wh-kl-2"] = 4
    assert [location.location_id for location in connector.list_locations()] == ["dropshipping", "wh-kl-2"]
    assert connector.update_stock(product.item_id, {sku.sku_id: 7}).failed == ()
    assert sku.sellable == {"dropshipping": 7, "wh-kl-2": 0}


def test_price_write_keeps_the_special_price(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    product = sim.add_product(SELLER, "Mug", [("MUG", "30.00", 5)])
    (sku,) = product.skus
    sku.special_price = "25.00"
    assert connector.update_price(product.item_id, {sku.sku_id: Decimal("32.50")}).failed == ()
    assert sku.price == "32.50" and sku.special_price == "25.00" and sku.total_sellable == 5


def test_content_edit_create_with_upload_and_qc(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    product = sim.add_product(SELLER, "Old title", [("T-1", "10", 1)])
    connector.update_fields(product.item_id, ListingFields(title="New title", weight_kg=Decimal("1.25")))
    assert product.name == "New title" and product.skus[0].package["package_weight"] == "1.25"

    image = connector.upload_image(PNG, "front.png", "image/png")
    leaves = [category for category in connector.list_categories() if category.is_leaf]
    assert {category.category_id for category in leaves} >= {"10001", "10002"}
    attributes = connector.get_category_attributes("10002")
    warranty = next(attribute for attribute in attributes if attribute.attribute_id == "warranty_type")
    assert warranty.mandatory and warranty.values
    brands = connector.list_brands("10002")
    assert any(brand.name == "Acme" for brand in brands)
    assert connector.list_logistics_channels() == []

    draft = ListingDraft(
        title="Wireless earbuds",
        description="<p>Good sound</p>",
        category_id="10002",
        images=(image.image_id,),
        weight_kg=Decimal("0.3"),
        currency="MYR",
        skus=(SkuDraft(seller_sku="EAR-1", price=Decimal("59.00"), stock=12),),
        idempotency_key="k-1",
        brand_id="20001",
        attributes=(AttributeChoice(attribute_id="warranty_type", value_ids=("No Warranty",)),),
    )
    sim.qc_delay_s = 3600.0
    created = connector.create_listing(draft)
    assert created.in_review and set(created.sku_ids) == {"EAR-1"}
    assert connector.get_listings([created.item_id])[0].status is ListingStatus.IN_REVIEW
    sim.clock.advance(3600)  # QC takes its time on the simulated clock
    assert connector.get_listings([created.item_id])[0].status is ListingStatus.ACTIVE

    added = connector.add_variants(created.item_id, [SkuDraft(seller_sku="EAR-2", price=Decimal("61"), stock=2)])
    assert added.item_id == created.item_id and set(added.sku_ids) == {"EAR-2"}


def test_qc_rejection_is_review_failed_with_the_reason(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    draft = ListingDraft(
        title="Shirt",
        description="cotton",
        category_id="20001",
        images=("https://img.example.com/p/1.jpg?w=800&h=800",),  # not Lazada's: migrated first
        weight_kg=Decimal("0.2"),
        currency="MYR",
        skus=(SkuDraft(seller_sku="SH-1", price=Decimal("20"), stock=1),),
        idempotency_key="k-2",
    )
    sim.qc_delay_s = 60.0
    created = connector.create_listing(draft)
    sim.fail_next_qc(created.item_id, "Blurry main image")
    sim.clock.advance(60)
    sim.pump()
    (listing,) = connector.get_listings([created.item_id])
    assert listing.status is ListingStatus.REVIEW_FAILED and "Blurry main image" in listing.review_message
    assert sim.requests("/image/migrate") == 1 and listing.images[0].startswith("https://sg-test-11.slatic.net/")


def test_deactivate_activate_and_delete(sim: LazadaSimulator, connector: LazadaConnector) -> None:
    product = sim.add_product(SELLER, "Lamp", [("L-1", "10", 1)])
    assert connector.set_active([product.item_id], False)[0].ok
    assert product.status == "InActive"
    again = connector.set_active([product.item_id], False)[0]
    assert not again.ok and again.error_code == "E0004"
    assert connector.set_active([product.item_id], True)[0].ok and product.status == "Active"
    assert connector.delete_listings([product.item_id])[0].ok and product.status == "Deleted"
    assert connector.get_listings([product.item_id]) == []


def test_orders_one_row_per_unit_grouped_with_per_item_statuses(
    sim: LazadaSimulator, connector: LazadaConnector
) -> None:
    product = sim.add_product(SELLER, "Sock", [("SOCK", "3", 10)])
    (sku,) = product.skus
    order_id = sim.place_order(SELLER, [(product.item_id, sku.sku_id, 3)])
    assert sku.total_sellable == 7 and sku.occupy == 3
    first_unit = sim.state.orders[order_id].items[0].order_item_id
    sim.set_item_status(order_id, "canceled", [first_unit])
    assert sku.total_sellable == 8
    (order,) = list(connector.list_changed_orders(*_window()))
    assert order.order_id == order_id and order.status is OrderStatus.PAID
    (line,) = order.lines
    assert (line.sku_id, line.quantity, line.cancelled_quantity, line.seller_sku) == (sku.sku_id, 3, 1, "SOCK")
    sim.set_item_status(order_id, "canceled")
    (again,) = connector.get_orders([order_id, "123"])
    assert again.status is OrderStatus.CANCELLED and again.lines[0].cancelled_quantity == 3
    assert sku.total_sellable == 10


def test_big_sale_is_transient_and_a_dead_token_is_auth_expired(
    sim: LazadaSimulator, connector: LazadaConnector
) -> None:
    product = sim.add_product(SELLER, "Pen", [("P", "1", 1)])
    sim.big_sale()
    with pytest.raises(Transient) as raised:
        connector.update_stock(product.item_id, {product.skus[0].sku_id: 3})
    assert raised.value.code == "998"
    sim.big_sale_over()
    sim.revoke(SELLER)
    with pytest.raises(AuthExpired):
        connector.get_listings([product.item_id])


class _LoseFirstCreateAnswer(httpx.BaseTransport):
    """Delivers every request; the answer of the first /product/create is lost (a read timeout)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.url.path.endswith("/product/create") and not self.lost:
            response.read()
            self.lost += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


def test_a_create_whose_answer_was_lost_is_not_listed_twice(sim: LazadaSimulator) -> None:
    transport = _LoseFirstCreateAnswer()
    access, _ = sim.token_for(SELLER)
    with LazadaConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host=sim.url,
        credentials=ShopCredentials(shop_id=SELLER, access_token=access),
        client=httpx.Client(transport=transport),
        policy=RetryPolicy(max_attempts=3, base_delay_s=0.01),
    ) as connector:
        image = connector.upload_image(PNG, "a.png", "image/png")
        draft = ListingDraft(
            title="Batik scarf",
            description="silk",
            category_id="20001",
            images=(image.image_id,),
            weight_kg=Decimal("0.1"),
            currency="MYR",
            skus=(SkuDraft(seller_sku="SCARF-1", price=Decimal("30"), stock=4),),
            idempotency_key="k-3",
        )
        created = connector.create_listing(draft)
    assert transport.lost == 1
    assert len(sim.state.products) == 1 and set(created.sku_ids) == {"SCARF-1"}
    assert created.item_id in sim.state.products
