# TikTok Shop simulator publishing tests: uploads, the seeded catalog, create's refusals, SKUs added by partial edit.
"""Hand-signed requests (the signature computed here, not by the connector) pin what the simulated TikTok Shop
accepts and refuses when a product is published; then the connector end to end, through the audit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.base import AttributeChoice, ListingDraft, ListingStatus, ShopCredentials, SkuDraft
from connectors.retry import RetryPolicy
from connectors.simulator.common import SimClock
from connectors.tiktokshop.connector import TikTokShopConnector
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from tests.connectors.simulator.test_tiktokshop_simulator import (
    APP_KEY,
    APP_SECRET,
    PRODUCTS,
    SERVICE_ID,
    SHOP_ID,
    Raw,
    Receiver,
    create_body,
    envelope,
    own_sign,
    product_path,
    subscribe,
)

UPLOAD = "/product/202309/images/upload"
JPEG = b"\xff\xd8\xff\xe0" + bytes(40)
STRICT_CATEGORY = "600102"  # Smartphones: Storage Capacity and Warranty Type are mandatory


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def sim(clock: SimClock) -> Iterator[TikTokShopSimulator]:
    simulator = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID, clock=clock)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.stop()


def upload(raw: Raw, data: bytes = JPEG, *, cipher: bool = False, use_case: str = "MAIN_IMAGE") -> httpx.Response:
    """A multipart upload signed over the query only (the body of an upload is not signed)."""
    params = {"app_key": APP_KEY, "timestamp": str(int(time.time()))}
    if cipher:
        params["shop_cipher"] = raw.cipher
    params["sign"] = own_sign(APP_SECRET, UPLOAD, params, None)
    return raw.client.post(
        raw.sim.url + UPLOAD,
        params=params,
        files={"data": ("a.jpg", data, "image/jpeg")},
        data={"use_case": use_case},
        headers={"x-tts-access-token": raw.access},
    )


def uploaded_uri(raw: Raw) -> str:
    code, message, data = envelope(upload(raw))
    assert code == 0, message
    return str(data["uri"])


# --- uploads and the catalog ------------------------------------------------------------------


def test_an_upload_is_stored_and_answers_its_uri_and_url(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    code, _, data = envelope(upload(raw))
    assert code == 0 and data["url"].startswith("https://") and data["use_case"] == "MAIN_IMAGE"
    assert sim.uploaded_image(data["uri"]) == JPEG
    assert httpx.get(f"{sim.url}/_simulator/images/{data['uri']}").content == JPEG


def test_an_upload_with_a_shop_cipher_or_a_bad_file_is_refused(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    assert envelope(upload(raw, cipher=True))[0] == 36009004
    code, message, _ = envelope(upload(raw, b"GIF89a" + bytes(8)))
    assert code == 98001004 and "JPG" in message
    assert envelope(upload(raw, use_case="SELFIE"))[0] == 98001004


def test_categories_attributes_and_brands_are_served(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    _, _, data = envelope(raw.call("GET", "/product/202309/categories"))
    leaves = {c["id"] for c in data["categories"] if c["is_leaf"]}
    assert {str(600000 + n) for n in range(1, 28)} <= leaves, "the demo's 600001..600027 stay leaves"
    _, _, data = envelope(raw.call("GET", f"/product/202309/categories/{STRICT_CATEGORY}/attributes"))
    required = {a["name"] for a in data["attributes"] if a["is_requried"]}
    assert required == {"Storage Capacity", "Warranty Type"}
    _, _, demo = envelope(raw.call("GET", "/product/202309/categories/600020/attributes"))
    assert not any(a["is_requried"] for a in demo["attributes"])
    _, _, brands = envelope(
        raw.call("GET", "/product/202309/brands", query={"category_id": "600020", "page_size": "20"})
    )
    assert len(brands["brands"]) == 20 and brands["next_page_token"]


# --- create's refusals ------------------------------------------------------------------------


def test_create_refuses_an_image_url_or_an_unknown_uri(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    for uri in ("https://img.example.com/p.jpg", "tos-never-uploaded"):
        code, message, _ = envelope(raw.call("POST", PRODUCTS, create_body(main_images=[{"uri": uri}])))
        assert (code, message) == (12052722, "The image URI does not exist in TikTok Shop.")
    assert envelope(raw.call("POST", PRODUCTS, create_body(main_images=[{"uri": uploaded_uri(raw)}])))[0] == 0


def test_create_without_a_warehouse_in_a_multi_warehouse_shop_is_refused(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    answer = httpx.post(f"{sim.url}/_simulator/shops/{SHOP_ID}/warehouses", json={"count": 2}).json()
    sales = [w["id"] for w in answer["warehouses"] if w["type"] == "SALES_WAREHOUSE"]
    code, message, _ = envelope(raw.call("POST", PRODUCTS, create_body()))
    assert code == 12019028 and message.startswith("Multiple warehouses detected")
    skus = [{"seller_sku": "X", "price": {"amount": "1.00", "currency": "USD"},
             "inventory": [{"warehouse_id": sales[1], "quantity": 1}]}]  # fmt: skip
    assert envelope(raw.call("POST", PRODUCTS, create_body(skus=skus)))[0] == 0


def test_create_refuses_a_missing_mandatory_attribute_and_a_category_that_is_no_leaf(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    storage = {"id": "100005", "values": [{"id": "502"}]}
    code, message, _ = envelope(
        raw.call("POST", PRODUCTS, create_body(category_id=STRICT_CATEGORY, product_attributes=[storage]))
    )
    assert code == 98001004 and "product_attributes" in message and "Warranty Type" in message
    warranty = {"id": "100006", "values": [{"id": "601"}]}
    body = create_body(category_id=STRICT_CATEGORY, product_attributes=[storage, warranty])
    assert envelope(raw.call("POST", PRODUCTS, body))[0] == 0
    custom = {"id": "100006", "values": [{"name": "Lifetime"}]}  # not customizable
    body = create_body(category_id=STRICT_CATEGORY, product_attributes=[storage, custom])
    assert envelope(raw.call("POST", PRODUCTS, body))[0] == 98001004
    code, message, _ = envelope(raw.call("POST", PRODUCTS, create_body(category_id="600901")))
    assert code == 98001004 and "category_id" in message
    assert envelope(raw.call("POST", PRODUCTS, create_body(brand_id="42")))[0] == 98001004


def test_create_refuses_a_title_shorter_than_25_characters_outside_the_us_and_uk(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim, region="MY", currency="USD")
    code, message, _ = envelope(raw.call("POST", PRODUCTS, create_body(title="Linen shirt")))
    assert code == 98001004 and "'title'" in message and "25 to 255" in message


# --- SKUs added by partial edit, through the audit --------------------------------------------


def test_partial_edit_adds_new_skus_keeps_the_listed_ones_and_removes_the_left_out(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim)
    product_id = sim.add_product(
        SHOP_ID,
        skus=[{"seller_sku": "A", "price": "5.00", "stock": 1}, {"seller_sku": "B", "price": "6.00", "stock": 2}],
    )
    a, _b = sim.sku_ids(product_id)
    warehouse = sim.warehouses(SHOP_ID)[0].id
    keep = {"id": a, "seller_sku": "A", "price": {"amount": "5.00", "currency": "USD"},
            "inventory": [{"warehouse_id": warehouse, "quantity": 1}], "sales_attributes": []}  # fmt: skip
    new = {"seller_sku": "C", "price": {"amount": "7.00", "currency": "USD"},
           "inventory": [{"quantity": 3}], "sales_attributes": [{"name": "Size", "value_name": "L"}]}  # fmt: skip
    edit = product_path(product_id, "partial_edit")
    assert envelope(raw.call("POST", edit, {"skus": [keep, new]}))[0] == 98001004, "inventory.warehouse_id required"
    new["inventory"] = [{"warehouse_id": warehouse, "quantity": 3}]
    code, _, data = envelope(raw.call("POST", edit, {"skus": [keep, new]}))
    assert code == 0 and [s["seller_sku"] for s in data["skus"]] == ["A", "C"]
    sim.pump()
    _, _, detail = envelope(raw.call("GET", product_path(product_id)))
    assert detail["status"] == "ACTIVATE"
    assert [(s["seller_sku"], s["id"]) for s in detail["skus"]] == [("A", a), ("C", data["skus"][1]["id"])]


def test_an_audit_forced_to_fail_through_the_control_api_is_pushed_with_its_reason(
    sim: TikTokShopSimulator, clock: SimClock, receiver: Receiver
) -> None:
    raw = Raw(sim, audit_delay_s=30)
    subscribe(raw, receiver.url, "PRODUCT_STATUS_CHANGE")
    _, _, created = envelope(raw.call("POST", PRODUCTS, create_body()))
    product_id = created["product_id"]
    forced = httpx.post(f"{sim.url}/_simulator/products/{product_id}/fail_next_audit", json={"reason": "Blurry image"})
    assert forced.status_code == 200
    clock.advance(31)
    sim.pump()
    _, _, detail = envelope(raw.call("GET", product_path(product_id)))
    assert detail["status"] == "FAILED" and detail["audit_failed_reasons"][0]["reasons"] == ["Blurry image"]
    (event,) = receiver.events()
    assert (event["type"], event["data"]["status"], event["data"]["suspended_reason"]) == (5, "FAILED", "Blurry image")


def test_the_connector_publishes_through_the_audit_and_adds_a_variant(
    sim: TikTokShopSimulator, clock: SimClock
) -> None:
    cipher = sim.add_shop(SHOP_ID, "Connector shop", region="MY", currency="MYR", warehouses=2, audit_delay_s=5)
    access, _ = sim.issue_tokens(SHOP_ID)
    conn = TikTokShopConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host=sim.url,
        credentials=ShopCredentials(shop_id=SHOP_ID, access_token=access, shop_cipher=cipher),
        policy=RetryPolicy(base_delay_s=0.01, max_delay_s=0.05),
    )
    image = conn.upload_image(JPEG, "front.jpg", "image/jpeg")
    attributes = {a.name: a for a in conn.get_category_attributes(STRICT_CATEGORY)}
    storage, warranty = attributes["Storage Capacity"], attributes["Warranty Type"]
    brand = conn.list_brands(STRICT_CATEGORY)[0]
    second = conn.list_locations()[1].location_id
    draft = ListingDraft(
        title="Phone X, 128 GB, dual SIM, black",
        description="<p>A phone</p>",
        category_id=STRICT_CATEGORY,
        images=(image.image_id,),
        weight_kg=Decimal("0.3"),
        currency="MYR",
        skus=(SkuDraft(seller_sku="PX-BLK", price=Decimal("999.00"), stock=4, attributes={"Colour": "Black"}),),
        idempotency_key="px-1",
        brand_id=brand.brand_id,
        attributes=(
            AttributeChoice(attribute_id=storage.attribute_id, value_ids=(storage.values[1].value_id,)),
            AttributeChoice(attribute_id=warranty.attribute_id, value_ids=(warranty.values[2].value_id,)),
        ),
        location_id=second,
    )
    created = conn.create_listing(draft)
    assert created.in_review
    assert conn.get_listings([created.item_id])[0].status is ListingStatus.IN_REVIEW
    product = sim.product(created.item_id)
    assert product.main_images == [image.image_id] and product.brand_id == brand.brand_id
    assert product.skus[0].inventory == {second: 4}
    clock.advance(6)
    sim.pump()
    added = conn.add_variants(
        created.item_id,
        [SkuDraft(seller_sku="PX-WHT", price=Decimal("999.00"), stock=2, attributes={"Colour": "White"})],
        location_id=second,
    )
    assert added.in_review and set(added.sku_ids) == {"PX-WHT"}
    clock.advance(6)
    sim.pump()
    (listing,) = conn.get_listings([created.item_id])
    assert listing.status is ListingStatus.ACTIVE
    stock = {sku.seller_sku: {row.location_id: row.quantity for row in sku.stock} for sku in listing.skus}
    assert stock == {"PX-BLK": {second: 4}, "PX-WHT": {second: 2}}
    assert {sku.seller_sku: sku.sku_id for sku in listing.skus}["PX-WHT"] == added.sku_ids["PX-WHT"]


def test_a_saved_state_keeps_uris_valid_without_their_bytes(sim: TikTokShopSimulator, tmp_path: Path) -> None:
    raw = Raw(sim)
    uri = uploaded_uri(raw)
    path = tmp_path / "tiktok.json"
    sim.save(path)
    assert uri in path.read_text() and "data_b64" not in path.read_text()
    reloaded = TikTokShopSimulator.load(path)
    assert uri in reloaded.state.images and reloaded.uploaded_image(uri) == b""
