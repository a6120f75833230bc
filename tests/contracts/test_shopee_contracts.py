# Shopee contract tests: every call the connector makes, against a documented request shape and answer.
"""For each platform call of `connectors/shopee.py` a fixture in `fixtures/shopee/` holds the documented
request shape (method, path, signing, query keys, array encoding, body) and a documented response
example (facts from Shopee's API reference). An `httpx.MockTransport` plays Shopee: it answers with
the fixture's example and records what the connector sent, which must be exactly that shape.
No simulator is involved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import (
    Dimensions,
    EventKind,
    ListingDraft,
    ListingFields,
    ListingStatus,
    OrderStatus,
    ShopCredentials,
    ShopLocation,
    SkuDraft,
    StockLocation,
)
from connectors.retry import RetryPolicy
from connectors.shopee.app import ShopeeApp
from connectors.shopee.connector import ShopeeConnector

FIXTURES = Path(__file__).parent / "fixtures" / "shopee"
HOST = "https://partner.shopeemobile.com"
PARTNER_ID = 2001887
PARTNER_KEY = "contract-partner-key"
ACCESS_TOKEN = "59777174636562737266615546704c6d"
NOW = 1655714431
NO_RETRY = RetryPolicy(max_attempts=1)
Json = dict[str, Any]


def fixture(name: str) -> Json:
    data: Json = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


class FakeShopee:
    """Plays Shopee over httpx.MockTransport: answers per path (a queue; the last answer repeats)."""

    def __init__(self, answers: dict[str, list[Json]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers.get(request.url.path)
        if not queue:
            return httpx.Response(404, json={"error": "error_not_found", "message": "no such path"})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(200, content=json.dumps(answer).encode(), headers={"Content-Type": "application/json"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def sent(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


def answers(*names: str, **extra: list[Json]) -> dict[str, list[Json]]:
    table = {fixture(name)["request"]["path"]: [fixture(name)["response"]] for name in names}
    table.update({path.replace("__", "/"): value for path, value in extra.items()})
    return table


NOT_MULTI_WAREHOUSE = fixture("get_warehouse_detail")["error_example"]


def connector(fake: FakeShopee, shop_id: int = 14701711, **kwargs: Any) -> ShopeeConnector:
    return ShopeeConnector(
        partner_id=PARTNER_ID,
        partner_key=PARTNER_KEY,
        host=HOST,
        credentials=ShopCredentials(shop_id=str(shop_id), access_token=ACCESS_TOKEN),
        client=fake.client(),
        policy=NO_RETRY,
        clock=lambda: NOW,
        **kwargs,
    )


def app(fake: FakeShopee) -> ShopeeApp:
    return ShopeeApp(PARTNER_ID, PARTNER_KEY, HOST, client=fake.client(), policy=NO_RETRY, clock=lambda: NOW)


def expected_pairs(query: Json) -> Counter[tuple[str, str]]:
    pairs: Counter[tuple[str, str]] = Counter()
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs[(key, str(item))] += 1
    return pairs


def assert_shape(request: httpx.Request, spec: Json, *, query: Json | None = None, body: Any = "fixture") -> None:
    """The request is exactly the documented shape: method, path, signed query, other keys, body."""
    assert request.method == spec["method"]
    assert request.url.path == spec["path"]
    assert request.url.host == httpx.URL(HOST).host
    items = request.url.params.multi_items()
    common = ["partner_id", "timestamp", "sign"]
    if spec["sign"] == "shop":
        common += ["access_token", "shop_id"]
    for key in common:
        assert [value for name, value in items if name == key] != [], f"{key} missing from the query"
        assert len([value for name, value in items if name == key]) == 1, f"{key} sent more than once"
    params = request.url.params
    assert params["partner_id"] == str(PARTNER_ID)
    assert params["timestamp"] == str(NOW)
    base = f"{PARTNER_ID}{spec['path']}{NOW}"
    if spec["sign"] == "shop":
        assert params["access_token"] == ACCESS_TOKEN
        base += f"{ACCESS_TOKEN}{params['shop_id']}"
    expected_sign = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(params["sign"], expected_sign)
    others = Counter((name, value) for name, value in items if name not in common)
    assert others == expected_pairs(spec["query"] if query is None else query)
    wanted = spec["body"] if body == "fixture" else body
    if wanted is None:
        assert request.content == b""
    else:
        assert request.headers["content-type"].startswith("application/json")
        assert json.loads(request.content) == wanted


# --- authorization --------------------------------------------------------------------------


def test_auth_partner_link():
    spec = fixture("auth_partner")["request"]
    link = httpx.URL(app(FakeShopee({})).authorization_url(spec["query"]["redirect"]))
    assert_shape(httpx.Request(spec["method"], link), spec)


def test_token_get():
    data = fixture("token_get")
    fake = FakeShopee(answers("token_get"))
    grant = app(fake).exchange_code(data["request"]["body"]["code"], 322300222)
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert (grant.access_token, grant.refresh_token) == (
        data["response"]["access_token"],
        data["response"]["refresh_token"],
    )
    assert grant.access_token_expires_at == datetime.fromtimestamp(NOW, tz=UTC) + timedelta(seconds=14400)
    assert grant.shop_id == "322300222"


def test_token_refresh():
    data = fixture("token_refresh")
    fake = FakeShopee(answers("token_refresh"))
    grant = app(fake).refresh(data["request"]["body"]["refresh_token"], "322300222")
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert (grant.access_token, grant.refresh_token) == (
        data["response"]["access_token"],
        data["response"]["refresh_token"],
    )


# --- pushes ---------------------------------------------------------------------------------


def test_set_app_push_config_one_code_per_call_and_a_refusal_is_reported():
    data = fixture("set_app_push_config")
    ok, refused = data["response"], data["error_example"]
    fake = FakeShopee({data["request"]["path"]: [ok, ok, ok, ok, ok, refused]})
    subscriptions = app(fake).register_webhook(data["request"]["body"]["callback_url"])
    assert [s.topic for s in subscriptions] == ["1", "2", "3", "8", "12", "22"]
    assert [s.ok for s in subscriptions] == [True] * 5 + [False]
    assert "parameter invalid" in subscriptions[-1].message
    for request, code in zip(fake.requests, (1, 2, 3, 8, 12, 22), strict=True):
        body = {**data["request"]["body"], "set_push_config_on": [code]}
        assert_shape(request, data["request"], body=body)


def test_get_lost_push_message_and_confirm():
    lost, confirm = fixture("get_lost_push_message"), fixture("confirm_consumed_lost_push_message")
    fake = FakeShopee(answers("get_lost_push_message", "confirm_consumed_lost_push_message"))
    events = app(fake).fetch_missed_events()
    get_request, confirm_request = fake.requests
    assert_shape(get_request, lost["request"])
    assert_shape(confirm_request, confirm["request"])
    first, second = events
    # The first lost push carries the whole original push: its msg_id is the event id, its time the original.
    assert (first.event_id, first.kind, first.order_id, first.shop_id) == (
        "6b9c1f0e2a7d4c3b",
        EventKind.ORDER_STATUS,
        "220810QSK8S7BX",
        "727720655",
    )
    assert first.occurred_at == datetime.fromtimestamp(1660123100, tz=UTC)
    assert (second.order_id, second.data["status"]) == ("220810QSK8S7BY", "CANCELLED")
    assert len(second.event_id) == 64


# --- products -------------------------------------------------------------------------------


def test_get_item_list():
    data = fixture("get_item_list")
    fake = FakeShopee(answers("get_item_list"))
    since, until = (datetime.fromtimestamp(t, tz=UTC) for t in (1611311600, 1611311631))
    changes = list(connector(fake).list_changed_items(since, until))
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert [(c.item_id, c.raw_status) for c in changes] == [("2500139861", "NORMAL"), ("2500139862", "UNLIST")]
    assert changes[0].updated_at == datetime.fromtimestamp(1611311620, tz=UTC)


def test_get_item_base_info_and_get_model_list():
    base, models = fixture("get_item_base_info"), fixture("get_model_list")
    fake = FakeShopee(answers("get_item_base_info", "get_model_list"))
    mug, shirt = connector(fake).get_listings(["34001", "34002"])
    base_request, model_request = fake.requests
    assert_shape(base_request, base["request"])
    assert_shape(model_request, models["request"])
    assert (mug.title, mug.status, mug.category_id) == ("Plain mug", ListingStatus.ACTIVE, "14646")
    assert mug.description == "White, 350 ml\nDishwasher safe", "extended description text parts"
    assert mug.weight_kg == Decimal("0.35")
    (sku,) = mug.skus
    assert (sku.sku_id, sku.seller_sku, sku.price, sku.currency) == ("0", "MUG-1", Decimal("12.9"), "SGD")
    assert sku.stock == (StockLocation(location_id="SGZ", quantity=7), StockLocation(location_id="SGX", quantity=0))
    assert shirt.description == "Cotton"
    small, medium = shirt.skus
    assert (small.sku_id, small.seller_sku, small.price, small.total_stock) == (
        "2000458802",
        "SHIRT-S",
        Decimal("19.99"),
        3,
    )
    assert (medium.attributes, medium.price) == ({"Size": "M"}, Decimal("21.5"))


def test_update_price():
    data = fixture("update_price")
    fake = FakeShopee(answers("update_price"))
    result = connector(fake, region="SG").update_price("1000", {"3456": Decimal("11.11"), "3457": Decimal("12.50")})
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert [(r.sku_id, r.ok) for r in result.results] == [("3456", True), ("3457", False)]
    assert "under promotion" in (result.results[1].message or "")


def test_get_warehouse_detail():
    data = fixture("get_warehouse_detail")
    fake = FakeShopee(answers("get_warehouse_detail"))
    shop = connector(fake)
    assert shop.list_locations() == [
        ShopLocation(location_id="IDZ", name="Jakarta pickup", is_default=True),
        ShopLocation(location_id="IDX", name="Surabaya pickup", is_default=False),
    ]
    assert shop.list_locations()[0].location_id == "IDZ"
    (request,) = fake.requests  # read once per connector
    assert_shape(request, data["request"])


def test_get_warehouse_detail_outside_the_whitelist_is_one_implicit_location():
    fake = FakeShopee({fixture("get_warehouse_detail")["request"]["path"]: [NOT_MULTI_WAREHOUSE]})
    assert connector(fake).list_locations() == []


def test_update_stock_with_several_locations():
    data = fixture("update_stock")
    fake = FakeShopee(answers("get_warehouse_detail", "update_stock"))
    result = connector(fake).update_stock("1000", {"0": 7})
    warehouse_request, stock_request = fake.requests
    assert warehouse_request.url.path == fixture("get_warehouse_detail")["request"]["path"]
    assert_shape(stock_request, data["request"])
    assert [(r.sku_id, r.ok) for r in result.results] == [("0", True)]


def test_update_stock_in_a_single_location_shop_sends_no_location_id():
    data = fixture("update_stock")
    fake = FakeShopee(answers("update_stock", **{"/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE]}))
    connector(fake).update_stock("1000", {"0": 7})
    body = {"item_id": 1000, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 7}]}]}
    assert_shape(fake.sent(data["request"]["path"])[0], data["request"], body=body)


def test_update_stock_business_refusal_fails_the_item_with_the_platform_words():
    data = fixture("update_stock")
    fake = FakeShopee(
        {
            "/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE],
            data["request"]["path"]: [data["error_example"]],
        }
    )
    refreshed: list[int] = []

    def refresh() -> str:
        refreshed.append(1)
        return "new-token"

    shop = connector(fake, refresh=refresh)
    result = shop.update_stock("1000", {"0": 1})
    ((sku, ok, message),) = [(r.sku_id, r.ok, r.message) for r in result.results]
    assert (sku, ok) == ("0", False)
    assert "Total stock must be more than reserved stock." in (message or "")
    assert refreshed == []


def test_update_item():
    data = fixture("update_item")
    fake = FakeShopee(answers("update_item"))
    body = data["request"]["body"]
    connector(fake).update_fields(
        "28001430",
        ListingFields(
            title=body["item_name"],
            description=body["description"],
            images=tuple(body["image"]["image_id_list"]),
            weight_kg=Decimal("0.45"),
            dimensions=Dimensions(length_cm=Decimal(10), width_cm=Decimal(11), height_cm=Decimal(12)),
        ),
    )
    (request,) = fake.requests
    assert_shape(request, data["request"])


def draft(skus: tuple[SkuDraft, ...], key: str = "create-1", title: str = "Listing mug") -> ListingDraft:
    return ListingDraft(
        title=title,
        description="Made by SyncStore",
        category_id="100017",
        images=("sg-11134201-1",),
        weight_kg=Decimal("0.3"),
        dimensions=Dimensions(length_cm=Decimal(20), width_cm=Decimal(15), height_cm=Decimal(5)),
        currency="SGD",
        skus=skus,
        idempotency_key=key,
    )


EMPTY_SEARCH = {"error": "", "message": "", "request_id": "r0", "response": {"item_id_list": [], "total_count": 0}}


def test_search_item_finds_an_item_created_before():
    search, base = fixture("search_item"), fixture("get_item_base_info")
    found = json.loads(json.dumps(base["response"]))
    found["response"]["item_list"] = [{**found["response"]["item_list"][0], "item_id": 653211, "item_sku": "MUG-9"}]
    fake = FakeShopee(
        answers("search_item", **{"/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE]})
        | {base["request"]["path"]: [found]}
    )
    created = connector(fake, logistic_ids=(80101,)).create_listing(
        draft((SkuDraft(seller_sku="MUG-9", price=Decimal("8.50"), stock=12),))
    )
    assert (created.item_id, dict(created.sku_ids)) == ("653211", {"MUG-9": "0"})
    assert_shape(fake.sent(search["request"]["path"])[0], search["request"])
    assert_shape(fake.sent(base["request"]["path"])[0], base["request"], query={"item_id_list": "653211"})
    assert fake.sent("/api/v2/product/add_item") == []


def test_add_item():
    data = fixture("add_item")
    fake = FakeShopee(
        answers("add_item", **{"/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE]})
        | {"/api/v2/product/search_item": [EMPTY_SEARCH]}
    )
    created = connector(fake, logistic_ids=(80101,), region="SG").create_listing(
        draft((SkuDraft(seller_sku="MUG-9", price=Decimal("8.50"), stock=12),))
    )
    assert (created.item_id, dict(created.sku_ids)) == ("800123", {"MUG-9": "0"})
    (request,) = fake.sent(data["request"]["path"])
    assert_shape(request, data["request"])


def test_init_tier_variation():
    data = fixture("init_tier_variation")
    added = json.loads(json.dumps(fixture("add_item")["response"]))
    added["response"]["item_id"] = 800124
    no_models = {"error": "", "message": "", "request_id": "r1", "response": {"tier_variation": [], "model": []}}
    fake = FakeShopee(
        answers("init_tier_variation", **{"/api/v2/shop/get_warehouse_detail": [NOT_MULTI_WAREHOUSE]})
        | {
            "/api/v2/product/search_item": [EMPTY_SEARCH],
            "/api/v2/product/add_item": [added],
            "/api/v2/product/get_model_list": [no_models],
        }
    )
    skus = (
        SkuDraft(seller_sku="SKU-Cream", price=Decimal("38.30"), stock=3, attributes={"Color": "Cream"}),
        SkuDraft(seller_sku="SKU-Blue", price=Decimal("40.00"), stock=1, attributes={"Color": "Blue"}),
    )
    created = connector(fake, logistic_ids=(80101,)).create_listing(draft(skus, key="tee-1"))
    assert dict(created.sku_ids) == {"SKU-Cream": "43464493931", "SKU-Blue": "43464493934"}
    (request,) = fake.sent(data["request"]["path"])
    assert_shape(request, data["request"])


def test_unlist_item():
    data = fixture("unlist_item")
    fake = FakeShopee(answers("unlist_item"))
    results = connector(fake).set_active(["2300069665", "2400143710"], False)
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert [(r.sku_id, r.ok) for r in results] == [("2300069665", False), ("2400143710", True)]


def test_delete_item():
    data = fixture("delete_item")
    fake = FakeShopee(answers("delete_item"))
    (result,) = connector(fake).delete_listings(["34001"])
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert result.ok


# --- orders and the shop --------------------------------------------------------------------


def test_get_order_detail():
    data = fixture("get_order_detail")
    fake = FakeShopee(answers("get_order_detail"))
    ready, cancelled = connector(fake).get_orders(["2404098R48U37H", "201214JASXYXY6"])
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert (ready.order_id, ready.status, ready.raw_status) == ("2404098R48U37H", OrderStatus.PAID, "READY_TO_SHIP")
    partly, whole = ready.lines
    assert (partly.item_id, partly.sku_id, partly.seller_sku) == ("23620853561", "221404189791", "QAZ-SADOER-05")
    assert (partly.quantity, partly.cancelled_quantity) == (3, 1)
    assert (whole.sku_id, whole.quantity, whole.cancelled_quantity) == ("0", 1, 0)
    assert ready.updated_at == datetime.fromtimestamp(1713139948, tz=UTC)
    assert cancelled.status is OrderStatus.CANCELLED


def test_get_order_detail_not_found_leaves_the_unknown_order_out():
    data = fixture("get_order_detail")
    known = json.loads(json.dumps(data["response"]))
    known["response"]["order_list"] = known["response"]["order_list"][:1]

    def answer(request: httpx.Request) -> Json:
        wanted = request.url.params["order_sn_list"].split(",")
        answer: Json = data["error_example"] if "NO-SUCH-ORDER" in wanted else known
        return answer

    class Splitting(FakeShopee):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(200, content=json.dumps(answer(request)).encode())

    fake = Splitting({})
    orders = connector(fake).get_orders(["2404098R48U37H", "NO-SUCH-ORDER"])
    assert [order.order_id for order in orders] == ["2404098R48U37H"]
    sent = [request.url.params["order_sn_list"] for request in fake.requests]
    assert sent == ["2404098R48U37H,NO-SUCH-ORDER", "2404098R48U37H", "NO-SUCH-ORDER"]
    for request in fake.requests:
        assert_shape(
            request,
            data["request"],
            query={**data["request"]["query"], "order_sn_list": request.url.params["order_sn_list"]},
        )


def test_get_order_list_pages_with_the_cursor_then_reads_details():
    data = fixture("get_order_list")
    detail = fixture("get_order_detail")
    fake = FakeShopee(
        answers("get_order_detail") | {data["request"]["path"]: [data["response"], data["last_page_response"]]}
    )
    since, until = (datetime.fromtimestamp(t, tz=UTC) for t in (1607235072, 1608271872))
    orders: Iterator[Any] = connector(fake).list_changed_orders(since, until)
    assert [order.order_id for order in orders] == ["2404098R48U37H", "201214JASXYXY6"]
    first, second = fake.sent(data["request"]["path"])
    assert_shape(first, data["request"])
    assert_shape(second, data["request"], query=data["next_page_query"])
    (detail_request,) = fake.sent(detail["request"]["path"])
    query = {**detail["request"]["query"], "order_sn_list": "201218V2Y6E59M,201218V2W2SG1E,201214JAJXU6G7"}
    assert_shape(detail_request, detail["request"], query=query)


def test_get_shop_info():
    data = fixture("get_shop_info")
    fake = FakeShopee(answers("get_shop_info"))
    profile = connector(fake).get_shop_profile()
    (request,) = fake.requests
    assert_shape(request, data["request"])
    assert (profile.shop_id, profile.name, profile.region, profile.cross_border) == (
        "14701711",
        "mysipuat",
        "MY",
        False,
    )
    # The OAuth flow asks the same through the app, with the fresh grant's token.
    fake = FakeShopee(answers("get_shop_info"))
    assert app(fake).get_shop_profile(ACCESS_TOKEN, 14701711) == profile
    assert_shape(fake.requests[0], data["request"])


@pytest.mark.parametrize("flag", ["is_cb", "is_upgraded_cbsc"])
def test_get_shop_info_cross_border(flag: str):
    answer = {**fixture("get_shop_info")["response"], flag: True}
    fake = FakeShopee({fixture("get_shop_info")["request"]["path"]: [answer]})
    assert connector(fake).get_shop_profile().cross_border
