# Shopee simulator publishing tests: uploads, the seeded catalog, channels, and add_item's refusals, by raw signed HTTP.
"""What the simulated Shopee accepts and refuses when a listing is published: hand-signed requests (hmac here,
not the connector), so each refusal is pinned independently of the connector; then the connector end to end."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.base import AttributeChoice, Dimensions, ListingDraft, ShopCredentials, SkuDraft
from connectors.retry import RetryPolicy
from connectors.shopee.connector import ShopeeConnector
from connectors.shopee.simulator.server import ShopeeSimulator

PARTNER_ID = 2001887
PARTNER_KEY = "publishing-test-partner-key"
SHOP = 601
PNG = b"\x89PNG\r\n\x1a\n" + bytes(48)
ADD_ITEM = "/api/v2/product/add_item"
UPLOAD = "/api/v2/media_space/upload_image"
STRICT_CATEGORY = 100102  # Smartphones: Storage Capacity and Warranty Type are mandatory
DEMO_CATEGORY = 100020  # T-Shirts: optional attributes only


@pytest.fixture
def sim():
    simulator = ShopeeSimulator(PARTNER_ID, PARTNER_KEY)
    simulator.add_shop(SHOP, "Publishing shop", region="SG")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def token(sim: ShopeeSimulator) -> str:
    return sim.issue_tokens(SHOP)[0]


def signed(
    sim: ShopeeSimulator,
    method: str,
    path: str,
    token: str | None,
    *,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
) -> httpx.Response:
    """One request signed as Shopee documents it (shop call with a token, public call without)."""
    timestamp = int(time.time())
    base = f"{PARTNER_ID}{path}{timestamp}" + (f"{token}{SHOP}" if token is not None else "")
    query: dict[str, Any] = {
        "partner_id": PARTNER_ID,
        "timestamp": timestamp,
        "sign": hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest(),
    }
    if token is not None:
        query.update(access_token=token, shop_id=SHOP)
    query.update(params or {})
    if files is not None:
        return httpx.request(method, sim.url + path, params=query, files=files, data=body, timeout=5)
    return httpx.request(method, sim.url + path, params=query, json=body, timeout=5)


def answer(response: httpx.Response) -> tuple[str, str, Any]:
    payload = response.json()
    return payload["error"].rsplit(".", 1)[-1], payload["message"], payload.get("response")


def upload(sim: ShopeeSimulator, token: str | None = None, data: bytes = PNG) -> str:
    response = signed(sim, "POST", UPLOAD, token, files={"image": ("a.png", data, "image/png")})
    code, message, body = answer(response)
    assert code == "", message
    return str(body["image_info"]["image_id"])


def item_body(image_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "item_name": "Phone case, clear",
        "description": "Clear case",
        "category_id": DEMO_CATEGORY,
        "original_price": 12.5,
        "weight": 0.2,
        "image": {"image_id_list": [image_id]},
        "logistic_info": [{"logistic_id": 20011, "enabled": True}],
        "seller_stock": [{"stock": 3}],
        **extra,
    }


# --- uploads --------------------------------------------------------------------------------


def test_an_upload_is_stored_and_its_id_is_handed_out(sim, token):
    image_id = upload(sim)
    assert sim.uploaded_image(image_id) == PNG
    assert httpx.get(f"{sim.url}/_simulator/images/{image_id}").content == PNG


def test_upload_signing_follows_the_chosen_reading(sim, token):
    """Public by default (the API reference's type): a shop-signed upload is a wrong sign; and the other way."""
    code, _, _ = answer(signed(sim, "POST", UPLOAD, token, files={"image": ("a.png", PNG, "image/png")}))
    assert code == "error_sign"
    sim.set_upload_kind("shop")
    code, message, _ = answer(signed(sim, "POST", UPLOAD, None, files={"image": ("a.png", PNG, "image/png")}))
    assert (code, message) == ("error_param", "There is no access_token in query.")
    assert upload(sim, token)


@pytest.mark.parametrize(
    ("data", "words"), [(b"GIF89a" + bytes(8), "JPG, JPEG, PNG"), (PNG + bytes(10 << 20), "10.0 MB")]
)
def test_an_upload_that_is_no_jpeg_or_png_or_too_large_is_refused(sim, data, words):
    code, message, _ = answer(signed(sim, "POST", UPLOAD, None, files={"image": ("a.gif", data, "image/gif")}))
    assert code == "error_param" and words in message


# --- the catalog and the channels -------------------------------------------------------------


def test_the_seeded_catalog_keeps_the_demo_leaves_and_has_mandatory_attributes(sim, token):
    _, _, tree = answer(signed(sim, "GET", "/api/v2/product/get_category", token))
    categories = {c["category_id"]: c for c in tree["category_list"]}
    assert all(not categories[100000 + n]["has_children"] for n in range(1, 28)), "the demo's 100001..100027"
    assert 24 <= len(categories) <= 80
    _, _, attrs = answer(
        signed(
            sim,
            "GET",
            "/api/v2/product/get_attribute_tree",
            token,
            params={"category_id_list": f"{DEMO_CATEGORY},{STRICT_CATEGORY}"},
        )
    )
    by_category = {entry["category_id"]: entry["attribute_tree"] for entry in attrs["list"]}
    assert not any(a["mandatory"] for a in by_category[DEMO_CATEGORY])
    mandatory = {a["name"] for a in by_category[STRICT_CATEGORY] if a["mandatory"]}
    assert mandatory == {"Storage Capacity", "Warranty Type"}
    _, _, brands = answer(
        signed(
            sim,
            "GET",
            "/api/v2/product/get_brand_list",
            token,
            params={"offset": 0, "page_size": 10, "category_id": DEMO_CATEGORY, "status": 1},
        )
    )
    assert len(brands["brand_list"]) == 10 and brands["has_next_page"]


def test_channels_are_listed_and_configurable_through_the_control_api(sim, token):
    _, _, body = answer(signed(sim, "GET", "/api/v2/logistics/get_channel_list", token))
    assert [(c["logistics_channel_id"], c["enabled"]) for c in body["logistics_channel_list"]] == [
        (20011, True), (20012, True), (20013, False),
    ]  # fmt: skip
    rows = {"channels": [{"channel_id": 30001, "name": "Courier", "enabled": False}]}
    assert httpx.post(f"{sim.url}/_simulator/shops/{SHOP}/logistics", json=rows).status_code == 200
    _, _, body = answer(signed(sim, "GET", "/api/v2/logistics/get_channel_list", token))
    assert [(c["logistics_channel_id"], c["enabled"]) for c in body["logistics_channel_list"]] == [(30001, False)]


# --- add_item's refusals ----------------------------------------------------------------------


def test_add_item_with_an_uploaded_image_and_an_enabled_channel_is_created(sim, token):
    code, message, body = answer(signed(sim, "POST", ADD_ITEM, token, body=item_body(upload(sim))))
    assert code == "", message
    assert sim.state.items[body["item_id"]].brand["brand_id"] == 0


@pytest.mark.parametrize("image", ["https://img.example/1.jpg", "sim-0000999-unknown"])
def test_add_item_refuses_an_image_url_or_an_unknown_image_id(sim, token, image):
    code, message, _ = answer(signed(sim, "POST", ADD_ITEM, token, body=item_body(image)))
    assert (code, message) == ("error_param", "Image not exist.")


def test_add_item_refuses_an_image_another_shop_uploaded(sim, token):
    sim.add_shop(602, "Other")
    foreign = sim.add_image(PNG, shop_id=602)
    code, message, _ = answer(signed(sim, "POST", ADD_ITEM, token, body=item_body(foreign)))
    assert (code, message) == ("error_param", "Image not exist.")


@pytest.mark.parametrize(
    "logistics",
    [[], [{"logistic_id": 20013, "enabled": True}], [{"logistic_id": 20011, "enabled": False}]],
    ids=["none", "disabled-channel", "not-enabled-for-the-item"],
)
def test_add_item_refuses_without_an_enabled_logistics_channel(sim, token, logistics):
    body = item_body(upload(sim), logistic_info=logistics)
    code, message, _ = answer(signed(sim, "POST", ADD_ITEM, token, body=body))
    assert code == "error_param" and message.startswith("Invalid logistic info")


def test_add_item_refuses_when_a_mandatory_attribute_is_missing(sim, token):
    image = upload(sim)
    body = item_body(image, category_id=STRICT_CATEGORY, attribute_list=[
        {"attribute_id": 100005, "attribute_value_list": [{"value_id": 502}]},
    ])  # fmt: skip
    code, message, _ = answer(signed(sim, "POST", ADD_ITEM, token, body=body))
    assert code == "error_invalid_attribute"
    assert message == "Mandatory attribute information required: Warranty Type"
    body["attribute_list"].append({"attribute_id": 100006, "attribute_value_list": [{"value_id": 602}]})
    assert answer(signed(sim, "POST", ADD_ITEM, token, body=body))[0] == ""


def test_add_item_refuses_a_free_text_value_for_a_fixed_list_and_an_unknown_brand(sim, token):
    image = upload(sim)
    body = item_body(image, category_id=STRICT_CATEGORY, attribute_list=[
        {"attribute_id": 100005, "attribute_value_list": [{"value_id": 0, "original_value_name": "1TB"}]},
        {"attribute_id": 100006, "attribute_value_list": [{"value_id": 602}]},
    ])  # fmt: skip
    assert answer(signed(sim, "POST", ADD_ITEM, token, body=body))[0] == "error_param"
    body = item_body(image, brand={"brand_id": 42, "original_brand_name": "Nobody"})
    assert answer(signed(sim, "POST", ADD_ITEM, token, body=body))[:2] == ("error_invalid_brand", "Invalid brand")


def test_init_tier_variation_refuses_the_deprecated_tier_variation(sim, token):
    _, _, item = answer(signed(sim, "POST", ADD_ITEM, token, body=item_body(upload(sim))))
    models = [{"tier_index": [0], "model_sku": "A", "original_price": 10, "seller_stock": [{"stock": 1}]}]
    legacy = {
        "item_id": item["item_id"],
        "tier_variation": [{"name": "Size", "option_list": [{"option": "S"}]}],
        "model": models,
    }
    code, message, _ = answer(signed(sim, "POST", "/api/v2/product/init_tier_variation", token, body=legacy))
    assert code == "error_param" and "standardise_tier_variation" in message


# --- through the connector: upload, create with everything, add a variant --------------------


def test_the_connector_publishes_and_adds_a_variant_under_either_upload_signing(sim, token):
    sim.set_upload_kind("shop")
    connector = ShopeeConnector(
        partner_id=PARTNER_ID,
        partner_key=PARTNER_KEY,
        host=sim.url,
        credentials=ShopCredentials(shop_id=str(SHOP), access_token=token),
        policy=RetryPolicy(base_delay_s=0.01, max_delay_s=0.05),
        region="SG",
    )
    image = connector.upload_image(PNG, "front.png", "image/png")
    attributes = {a.name: a for a in connector.get_category_attributes(str(STRICT_CATEGORY))}
    storage, warranty = attributes["Storage Capacity"], attributes["Warranty Type"]
    channels = [c.channel_id for c in connector.list_logistics_channels() if c.enabled]
    brand = connector.list_brands(str(STRICT_CATEGORY))[0]
    skus = tuple(
        SkuDraft(seller_sku=f"PH-{c}", price=Decimal("499.00"), stock=2, attributes={"Colour": c})
        for c in ("Black", "White")
    )
    draft = ListingDraft(
        title="Phone X", description="A phone", category_id=str(STRICT_CATEGORY), images=(image.image_id,),
        weight_kg=Decimal("0.3"),
        dimensions=Dimensions(length_cm=Decimal(16), width_cm=Decimal(8), height_cm=Decimal(2)),
        currency="SGD", skus=skus, idempotency_key="phone-x", brand_id=brand.brand_id, brand_name=brand.name,
        attributes=(
            AttributeChoice(attribute_id=storage.attribute_id, value_ids=(storage.values[1].value_id,)),
            AttributeChoice(attribute_id=warranty.attribute_id, value_ids=(warranty.values[0].value_id,)),
        ),
        logistics_channel_ids=tuple(channels),
    )  # fmt: skip
    created = connector.create_listing(draft)
    item = sim.state.items[int(created.item_id)]
    assert item.image_ids == [image.image_id] and item.brand["original_brand_name"] == brand.name
    assert [row["logistic_id"] for row in item.logistic_info] == [20011, 20012]
    added = connector.add_variants(
        created.item_id,
        [SkuDraft(seller_sku="PH-Blue", price=Decimal("519.00"), stock=1, attributes={"Colour": "Blue"})],
    )
    listing = connector.get_listings([created.item_id])[0]
    by_sku = {sku.seller_sku: sku for sku in listing.skus}
    assert set(by_sku) == {"PH-Black", "PH-White", "PH-Blue"}
    assert by_sku["PH-Blue"].sku_id == added.sku_ids["PH-Blue"] and by_sku["PH-Blue"].attributes == {"Colour": "Blue"}
    assert by_sku["PH-Black"].attributes == {"Colour": "Black"}, "existing models keep their options"
    again = connector.add_variants(
        created.item_id,
        [SkuDraft(seller_sku="PH-Blue", price=Decimal("519.00"), stock=1, attributes={"Colour": "Blue"})],
    )
    assert again.sku_ids == added.sku_ids and sim.request_count("/api/v2/product/add_model") == 1


def test_a_saved_state_keeps_image_ids_valid_without_their_bytes(sim, token, tmp_path):
    image_id = upload(sim)
    path = tmp_path / "shopee.json"
    sim.save(path)
    assert image_id in path.read_text() and "data_b64" not in path.read_text()
    reloaded = ShopeeSimulator.load(path)
    reloaded.start()
    try:
        code, message, _ = answer(signed(reloaded, "POST", ADD_ITEM, token, body=item_body(image_id)))
        assert code == "", message
    finally:
        reloaded.stop()
