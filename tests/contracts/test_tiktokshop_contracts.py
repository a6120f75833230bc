# TikTok Shop contract tests: every call the connector makes, checked against documented request/response fixtures.
"""Contract tests for `connectors/tiktokshop.py` without the simulator.

Each file in `fixtures/tiktokshop/` describes one platform call as the public sources document it (method,
path, query keys, whether `shop_cipher` is sent, headers, body keys) and carries a documented response
example. An `httpx.MockTransport` plays the platform: it checks that every request the connector sends has
exactly that shape and a correct signature (computed here, independently of the connector's signer), then
answers with the fixture's response, and each test checks what the connector made of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import (
    AttributeChoice,
    Dimensions,
    InvalidRequest,
    ListingDraft,
    ListingFields,
    ListingStatus,
    OrderStatus,
    ShopCredentials,
    ShopLocation,
    ShopProfile,
    SkuDraft,
)
from connectors.retry import RetryPolicy
from connectors.tiktokshop.app import TikTokShopApp
from connectors.tiktokshop.connector import TikTokShopConnector

FIXTURES = Path(__file__).parent / "fixtures" / "tiktokshop"
API = "https://open-api.tiktokglobalshop.com"
AUTH = "https://auth.tiktok-shops.com"
APP_KEY = "contract-app-key"
APP_SECRET = "contract-app-secret-0123456789"
ACCESS = "contract-access-token"
SHOP_ID = "7494000000000000042"
CIPHER = "ROW_cipher_sample_42"
NOW = 1_700_000_500
PRODUCT_ID = "1729592969712203232"
SKU_ID = "1729592969712207000"
ONE_TRY = RetryPolicy(max_attempts=1)

# Every call the connector makes; each has one fixture file.
CALLS = (
    "token_get",
    "token_refresh",
    "authorized_shops",
    "webhooks_put",
    "products_search",
    "product_detail",
    "inventory_update",
    "prices_update",
    "partial_edit",
    "create",
    "activate",
    "deactivate",
    "delete",
    "orders_get",
    "orders_search",
    "warehouses",
    "image_upload",
    "categories",
    "category_attributes",
    "brands",
)


def load(name: str) -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return fixture


def expected_sign(path: str, query: Mapping[str, str], body: bytes) -> str:
    """The documented TikTok Shop signature, written here independently of the connector."""
    pairs = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in ("sign", "access_token"))
    message = APP_SECRET + path + pairs + body.decode("utf-8") + APP_SECRET
    return hmac.new(APP_SECRET.encode(), message.encode("utf-8"), hashlib.sha256).hexdigest()


def check_shape(value: Any, shape: Mapping[str, Any], items: Mapping[str, Any], where: str) -> None:
    """`value` has every required key, no key outside required + optional, and nested items obey theirs."""
    assert isinstance(value, dict), f"{where}: not an object"
    required, optional = set(shape["required"]), set(shape["optional"])
    assert required <= set(value), f"{where}: missing {sorted(required - set(value))}"
    assert set(value) <= required | optional, f"{where}: undocumented {sorted(set(value) - required - optional)}"
    for key, inner in value.items():
        path = f"{where}.{key}" if where else key
        if path not in items:
            continue
        for element in inner if isinstance(inner, list) else [inner]:
            check_shape(element, items[path], items, path)


def path_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[0-9A-Za-z_-]+", re.escape(template)) + "$")


class FakePlatform:
    """Answers each request with the fixture of its call after checking the request's documented shape."""

    def __init__(self, overrides: Mapping[str, Callable[[httpx.Request], dict[str, Any]]] | None = None) -> None:
        self.fixtures = {name: load(name) for name in CALLS}
        self.overrides = dict(overrides or {})
        self.calls: list[tuple[str, httpx.Request]] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def requests(self, name: str) -> list[httpx.Request]:
        return [request for called, request in self.calls if called == name]

    def match(self, request: httpx.Request) -> str:
        host = "auth" if request.url.host == httpx.URL(AUTH).host else "api"
        for name, fixture in self.fixtures.items():
            wire = fixture["request"]
            same_call = wire["host"] == host and wire["method"] == request.method
            if same_call and path_pattern(wire["path"]).match(request.url.path):
                return name
        raise AssertionError(f"undocumented call {request.method} {request.url.path}")

    def check(self, name: str, request: httpx.Request) -> None:
        wire = self.fixtures[name]["request"]
        query = dict(request.url.params)
        assert len(request.url.params.multi_items()) == len(query), f"{name}: a repeated query key"
        assert all(value != "" for value in query.values()), f"{name}: an empty query value"
        required = set(wire["query"]["required"])
        optional = set(wire["query"]["optional"])
        if wire["signed"]:
            required |= {"app_key", "timestamp", "sign"}
            assert query["app_key"] == APP_KEY and query["timestamp"] == str(NOW)
        if wire["shop_cipher"]:
            required.add("shop_cipher")
            assert query["shop_cipher"] == CIPHER
        assert required <= set(query), f"{name}: missing query {sorted(required - set(query))}"
        assert set(query) <= required | optional, (
            f"{name}: undocumented query {sorted(set(query) - required - optional)}"
        )
        for key, value in wire["query"]["fixed"].items():
            assert query[key] == value, f"{name}: {key}={query[key]!r}"
        headers = {key.lower() for key in request.headers}
        multipart = wire.get("multipart")
        if wire["signed"]:
            assert request.headers["x-tts-access-token"] == ACCESS
            signed_body = b"" if multipart else request.content  # an upload's body is not signed
            if not multipart:
                assert request.headers["content-type"] == wire["headers"]["content-type"]
            assert hmac.compare_digest(query["sign"], expected_sign(request.url.path, query, signed_body))
        else:
            assert "x-tts-access-token" not in headers
        if multipart:
            assert request.headers["content-type"].startswith("multipart/form-data")
            content = request.read()
            for field in multipart["files"]:
                assert f'name="{field}"; filename='.encode() in content, f"{name}: no file field {field}"
            for field, value in multipart["fields"].items():
                assert f'name="{field}"\r\n\r\n{value}\r\n'.encode() in content, f"{name}: {field} != {value}"
            return
        body = wire["body"]
        if body is None:
            assert request.content == b"", f"{name}: a body where none is documented"
        else:
            check_shape(json.loads(request.content), body, body.get("items", {}), "")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        name = self.match(request)
        self.check(name, request)
        self.calls.append((name, request))
        answer = self.overrides[name](request) if name in self.overrides else self.fixtures[name]["response"]
        return httpx.Response(200, json=answer)


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


def connector(platform: FakePlatform, **kwargs: Any) -> TikTokShopConnector:
    client = httpx.Client(transport=httpx.MockTransport(platform))
    credentials = ShopCredentials(shop_id=SHOP_ID, access_token=ACCESS, shop_cipher=CIPHER)
    return TikTokShopConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host=API,
        credentials=credentials,
        client=client,
        policy=ONE_TRY,
        clock=lambda: float(NOW),
        **kwargs,
    )


def app(platform: FakePlatform) -> TikTokShopApp:
    client = httpx.Client(transport=httpx.MockTransport(platform))
    return TikTokShopApp(
        APP_KEY,
        APP_SECRET,
        service_id="svc",
        api_host=API,
        auth_host=AUTH,
        client=client,
        policy=ONE_TRY,
        clock=lambda: float(NOW),
    )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- the fixtures themselves ---------------------------------------------------------------------


def test_one_fixture_per_call_and_each_is_complete() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.json")) == sorted(CALLS)
    for name in CALLS:
        fixture = load(name)
        assert fixture["call"] == name and fixture["sources"] and fixture["doc"]
        assert {"host", "method", "path", "signed", "shop_cipher", "query", "headers", "body"} <= set(
            fixture["request"]
        )
        assert fixture["response"]["code"] == 0 and "request_id" in fixture["response"]
        # shop_cipher is left out on /authorization/*, the image upload and the token endpoints, sent elsewhere.
        no_cipher = (
            fixture["request"]["path"].startswith(("/authorization/", "/product/202309/images/upload"))
            or not fixture["request"]["signed"]
        )
        assert fixture["request"]["shop_cipher"] is not no_cipher


def test_the_fake_platform_refuses_an_undocumented_shape(platform: FakePlatform) -> None:
    """The checks can fail: a wrong body key, a missing cipher or a bad sign is caught."""
    with httpx.Client(transport=httpx.MockTransport(platform)) as client:
        query = {"app_key": APP_KEY, "timestamp": str(NOW), "shop_cipher": CIPHER}
        body = b'{"address":"https://x","event_type":"ORDER_STATUS_CHANGE","extra":1}'
        query["sign"] = expected_sign("/event/202309/webhooks", query, body)
        headers = {"x-tts-access-token": ACCESS, "content-type": "application/json"}
        with pytest.raises(AssertionError, match="undocumented"):
            client.put(f"{API}/event/202309/webhooks", params=query, content=body, headers=headers)
        good = b'{"address":"https://x","event_type":"ORDER_STATUS_CHANGE"}'
        with pytest.raises(AssertionError):  # signed over the other body
            client.put(f"{API}/event/202309/webhooks", params=query, content=good, headers=headers)
        del query["shop_cipher"]
        query["sign"] = expected_sign("/event/202309/webhooks", query, good)
        with pytest.raises(KeyError):
            client.put(f"{API}/event/202309/webhooks", params=query, content=good, headers=headers)


# --- authorization -------------------------------------------------------------------------------


def test_token_get(platform: FakePlatform) -> None:
    grant = app(platform).exchange_code("auth-code-1")
    (request,) = platform.requests("token_get")
    assert request.url.params["auth_code"] == "auth-code-1" and request.url.params["app_secret"] == APP_SECRET
    assert grant.access_token == "ROW_access_token_sample" and grant.refresh_token == "ROW_refresh_token_sample"
    assert grant.access_token_expires_at == at(1700604800)  # absolute Unix times
    assert grant.refresh_token_expires_at == at(1731536000)
    assert (grant.shop_name, grant.region) == ("Linen & Co", "GB")


def test_token_refresh(platform: FakePlatform) -> None:
    grant = app(platform).refresh("old-refresh-token")
    (request,) = platform.requests("token_refresh")
    assert request.url.params["refresh_token"] == "old-refresh-token"
    assert (grant.access_token, grant.refresh_token) == ("ROW_new_access_token", "ROW_new_refresh_token")
    assert grant.access_token_expires_at == at(1701209600)


def test_authorized_shops_and_the_shop_profile(platform: FakePlatform) -> None:
    shops = app(platform).authorized_shops(ACCESS)
    assert [(shop.shop_id, shop.shop_cipher, shop.region, shop.seller_type) for shop in shops] == [
        (SHOP_ID, CIPHER, "GB", "CROSS_BORDER"),
        ("7494000000000000043", "ROW_cipher_sample_43", "US", "LOCAL"),
    ]
    with connector(platform) as conn:
        profile = conn.get_shop_profile()
    assert profile == ShopProfile(shop_id=SHOP_ID, name="Linen & Co UK", region="GB", cross_border=True)
    assert platform.names() == ["authorized_shops", "authorized_shops"]


# --- webhooks ------------------------------------------------------------------------------------


def test_webhooks_put_one_call_per_event_type(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        subscriptions = conn.register_webhook("https://hooks.example.com/tiktokshop")
    requests = platform.requests("webhooks_put")
    sent = [body_of(request) for request in requests]
    assert [body["event_type"] for body in sent] == [sub.topic for sub in subscriptions]
    assert sorted(sub.topic for sub in subscriptions) == sorted(
        [
            "ORDER_STATUS_CHANGE",
            "PRODUCT_STATUS_CHANGE",
            "SELLER_DEAUTHORIZATION",
            "UPCOMING_AUTHORIZATION_EXPIRATION",
            "CANCELLATION_STATUS_CHANGE",
            "PRODUCT_INFORMATION_CHANGE",
            "PRODUCT_CREATION",
            "INVENTORY_CHANGED",
        ]
    )
    assert all(sub.ok for sub in subscriptions)
    assert {body["address"] for body in sent} == {"https://hooks.example.com/tiktokshop"}


# --- products ------------------------------------------------------------------------------------


def test_products_search_passes_the_page_token_back_unchanged() -> None:
    first = load("products_search")["response"]
    last = {**first, "data": {"products": [], "next_page_token": "", "total_count": 2}}
    platform = FakePlatform({"products_search": lambda request: last if "page_token" in request.url.params else first})
    with connector(platform) as conn:
        changes = list(conn.list_changed_items(at(1700000000), at(1700000999)))
    assert [(c.item_id, c.raw_status, c.updated_at) for c in changes] == [
        (PRODUCT_ID, "ACTIVATE", at(1700000100)),
        ("1729592969712203233", "PENDING", at(1700000200)),
    ]
    opening, following = platform.requests("products_search")
    assert body_of(opening) == {"status": "ALL", "update_time_ge": 1700000000, "update_time_le": 1700000999}
    assert opening.url.params["page_size"] == "100" and "page_token" not in opening.url.params
    assert following.url.params["page_token"] == "b2Zmc2V0PTIwMA=="


def test_product_detail(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        (listing,) = conn.get_listings([PRODUCT_ID])
    (request,) = platform.requests("product_detail")
    assert request.url.path == f"/product/202309/products/{PRODUCT_ID}"
    assert (listing.status, listing.raw_status) == (ListingStatus.REVIEW_FAILED, "FAILED")
    assert "Title contains prohibited words" in listing.review_message
    assert "Remove the brand name of another seller" in listing.review_message
    assert listing.category_id == "600123" and listing.images == (
        "tos-maliva-i-o3syd03w52-us/abc",
    )  # the uri, not a CDN URL
    assert listing.weight_kg == Decimal("0.90718474")
    assert listing.dimensions == Dimensions(
        length_cm=Decimal("25.40"), width_cm=Decimal("12.70"), height_cm=Decimal("2.54")
    )
    (sku,) = listing.skus
    assert (sku.sku_id, sku.seller_sku, sku.price, sku.currency) == (SKU_ID, "SHIRT-S", Decimal("19.90"), "GBP")
    assert [(row.location_id, row.quantity) for row in sku.stock] == [
        ("7068517275539719942", 4),
        ("7068517275539719943", 2),
    ]
    assert dict(sku.attributes) == {"Size": "S"}


def test_warehouses_are_the_sales_ones_default_first_and_read_once(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        locations = conn.list_locations()
        assert conn.list_locations() == locations
    assert locations == [
        ShopLocation(location_id="7068517275539719942", name="London", is_default=True),
        ShopLocation(location_id="7068517275539719943", name="Manchester", is_default=False),
    ]
    assert platform.names() == ["warehouses"]


def test_inventory_update_whole_quantity_to_the_default_and_zero_elsewhere(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        result = conn.update_stock(PRODUCT_ID, {SKU_ID: 7})
    assert result.failed == () and [r.sku_id for r in result.results] == [SKU_ID]
    assert platform.names() == ["warehouses", "product_detail", "inventory_update"]
    (request,) = platform.requests("inventory_update")
    assert request.url.path == f"/product/202309/products/{PRODUCT_ID}/inventory/update"
    assert body_of(request) == {
        "skus": [
            {
                "id": SKU_ID,
                "inventory": [
                    {"warehouse_id": "7068517275539719942", "quantity": 7},
                    {"warehouse_id": "7068517275539719943", "quantity": 0},
                ],
            }
        ]
    }


def test_prices_update_sends_the_pre_tax_amount(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        result = conn.update_price(PRODUCT_ID, {SKU_ID: Decimal("21.50")})
    assert result.failed == ()
    assert platform.names() == ["product_detail", "prices_update"]  # the currency is read once
    (request,) = platform.requests("prices_update")
    assert body_of(request) == {"skus": [{"id": SKU_ID, "price": {"amount": "21.50", "currency": "GBP"}}]}


def test_partial_edit(platform: FakePlatform) -> None:
    fields = ListingFields(
        title="Linen shirt, washed, a long enough title",
        images=("tos-maliva-i-o3syd03w52-us/abc",),
        weight_kg=Decimal("0.40"),
        dimensions=Dimensions(length_cm=Decimal(30), width_cm=Decimal(20), height_cm=Decimal(3)),
    )
    with connector(platform) as conn:
        conn.update_fields(PRODUCT_ID, fields)
    (request,) = platform.requests("partial_edit")
    assert body_of(request) == {
        "title": "Linen shirt, washed, a long enough title",
        "main_images": [{"uri": "tos-maliva-i-o3syd03w52-us/abc"}],
        "package_weight": {"value": "0.40", "unit": "KILOGRAM"},
        "package_dimensions": {"length": "30", "width": "20", "height": "3", "unit": "CENTIMETER"},
    }


def test_create(platform: FakePlatform) -> None:
    draft = ListingDraft(
        title="Stoneware mug, red glaze, 350 ml",
        description="<p>A mug</p>",
        category_id="600456",
        images=("tos-maliva-i-o3syd03w52-us/mug",),
        weight_kg=Decimal("0.5"),
        currency="GBP",
        skus=(SkuDraft(seller_sku="MUG-RED", price=Decimal("12.00"), stock=5, attributes={"Colour": "Red"}),),
        idempotency_key="create-mug-red-1",
    )
    with connector(platform) as conn:
        created = conn.create_listing(draft)
    assert created.item_id == "1729592969712209999" and dict(created.sku_ids) == {"MUG-RED": "1729592969712300001"}
    assert platform.names() == ["warehouses", "create"]
    (request,) = platform.requests("create")
    sent = body_of(request)
    assert sent["idempotency_key"] == "create-mug-red-1"
    assert sent["skus"] == [
        {
            "seller_sku": "MUG-RED",
            "price": {"amount": "12.00", "currency": "GBP"},
            "inventory": [{"warehouse_id": "7068517275539719942", "quantity": 5}],
            "sales_attributes": [{"name": "Colour", "value_name": "Red"}],
        }
    ]


@pytest.mark.parametrize(("active", "call"), [(True, "activate"), (False, "deactivate")])
def test_activate_and_deactivate(platform: FakePlatform, active: bool, call: str) -> None:
    ids = ["1729592969712200001", "1729592969712200002"]
    with connector(platform) as conn:
        results = conn.set_active(ids, active)
    (request,) = platform.requests(call)
    assert body_of(request) == {"product_ids": ids}
    expected = [(ids[0], True), (ids[1], not active)]  # the activate example refuses the second id
    assert [(r.sku_id, r.ok) for r in results] == expected


def test_delete(platform: FakePlatform) -> None:
    ids = [f"17295929697122000{n:02d}" for n in range(21)]
    with connector(platform) as conn:
        results = conn.delete_listings(ids)
    batches = [body_of(request)["product_ids"] for request in platform.requests("delete")]
    assert batches == [ids[:20], ids[20:]]  # at most 20 per call
    assert all(result.ok for result in results) and len(results) == 21


# --- orders --------------------------------------------------------------------------------------


def test_orders_get_groups_units_by_sku(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        (order,) = conn.get_orders(["576461413038785752"])
    (request,) = platform.requests("orders_get")
    assert request.url.params["ids"] == "576461413038785752"
    assert (order.order_id, order.status, order.raw_status) == (
        "576461413038785752",
        OrderStatus.PAID,
        "AWAITING_SHIPMENT",
    )
    assert order.updated_at == at(1700000300)
    assert [
        (line.sku_id, line.item_id, line.seller_sku, line.quantity, line.cancelled_quantity) for line in order.lines
    ] == [
        (SKU_ID, PRODUCT_ID, "SHIRT-S", 3, 1),
        ("1729592969712207100", "1729592969712203240", "MUG", 1, 0),
    ]


def test_orders_search_by_update_time(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        orders = list(conn.list_changed_orders(at(1700000000), at(1700000999)))
    (request,) = platform.requests("orders_search")
    assert body_of(request) == {"update_time_ge": 1700000000, "update_time_lt": 1700001000}  # [since, until]
    assert request.url.params["page_size"] == "100"
    (order,) = orders
    assert (order.order_id, order.status) == ("576461413038785760", OrderStatus.CANCELLED)
    assert [(line.sku_id, line.quantity, line.cancelled_quantity) for line in order.lines] == [
        ("1729592969712207100", 1, 1)
    ]


def test_every_call_has_been_exercised() -> None:
    """Guard: each fixture is the subject of a test above (by name in this module's source)."""
    source = Path(__file__).read_text(encoding="utf-8")
    unused = [name for name in CALLS if source.count(f'"{name}"') < 2]
    assert unused == []


# --- publishing: images, categories, attributes, brands, create with everything, SKUs added -------


def test_image_upload_is_multipart_data_main_image_without_cipher(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        uploaded = conn.upload_image(b"\xff\xd8\xff\xe0 jpeg", "front.jpg", "image/jpeg")
    assert uploaded.image_id == "tos-maliva-i-o3syd03w52-us/c668cdf70b7f483c94dbe"
    assert uploaded.url.startswith("https://p16-oec-va.ibyteimg.com/")
    (request,) = platform.requests("image_upload")
    assert "shop_cipher" not in request.url.params
    assert b"\xff\xd8\xff\xe0 jpeg" in request.read()


def test_categories_come_parents_first_with_leaf_flags(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        categories = conn.list_categories()
    assert platform.names() == ["categories"]
    assert [(c.category_id, c.parent_id, c.is_leaf, c.name) for c in categories] == [
        ("600900", None, False, "Fashion"),
        ("600020", "600900", True, "T-Shirts"),
    ]


def test_category_attributes_read_is_requried_values_and_customizable(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        attributes = {a.name: a for a in conn.get_category_attributes("600020")}
    (request,) = platform.requests("category_attributes")
    assert request.url.path == "/product/202309/categories/600020/attributes"
    assert "Color" not in attributes, "sales properties are the SKUs' variations, not product attributes"
    storage = attributes["Storage Capacity"]
    assert (storage.mandatory, storage.input_type, storage.custom_allowed) == (True, "single_select", False)
    assert [(v.value_id, v.name) for v in storage.values] == [("501", "64GB"), ("502", "128GB")]
    assert (attributes["Material"].mandatory, attributes["Material"].custom_allowed) == (False, True)
    assert attributes["Skin Type"].input_type == "multi_select"
    assert (attributes["Model Name"].input_type, attributes["Model Name"].mandatory) == ("text", True)


def test_brands_are_paged_for_the_category(platform: FakePlatform) -> None:
    with connector(platform) as conn:
        brands = conn.list_brands("600020")
    (request,) = platform.requests("brands")
    assert request.url.params["category_id"] == "600020"
    assert [(b.brand_id, b.name) for b in brands] == [("7082427311584347905", "Amparo")]
    assert conn.list_logistics_channels() == []


def test_create_sends_uris_brand_attributes_and_the_chosen_warehouse_and_is_in_review(platform: FakePlatform) -> None:
    draft = ListingDraft(
        title="Stoneware mug, red glaze, 350 ml",
        description="<p>A mug</p>",
        category_id="600456",
        images=("tos-maliva-i-o3syd03w52-us/mug",),
        weight_kg=Decimal("0.5"),
        currency="GBP",
        skus=(SkuDraft(seller_sku="MUG-RED", price=Decimal("12.00"), stock=5, attributes={"Colour": "Red"}),),
        idempotency_key="create-mug-red-2",
        brand_id="7082427311584347905",
        attributes=(
            AttributeChoice(attribute_id="100005", value_ids=("502",)),
            AttributeChoice(attribute_id="100011", text="Classic"),
        ),
        location_id="7068517275539719943",
    )
    with connector(platform) as conn:
        created = conn.create_listing(draft)
    assert created.in_review
    assert platform.names() == ["create"], "the draft's warehouse needs no warehouse lookup"
    sent = body_of(platform.requests("create")[0])
    assert sent["main_images"] == [{"uri": "tos-maliva-i-o3syd03w52-us/mug"}]
    assert sent["brand_id"] == "7082427311584347905"
    assert sent["product_attributes"] == [
        {"id": "100005", "values": [{"id": "502"}]},
        {"id": "100011", "values": [{"name": "Classic"}]},
    ]
    assert sent["skus"][0]["inventory"] == [{"warehouse_id": "7068517275539719943", "quantity": 5}]


def test_create_with_an_image_url_is_refused_before_sending(platform: FakePlatform) -> None:
    draft = ListingDraft(
        title="Stoneware mug, red glaze, 350 ml",
        description="<p>A mug</p>",
        category_id="600456",
        images=("https://img.example.com/mug.jpg",),
        weight_kg=Decimal("0.5"),
        currency="GBP",
        skus=(SkuDraft(seller_sku="MUG-RED", price=Decimal("12.00"), stock=5),),
        idempotency_key="create-mug-red-3",
    )
    with connector(platform) as conn, pytest.raises(InvalidRequest) as caught:
        conn.create_listing(draft)
    assert "images" in caught.value.fields
    assert platform.calls == []


def test_add_variants_resends_every_sku_plus_the_new_one_with_a_warehouse(platform: FakePlatform) -> None:
    detail = platform.fixtures["product_detail"]["response"]

    def edited(request: httpx.Request) -> dict[str, Any]:
        skus = body_of(request)["skus"]
        answer = [{"id": s.get("id") or "1729592969712208888", "seller_sku": s["seller_sku"]} for s in skus]
        return {"code": 0, "message": "Success", "request_id": "r", "data": {"product_id": PRODUCT_ID, "skus": answer}}

    platform.overrides["partial_edit"] = edited
    new = SkuDraft(seller_sku="SHIRT-XL", price=Decimal("23.00"), stock=4, attributes={"Size": "XL"})
    with connector(platform) as conn:
        created = conn.add_variants(PRODUCT_ID, [new], location_id="7068517275539719942")
    assert created.in_review and created.sku_ids == {"SHIRT-XL": "1729592969712208888"}
    sent = body_of(platform.requests("partial_edit")[0])["skus"]
    existing = detail["data"]["skus"]
    assert [s.get("id") for s in sent] == [s["id"] for s in existing] + [None]
    assert sent[-1] == {
        "seller_sku": "SHIRT-XL",
        "sales_attributes": [{"name": "Size", "value_name": "XL"}],
        "price": {"amount": "23.00", "currency": existing[0]["price"]["currency"]},
        "inventory": [{"warehouse_id": "7068517275539719942", "quantity": 4}],
    }
    assert all(row["warehouse_id"] for s in sent for row in s["inventory"])
