# Shopee publishing contract tests: upload, categories, attributes, brands, channels, create, add_model.
"""Each publishing call of the Shopee connector against its documented request shape and answer
(`fixtures/shopee/`), over `httpx.MockTransport`; no simulator is involved."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from connectors.base import AttributeChoice, InvalidRequest, SkuDraft
from tests.contracts.test_shopee_contracts import (
    ACCESS_TOKEN,
    EMPTY_SEARCH,
    NOT_MULTI_WAREHOUSE,
    FakeShopee,
    answers,
    assert_shape,
    connector,
    draft,
    fixture,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def query_of(request: httpx.Request) -> httpx.Request:
    """The request without its (multipart) body, for the query and signing checks."""
    return httpx.Request(request.method, request.url)


def test_upload_image_is_multipart_field_image_signed_as_a_public_call():
    data = fixture("upload_image")
    fake = FakeShopee(answers("upload_image"))
    uploaded = connector(fake).upload_image(PNG, "front.png", "image/png")
    assert uploaded.image_id == "sg-11134201-7rbk0-lm2l3h5p0ejd4c"
    assert uploaded.url.endswith(uploaded.image_id)
    (request,) = fake.requests
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert_shape(query_of(request), data["request"])  # public: no access_token, no shop_id in the query
    body = request.read()
    assert b'name="image"; filename="front.png"' in body and PNG in body
    assert b'name="scene"' in body


def test_upload_image_is_signed_as_a_shop_call_when_shopee_asks_for_the_token_and_keeps_that_reading():
    data = fixture("upload_image")
    fake = FakeShopee({data["request"]["path"]: [data["error_example"], data["response"]]})
    shop = connector(fake)
    shop.upload_image(PNG, "a.png", "image/png")
    shop.upload_image(PNG, "b.png", "image/png")
    first, second, third = fake.requests
    assert "access_token" not in first.url.params
    for request in (second, third):
        assert_shape(query_of(request), {**data["request"], "sign": "shop"})
        assert request.url.params["access_token"] == ACCESS_TOKEN


def test_get_category_lists_parents_before_children():
    data = fixture("get_category")
    fake = FakeShopee(answers("get_category"))
    categories = connector(fake).list_categories()
    assert_shape(fake.requests[0], data["request"])
    assert [(c.category_id, c.parent_id, c.is_leaf) for c in categories] == [
        ("100900", None, False),
        ("100017", "100900", True),
    ]
    assert categories[1].name == "T-Shirts"


def test_get_attribute_tree_gives_mandatory_flags_input_types_and_values():
    data = fixture("get_attribute_tree")
    fake = FakeShopee(answers("get_attribute_tree"))
    attributes = {a.name: a for a in connector(fake).get_category_attributes("100017")}
    assert_shape(fake.requests[0], data["request"])
    storage = attributes["Storage Capacity"]
    assert (storage.attribute_id, storage.mandatory, storage.input_type, storage.custom_allowed) == (
        "100005",
        True,
        "single_select",
        False,
    )
    assert [(v.value_id, v.name) for v in storage.values] == [("501", "64GB"), ("502", "128GB")]
    assert (attributes["Material"].input_type, attributes["Material"].custom_allowed) == ("single_select", True)
    assert (attributes["Expiry Date"].input_type, attributes["Expiry Date"].mandatory) == ("date", True)
    assert (attributes["Skin Type"].input_type, attributes["Skin Type"].custom_allowed) == ("multi_select", False)


def test_get_brand_list_pages_normal_brands():
    data = fixture("get_brand_list")
    fake = FakeShopee(answers("get_brand_list"))
    brands = connector(fake).list_brands("100017")
    assert_shape(fake.requests[0], data["request"])
    assert [(b.brand_id, b.name) for b in brands] == [("1000001", "Amparo"), ("1000002", "Batik & Co")]


def test_get_channel_list_gives_each_channel_and_whether_it_is_enabled():
    data = fixture("get_channel_list")
    fake = FakeShopee(answers("get_channel_list"))
    channels = connector(fake).list_logistics_channels()
    assert_shape(fake.requests[0], data["request"])
    assert [(c.channel_id, c.name, c.enabled) for c in channels] == [
        ("28016", "Standard Delivery", True),
        ("28017", "Self Collection", False),
    ]


def test_create_sends_image_ids_logistics_attributes_brand_location_and_standardised_variations():
    added = json.loads(json.dumps(fixture("add_item")["response"]))
    no_models = {"error": "", "message": "", "request_id": "r1", "response": {"tier_variation": [], "model": []}}
    models = fixture("init_tier_variation")["response"]
    fake = FakeShopee(
        {
            "/api/v2/product/search_item": [EMPTY_SEARCH],
            "/api/v2/product/add_item": [added],
            "/api/v2/product/get_model_list": [no_models],
            "/api/v2/product/init_tier_variation": [models],
        }
    )
    skus = (
        SkuDraft(seller_sku="SKU-Cream", price=Decimal("38.30"), stock=3, attributes={"Color": "Cream"}),
        SkuDraft(seller_sku="SKU-Blue", price=Decimal("40.00"), stock=1, attributes={"Color": "Blue"}),
    )
    listing = draft(skus, key="tee-1").model_copy(
        update={
            "brand_id": "1000001",
            "brand_name": "Amparo",
            "attributes": (
                AttributeChoice(attribute_id="100005", value_ids=("502",)),
                AttributeChoice(attribute_id="100011", text="Model X"),
            ),
            "logistics_channel_ids": ("28016", "28018"),
            "location_id": "SGZ",
        }
    )
    connector(fake).create_listing(listing)
    add_item = json.loads(fake.sent("/api/v2/product/add_item")[0].content)
    assert add_item["image"] == {"image_id_list": ["sg-11134201-1"]}
    assert add_item["logistic_info"] == [
        {"logistic_id": 28016, "enabled": True},
        {"logistic_id": 28018, "enabled": True},
    ]
    assert add_item["attribute_list"] == [
        {"attribute_id": 100005, "attribute_value_list": [{"value_id": 502}]},
        {"attribute_id": 100011, "attribute_value_list": [{"value_id": 0, "original_value_name": "Model X"}]},
    ]
    assert add_item["brand"] == {"brand_id": 1000001, "original_brand_name": "Amparo"}
    init = json.loads(fake.sent("/api/v2/product/init_tier_variation")[0].content)
    assert "tier_variation" not in init
    assert [t["variation_name"] for t in init["standardise_tier_variation"]] == ["Color"]
    assert [m["seller_stock"] for m in init["model"]] == [
        [{"location_id": "SGZ", "stock": 3}],
        [{"location_id": "SGZ", "stock": 1}],
    ]
    assert fake.sent("/api/v2/shop/get_warehouse_detail") == [], "the draft's location needs no lookup"


@pytest.mark.parametrize(
    ("update", "field"),
    [({"logistics_channel_ids": ()}, "logistics_channel_ids"), ({"images": ("https://img.example/1.jpg",)}, "images")],
)
def test_create_without_a_channel_or_with_an_image_url_is_refused_before_sending(update, field):
    fake = FakeShopee({"/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE]})
    listing = draft((SkuDraft(seller_sku="MUG-9", price=Decimal("8.50"), stock=12),)).model_copy(
        update={"logistics_channel_ids": ("28016",), **update}
    )
    with pytest.raises(InvalidRequest) as caught:
        connector(fake).create_listing(listing)
    assert field in caught.value.fields
    assert fake.requests == []


def test_add_variants_grows_the_tier_with_update_tier_variation_then_add_model():
    fake = FakeShopee(answers("get_model_list", "update_tier_variation", "add_model"))
    new = SkuDraft(seller_sku="SHIRT-L", price=Decimal("23.00"), stock=6, attributes={"Size": "L"})
    again = SkuDraft(seller_sku="SHIRT-M", price=Decimal("21.50"), stock=0, attributes={"Size": "M"})
    created = connector(fake, region="SG").add_variants("34002", [new, again], location_id="SGZ")
    assert dict(created.sku_ids) == {"SHIRT-L": "2000458804", "SHIRT-M": "2000458803"}
    assert_shape(fake.sent("/api/v2/product/get_model_list")[0], fixture("get_model_list")["request"])
    assert_shape(fake.sent("/api/v2/product/update_tier_variation")[0], fixture("update_tier_variation")["request"])
    assert_shape(fake.sent("/api/v2/product/add_model")[0], fixture("add_model")["request"])


def test_add_variants_with_known_options_sends_no_tier_update():
    fake = FakeShopee(
        answers("get_model_list", "add_model", **{"/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE]})
    )
    known = fixture("get_model_list")
    known["response"]["response"]["model"] = known["response"]["response"]["model"][:1]  # only SHIRT-S listed
    fake.answers["/api/v2/product/get_model_list"] = [known["response"]]
    fake.answers["/api/v2/product/add_model"][0]["response"]["model"][0]["model_sku"] = "SHIRT-M2"
    connector(fake, region="SG").add_variants(
        "34002", [SkuDraft(seller_sku="SHIRT-M2", price=Decimal("21.50"), stock=1, attributes={"Size": "M"})]
    )
    assert fake.sent("/api/v2/product/update_tier_variation") == []
    (request,) = fake.sent("/api/v2/product/add_model")
    assert json.loads(request.content)["model_list"][0]["tier_index"] == [1]
