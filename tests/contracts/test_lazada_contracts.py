# Lazada contract tests: every call checked against the documented request shape and answered with documented examples.
"""Contract tests for `connectors/lazada/` without the simulator.

Each file in `fixtures/lazada/` is one LazOP call as reference/lazada.md documents it (methods, business
parameters) with a response example. An `httpx.MockTransport` plays Lazada: it checks the host (country host
or auth host), the method, the system parameters (app_key, millisecond timestamp, sign_method sha256,
access_token only on seller APIs), that no parameter is empty, and the UPPERCASE HMAC-SHA256 signature,
computed here independently of the connector; then it answers with the fixture.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse

import httpx
from pydantic import SecretStr

from connectors.base import (
    AttributeChoice,
    Dimensions,
    ListingDraft,
    ListingStatus,
    OrderStatus,
    ShopCredentials,
    SkuDraft,
)
from connectors.lazada.connector import LazadaConnector
from connectors.lazada.oauth import LazadaOAuth
from connectors.lazada.transport import api_host_for
from connectors.retry import RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures" / "lazada"
APP_KEY, APP_SECRET, ACCESS = "123456", "contract-secret-lazada", "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156f"
NOW = 1_700_000_000.0
SELLER = "1000101"
API = "https://api.lazada.sg/rest"
AUTH = "https://auth.lazada.com/rest"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def independent_sign(path: str, params: dict[str, str]) -> str:
    text = path + "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hmac.new(APP_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


class FakeLazada:
    """Routes by API path to fixtures; records every checked request."""

    def __init__(
        self, routes: dict[str, str | Callable[[dict[str, str]], dict[str, Any]]], now: float | None = NOW
    ) -> None:
        self.routes, self.now = routes, now
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.files: dict[str, bytes] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = urlparse(str(request.url))
        base = f"{url.scheme}://{url.netloc}/rest"
        assert url.path.startswith("/rest/")
        path = url.path.removeprefix("/rest")
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        files: dict[str, bytes] = {}
        if request.method == "POST" and request.headers["content-type"].startswith("multipart/form-data"):
            fields, files = multipart_fields(request.headers["content-type"], request.read())
            params.update(fields)
        elif request.method == "POST":
            assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
            params.update(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        self.files = files
        route = self.routes[path]
        spec = fixture(route) if isinstance(route, str) else None
        auth = path.startswith("/auth/token/")
        assert base == (AUTH if auth else API)
        assert all(value != "" for value in params.values()), "empty parameters are never sent"
        assert params["app_key"] == APP_KEY and params["sign_method"] == "sha256"
        if self.now is None:  # the app's own clock: epoch milliseconds of now
            assert params["timestamp"].isdigit() and abs(int(params["timestamp"]) / 1000 - time.time()) < 60
        else:
            assert params["timestamp"] == str(int(self.now * 1000))
        assert ("access_token" in params) is not auth
        if not auth:
            assert params["access_token"] == ACCESS
        assert params["sign"] == independent_sign(path, params)
        business = set(params) - {"app_key", "timestamp", "sign_method", "sign", "access_token"}
        if spec is not None:
            assert request.method in spec["method"]
            assert business == set(spec["params"]), f"{path}: {business} != {spec['params']}"
        self.seen.append((request.method, path, params))
        body = spec["response"] if spec is not None else route(params)  # type: ignore[operator]
        return httpx.Response(200, json=body)


def multipart_fields(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """(text fields, file parts) of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        if part.get_filename():
            files[name] = content
        else:
            fields[name] = content.decode()
    return fields, files


def make(routes: dict[str, Any]) -> tuple[LazadaConnector, FakeLazada]:
    fake = FakeLazada(routes)
    connector = LazadaConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host=api_host_for("", "sg"),
        credentials=ShopCredentials(shop_id=SELLER, access_token=ACCESS),
        region="SG",
        client=httpx.Client(transport=httpx.MockTransport(fake)),
        policy=RetryPolicy(max_attempts=1),
        clock=lambda: NOW,
    )
    return connector, fake


def payload_of(params: dict[str, str]) -> ET.Element:
    root = ET.fromstring(params["payload"])  # noqa: S314 - our own connector's XML
    assert root.tag == "Request"
    return root


def _settings() -> SimpleNamespace:
    return SimpleNamespace(
        lazada_app_key=APP_KEY,
        lazada_app_secret=SecretStr(APP_SECRET),
        lazada_auth_host="https://auth.lazada.com/rest",
        lazada_authorize_host="https://auth.lazada.com",
    )


def test_authorization_link_and_code_exchange_and_rotation() -> None:
    fake = FakeLazada({"/auth/token/create": "token_create", "/auth/token/refresh": "token_refresh"}, now=None)
    oauth = LazadaOAuth(_settings(), httpx.Client(transport=httpx.MockTransport(fake)))
    link = urlparse(oauth.authorization_url("https://syncstore.example/oauth/lazada/callback", "st-1"))
    assert (link.netloc, link.path) == ("auth.lazada.com", "/oauth/authorize")
    query = {key: values[0] for key, values in parse_qs(link.query).items()}
    assert query == {
        "response_type": "code",
        "force_auth": "true",
        "redirect_uri": "https://syncstore.example/oauth/lazada/callback",
        "client_id": APP_KEY,
        "state": "st-1",
    }
    grant, shops = oauth.exchange_code("0_100132_2DL4DV3jcU1UOT7WGI1A4rY91", {"state": "st-1"})
    assert [(shop.shop_id, shop.region) for shop in shops] == [("1000101", "SG")]
    assert grant.access_token.startswith("50000601") and grant.refresh_token.startswith("500016")
    lifetime = grant.access_token_expires_at - datetime.now(UTC)
    assert 0 < lifetime.total_seconds() <= 10  # "10" as a string
    refreshed = oauth.refresh(grant.refresh_token, "1000101")
    assert refreshed.access_token.endswith("-new") and refreshed.refresh_token.endswith("-new")
    assert refreshed.shop_id == "1000101" and refreshed.region == "SG"  # from country_user_info_list


def test_products_by_update_window_and_detail() -> None:
    product = fixture("products_get")["response"]["data"]["products"][0]
    detail = {"code": "0", "request_id": "r", "data": product}
    connector, fake = make({"/products/get": "products_get", "/product/item/get": lambda params: detail})
    since, until = datetime(2021, 1, 25, tzinfo=UTC), datetime(2021, 1, 26, tzinfo=UTC)
    (change,) = list(connector.list_changed_items(since, until))
    assert change.item_id == "234234234" and change.updated_at == datetime.fromtimestamp(1611554834, UTC)
    params = fake.seen[0][2]
    assert (params["filter"], params["limit"], params["offset"]) == ("all", "50", "0")
    assert params["update_after"] == "2021-01-25T00:00:00+00:00"
    (listing,) = connector.get_listings(["234234234"])
    assert fake.seen[1][2]["item_id"] == "234234234"
    assert listing.status is ListingStatus.ACTIVE and listing.category_id == "10002019"
    (sku,) = listing.skus
    assert (sku.sku_id, sku.seller_sku, sku.price, sku.total_stock) == (
        "234",
        "Apple-SG-Glod-64G",
        Decimal("399.0"),
        20,
    )
    assert sku.attributes == {"color_family": "Gold"}  # the special price (349) is not the price
    assert listing.weight_kg == Decimal("0.5")


def test_stock_goes_to_sellable_update_as_xml() -> None:
    connector, fake = make(
        {"/product/stock/sellable/update": "sellable_update", "/seller/warehouse/get": _one_warehouse}
    )
    result = connector.update_stock("234234234", {"234": 17})
    assert result.failed == ()
    method, path, params = fake.seen[-1]
    assert (method, path) == ("POST", "/product/stock/sellable/update")
    sku = payload_of(params).find("./Product/Skus/Sku")
    assert sku is not None
    assert {child.tag: child.text for child in sku} == {"ItemId": "234234234", "SkuId": "234", "SellableQuantity": "17"}


def _one_warehouse(params: dict[str, str]) -> dict[str, Any]:
    assert json.loads(params["addressTypes"]) == ["warehouse"]
    return {"code": "0", "request_id": "r", "data": {"module": [{"code": "dropshipping", "isDefault": True}]}}


def test_a_campaign_lock_fails_the_sku_with_lazadas_words() -> None:
    connector, _fake = make(
        {"/product/stock/sellable/update": "campaign_lock", "/seller/warehouse/get": _one_warehouse}
    )
    (row,) = connector.update_stock("234234234", {"234": 1}).results
    assert not row.ok and row.error_code == "4170" and row.message == "Campaign stock can not be reduced"


def test_price_sends_price_only() -> None:
    connector, fake = make({"/product/price_quantity/update": lambda params: {"code": "0", "request_id": "r"}})
    assert connector.update_price("234234234", {"234": Decimal("388.50")}).failed == ()
    sku = payload_of(fake.seen[-1][2]).find("./Product/Skus/Sku")
    assert sku is not None
    assert {child.tag: child.text for child in sku} == {"ItemId": "234234234", "SkuId": "234", "Price": "388.50"}


def test_orders_by_update_time_one_row_per_unit() -> None:
    connector, fake = make({"/orders/get": "orders_get", "/orders/items/get": "orders_items_get"})
    since, until = datetime(2018, 2, 9, tzinfo=UTC), datetime(2018, 2, 11, tzinfo=UTC)
    (order,) = list(connector.list_changed_orders(since, until))
    orders_params = fake.seen[0][2]
    assert (orders_params["sort_by"], orders_params["sort_direction"], orders_params["limit"]) == (
        "updated_at",
        "ASC",
        "100",
    )
    assert fake.seen[1][2]["order_ids"] == "[16090]"
    assert order.order_id == "16090" and order.status is OrderStatus.PAID
    (line,) = order.lines
    assert (line.item_id, line.sku_id, line.quantity, line.cancelled_quantity) == ("234234234", "234", 3, 1)
    assert order.updated_at == datetime(2018, 2, 10, 1, 13, 21, tzinfo=UTC)


def _children(element: ET.Element | None) -> dict[str, str | None]:
    assert element is not None
    return {child.tag: child.text for child in element}


def test_create_sends_the_documented_payload_and_reads_pending_qc() -> None:
    connector, fake = make({"/product/create": "product_create", "/image/upload": "image_upload"})
    image = connector.upload_image(b"\x89PNG...", "front.png", "image/png")
    assert image.image_id == "https://sg-live-02.slatic.net/p/abc123.jpg"
    assert fake.files == {"image": b"\x89PNG..."}  # the file part is sent, and not signed
    draft = ListingDraft(
        title="Red tee",
        description="<p>Cotton & more</p>",
        category_id="10002019",
        images=(image.image_id,),
        weight_kg=Decimal("0.25"),
        dimensions=Dimensions(length_cm=Decimal("30"), width_cm=Decimal("20"), height_cm=Decimal("2")),
        currency="SGD",
        skus=(SkuDraft(seller_sku="TEE-RED-M", price=Decimal("19.90"), stock=7, attributes={"color_family": "Red"}),),
        idempotency_key="draft-1",
        attributes=(AttributeChoice(attribute_id="color_family", value_ids=("Red",)),),
    )
    created = connector.create_listing(draft)
    assert (created.item_id, dict(created.sku_ids), created.in_review) == ("3023000213", {"TEE-RED-M": "5001"}, True)
    product = payload_of(fake.seen[-1][2]).find("./Product")
    assert product is not None
    assert product.findtext("PrimaryCategory") == "10002019"
    assert [image.text for image in product.findall("./Images/Image")] == [image.image_id]
    attributes = _children(product.find("Attributes"))
    assert attributes == {
        "name": "Red tee",
        "description": "<p>Cotton & more</p>",
        "brand": "No Brand",
        "color_family": "Red",
    }
    sku = product.find("./Skus/Sku")
    assert sku is not None
    assert {key: value for key, value in _children(sku).items() if key != "saleProp"} == {
        "SellerSku": "TEE-RED-M", "quantity": "7", "price": "19.90", "package_weight": "0.25",
        "package_length": "30.00", "package_width": "20.00", "package_height": "2.00",
    }  # fmt: skip
    assert _children(sku.find("saleProp")) == {"color_family": "Red"}


def test_categories_and_attributes() -> None:
    connector, fake = make({"/category/tree/get": "category_tree", "/category/attributes/get": "category_attributes"})
    categories = connector.list_categories()
    assert [(c.category_id, c.parent_id, c.is_leaf) for c in categories] == [
        ("3", None, False),
        ("10002019", "3", True),
    ]
    attributes = connector.get_category_attributes("10002019")
    assert fake.seen[-1][2]["primary_category_id"] == "10002019"
    name, color = attributes
    assert (name.attribute_id, name.mandatory, name.input_type) == ("name", True, "text")
    assert (color.attribute_id, color.input_type, [v.value_id for v in color.values]) == (
        "color_family", "multi_select", ["Red", "Blue"],
    )  # fmt: skip


def test_deactivate_and_remove_use_item_and_sku_ids() -> None:
    product = fixture("products_get")["response"]["data"]["products"][0]
    detail = {"code": "0", "request_id": "r", "data": product}
    connector, fake = make(
        {"/product/deactivate": "deactivate", "/product/remove": "remove", "/product/item/get": lambda p: detail}
    )
    assert [row.ok for row in connector.set_active(["234234234"], False)] == [True]
    body = ET.fromstring(fake.seen[-1][2]["apiRequestBody"])  # noqa: S314 - our own connector's XML
    assert body.findtext("./Product/ItemId") == "234234234" and body.find("./Product/SellerSku") is None
    assert [row.ok for row in connector.delete_listings(["234234234"])] == [True]
    assert json.loads(fake.seen[-1][2]["sku_id_list"]) == ["SkuId_234234234_234"]
