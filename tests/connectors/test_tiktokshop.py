# TikTok Shop connector: known-answer signing, webhooks, and every operation over real HTTP against the simulator.
"""The TikTok Shop connector: against the local simulator on loopback, and (the issue-13 regressions)
against a scripted platform through `httpx.MockTransport`, which does not depend on the simulator."""

from __future__ import annotations

import math
import re
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    Connector,
    ConnectorError,
    Dimensions,
    EventKind,
    InvalidRequest,
    ItemRefused,
    ListingDraft,
    ListingFields,
    ListingStatus,
    NotFound,
    OrderStatus,
    RateLimited,
    ShopCredentials,
    SkuDraft,
    Transient,
)
from connectors.retry import RetryPolicy
from connectors.simulator.common import FaultPlan, ServerThread, free_port
from connectors.tiktokshop import codes as tiktokshop_codes
from connectors.tiktokshop import errors as tiktokshop_errors
from connectors.tiktokshop import mapping as tiktokshop_mapping
from connectors.tiktokshop import rules as tiktokshop_rules
from connectors.tiktokshop import transport as tiktokshop_transport
from connectors.tiktokshop import webhooks as tiktokshop_webhooks
from connectors.tiktokshop.app import TikTokShopApp
from connectors.tiktokshop.connector import TikTokShopConnector
from connectors.tiktokshop.signing import sign
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from connectors.tiktokshop.webhooks import WebhookPayloadError, parse_webhook, sign_webhook, verify_webhook

APP_KEY = "test-app-key"
APP_SECRET = "test-app-secret-9f8e7d6c5b4a"
SERVICE_ID = "svc-7001"
SHOP_ID = "7494000000000000042"
REDIRECT = "http://127.0.0.1:9/tiktokshop/callback"
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05, max_retry_after_s=0.5)


# --- fixtures -------------------------------------------------------------------------------------


@dataclass
class Shop:
    cipher: str
    access: str
    refresh: str


@pytest.fixture
def sim() -> Iterator[TikTokShopSimulator]:
    simulator = TikTokShopSimulator(
        app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID, redirect_url=REDIRECT
    )
    simulator.start()
    yield simulator
    simulator.stop()


# A tiny JPEG (its signature is what the simulator checks); tests use images the simulator holds as uploaded.
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
UPLOADED = ("tos-test/a.jpg", "tos-test/b.jpg", "tos-test/new.jpg", "tos-test/mug.jpg")


@pytest.fixture
def shop(sim: TikTokShopSimulator) -> Shop:
    cipher = sim.add_shop(SHOP_ID, "Test Shop", region="GB", currency="GBP")
    for uri in UPLOADED:
        sim.add_image(JPEG, uri=uri)
    access, refresh = sim.issue_tokens(SHOP_ID)
    return Shop(cipher, access, refresh)


def connector(
    sim: TikTokShopSimulator, shop: Shop, *, access: str | None = None, cipher: str | None = "same", **kwargs: Any
) -> TikTokShopConnector:
    credentials = ShopCredentials(
        shop_id=SHOP_ID, access_token=access or shop.access, shop_cipher=shop.cipher if cipher == "same" else cipher
    )
    kwargs.setdefault("policy", FAST)
    kwargs.setdefault("app_secret", APP_SECRET)
    return TikTokShopConnector(app_key=APP_KEY, api_host=sim.url, credentials=credentials, **kwargs)


@pytest.fixture
def conn(sim: TikTokShopSimulator, shop: Shop) -> Iterator[TikTokShopConnector]:
    with connector(sim, shop) as client:
        yield client


def app_for(sim: TikTokShopSimulator, **kwargs: Any) -> TikTokShopApp:
    kwargs.setdefault("policy", FAST)
    return TikTokShopApp(
        APP_KEY,
        APP_SECRET,
        service_id=SERVICE_ID,
        api_host=sim.url,
        auth_host=sim.url,
        authorize_host=sim.url,
        **kwargs,
    )


class Receiver:
    """A webhook endpoint on loopback that keeps what it received."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []

        async def hook(request: Request) -> Response:
            self.received.append((await request.body(), request.headers.get("authorization")))
            return Response(status_code=200)

        self.server = ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])).start()
        self.url = self.server.url + "/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.stop()


# --- signing: known answers ---------------------------------------------------------------------

# Expected values computed once with openssl, e.g.
#   printf '%s' 'tts-test-secret/product/202309/products/searchapp_keyabc123page_size100shop_cipherROW_xyz
#   timestamp1700000000{"status":"ALL","update_time_ge":1,"update_time_le":2}tts-test-secret'
#   | openssl dgst -sha256 -hmac 'tts-test-secret'          (one line, no newline)


def test_sign_known_answer_post_with_body() -> None:
    query = {
        "app_key": "abc123",
        "timestamp": "1700000000",
        "shop_cipher": "ROW_xyz",
        "page_size": "100",
        "page_token": "",  # empty: left out
        "sign": "whatever",  # never signed
        "access_token": "tok",  # never signed
    }
    body = b'{"status":"ALL","update_time_ge":1,"update_time_le":2}'
    expected = "72860a9a644e116d71c15ae4e995027c9a0a0fdb5b3aaa375433d38fd01db716"
    assert sign("tts-test-secret", "/product/202309/products/search", query, body) == expected


def test_sign_known_answer_get_without_body() -> None:
    query = {"timestamp": "1700000000", "app_key": "abc123"}
    expected = "c4147957f21ac451240baa0e5f4651d5c4ece77772f2acc3de4cd6b2285009d9"
    assert sign("tts-test-secret", "/authorization/202309/shops", query, None) == expected


def test_sign_covers_every_body_byte_and_param() -> None:
    query = {"app_key": "abc123", "timestamp": "1700000000"}
    base = sign("s", "/p", query, b'{"a":1}')
    assert sign("s", "/p", query, b'{"a": 1}') != base
    assert sign("s", "/p", {**query, "timestamp": "1700000001"}, b'{"a":1}') != base
    assert sign("s", "/q", query, b'{"a":1}') != base
    assert sign("t", "/p", query, b'{"a":1}') != base


# --- webhooks: W1, W3, W4 -----------------------------------------------------------------------

WEBHOOK_BODY = (
    b'{"type":1,"tts_notification_id":"7327112393057371910","shop_id":"7494000000000000001",'
    b'"timestamp":1700000000,"data":{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT",'
    b'"update_time":1700000000}}'
)
# printf '%s' 'my-app-key<body>' | openssl dgst -sha256 -hmac 'my-app-secret'
WEBHOOK_SIGNATURE = "e23d4fff1285d703236f779100d09f6f0299e1315428eb8d46e2a34db64553e3"


def test_webhook_known_answer_verifies() -> None:
    assert sign_webhook("my-app-key", "my-app-secret", WEBHOOK_BODY) == WEBHOOK_SIGNATURE
    assert verify_webhook("my-app-key", "my-app-secret", WEBHOOK_BODY, WEBHOOK_SIGNATURE)


def test_webhook_flipped_byte_of_body_key_or_secret_fails() -> None:
    for index in (0, len(WEBHOOK_BODY) // 2, len(WEBHOOK_BODY) - 1):
        flipped = bytearray(WEBHOOK_BODY)
        flipped[index] ^= 0x01
        assert not verify_webhook("my-app-key", "my-app-secret", bytes(flipped), WEBHOOK_SIGNATURE)
    assert not verify_webhook("my-app-kez", "my-app-secret", WEBHOOK_BODY, WEBHOOK_SIGNATURE)
    assert not verify_webhook("my-app-key", "my-app-secreu", WEBHOOK_BODY, WEBHOOK_SIGNATURE)


def test_webhook_reserialised_json_fails() -> None:
    import json

    reserialised = json.dumps(json.loads(WEBHOOK_BODY), indent=1).encode()
    assert json.loads(reserialised) == json.loads(WEBHOOK_BODY)
    assert not verify_webhook("my-app-key", "my-app-secret", reserialised, WEBHOOK_SIGNATURE)


@pytest.mark.parametrize(
    "header", [None, "", "   ", "garbage", WEBHOOK_SIGNATURE[:-1], "é" * 64, WEBHOOK_SIGNATURE + "0"]
)
def test_webhook_missing_or_garbage_signature_fails(header: str | None) -> None:
    assert not verify_webhook("my-app-key", "my-app-secret", WEBHOOK_BODY, header)


def test_no_equality_comparison_on_signatures() -> None:
    """W4: signatures are compared with hmac.compare_digest only, never with == or !=."""
    package = Path(tiktokshop_webhooks.__file__).parent
    source = "\n".join(path.read_text(encoding="utf-8") for path in sorted(package.rglob("*.py")))
    suspicious = re.compile(
        r"(sign|signature|digest|authorization|expected|presented)\w*\s*[!=]=|[!=]=\s*\w*(sign|digest)"
    )
    offending = [line for line in source.splitlines() if suspicious.search(line) and not line.lstrip().startswith("#")]
    assert offending == []
    assert "hmac.compare_digest(" in (package / "webhooks.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("event_type", "data", "kind", "order_id", "item_id"),
    [
        (1, {"order_id": "111", "order_status": "AWAITING_SHIPMENT"}, EventKind.ORDER_STATUS, "111", None),
        (11, {"order_id": "112", "cancel_status": "CANCELLED"}, EventKind.ORDER_STATUS, "112", None),
        (5, {"product_id": "221", "status": "ACTIVATE"}, EventKind.PRODUCT_AUDIT, None, "221"),
        (15, {"product_id": "222", "changed_fields": ["title"]}, EventKind.PRODUCT_CHANGE, None, "222"),
        (16, {"product_id": "223"}, EventKind.PRODUCT_CHANGE, None, "223"),
        (68, {"product_id": "224", "sku_id": "9"}, EventKind.STOCK_CHANGE, None, "224"),
        (6, {"shop_id": "1"}, EventKind.AUTHORIZATION, None, None),
        (7, {"expire_time": 1}, EventKind.AUTHORIZATION, None, None),
        (999, {"anything": True}, EventKind.UNKNOWN, None, None),
    ],
)
def test_parse_webhook_kinds(
    event_type: int, data: dict[str, Any], kind: EventKind, order_id: Any, item_id: Any
) -> None:
    import json

    body = json.dumps(
        {"type": event_type, "tts_notification_id": "n-1", "shop_id": SHOP_ID, "timestamp": 1700000000, "data": data}
    ).encode()
    event = parse_webhook(body)
    assert (event.kind, event.order_id, event.item_id, event.raw_type) == (kind, order_id, item_id, str(event_type))
    assert event.event_id == "n-1" and event.shop_id == SHOP_ID and event.platform == "tiktokshop"
    assert event.occurred_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert dict(event.data) == data


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1,2]",
        b'{"tts_notification_id":"n","data":{}}',
        b'{"type":1,"data":{"order_id":"1"}}',
        b'{"type":1,"tts_notification_id":"n","data":{}}',
        b'{"type":"x","tts_notification_id":"n","data":{}}',
        b'{"type":15,"tts_notification_id":"n","data":"str"}',
        b'{"type":1,"tts_notification_id":"n","timestamp":Infinity,"data":{"order_id":"1"}}',
        b'{"type":1e999,"tts_notification_id":"n","data":{"order_id":"1"}}',
        b'{"type":1,"tts_notification_id":"n","timestamp":"soon","data":{"order_id":"1"}}',
    ],
)
def test_parse_webhook_rejects_bad_payloads(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError) as caught:
        parse_webhook(body)
    assert isinstance(caught.value, ValueError)


# --- error mapping (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "message", "expected"),
    [
        (36009002, 429, "Too many requests", RateLimited),
        (None, 429, "", RateLimited),
        (None, 429, "daily quota reached", RateLimited),  # no quota code is documented: throttling
        (36009010, 405, "Invalid method", InvalidRequest),  # an invalid METHOD, never quota
        (36009010, 429, "Invalid method", RateLimited),  # HTTP 429 still means throttled
        (36009003, 500, "Internal error", Transient),
        (36009007, 200, "Timeout", Transient),
        (None, 503, "", Transient),
        (105002, 401, "Access token is expired", AuthExpired),
        (105001, 401, "Access token is invalid", AuthExpired),  # refreshed once, then revoked
        (101000, 400, "Invalid access token", AuthExpired),
        (101000, 400, "Invalid query 'page_size'", InvalidRequest),
        (36009004, 400, "Invalid access_token", AuthExpired),
        (36009004, 400, "Missing x-tts-access-token header", InvalidRequest),
        (36009004, 400, "Invalid 'timestamp'", InvalidRequest),
        (36004004, 400, "Invalid auth code", AuthRevoked),
        (36004005, 400, "No such authorization", AuthRevoked),
        (36004001, 400, "Refresh token expired", AuthRevoked),
        (106001, 400, "Invalid sign", InvalidRequest),
        (106013, 400, "Missing 'shop_cipher'", InvalidRequest),
        (12019150, 404, "Product does not exist", NotFound),
        (12052032, 404, "Product does not exist", NotFound),
        (12052034, 404, "Product is not in this shop", NotFound),
        (12019024, 200, "Invalid stock", ItemRefused),
        (12019028, 200, "Multiple warehouses detected, please include warehouse ids", ItemRefused),
        (12019045, 200, "The price is locked by a promotion", ItemRefused),
        (12052180, 200, "Search cannot page further", tiktokshop_errors.SearchCapReached),
        (98001004, 400, "Invalid parameter 'page_size'", InvalidRequest),
        (11050001, 400, "Invalid parameter 'page_size'", InvalidRequest),
        (12052901, 200, "The product in its current status is not available", ItemRefused),
        (42, 200, "Something new", ConnectorError),
    ],
)
def test_error_codes_map_to_typed_errors(
    code: int | None, status: int, message: str, expected: type[Exception]
) -> None:
    error = tiktokshop_errors.error_for(code, message, http_status=status, request_id="r-1")
    assert type(error) is expected
    assert error.request_id == "r-1"
    if type(error) is InvalidRequest and "'" in message:
        assert error.fields == {message.split("'")[1]: message}


def test_retry_after_header_is_honoured() -> None:
    body = b'{"code":36009002,"message":"Too many requests","request_id":"r"}'
    with pytest.raises(RateLimited) as caught:
        tiktokshop_errors.parse_response(429, {"retry-after": "7"}, body)
    assert caught.value.retry_after == 7.0
    for unusable in ("Wed, 21 Oct 2015 07:28:00 GMT", "nan", "inf"):
        with pytest.raises(RateLimited) as caught:
            tiktokshop_errors.parse_response(429, {"retry-after": unusable}, body)
        assert caught.value.retry_after is None  # our own backoff applies


# --- reads against the simulator ------------------------------------------------------------------


def test_connector_satisfies_the_protocol(conn: TikTokShopConnector) -> None:
    assert isinstance(conn, Connector)
    assert conn.platform == "tiktokshop"
    assert conn.fetch_missed_events() == []


def test_list_changed_items_pages_through_a_window(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    start = 1_700_000_000
    inside = sim.add_many_products(SHOP_ID, 250, (start, start + 999), seed=1)
    sim.add_many_products(SHOP_ID, 30, (start + 1000, start + 2000), seed=2)  # outside the window
    sim.reset_counts()
    since, until = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 999, UTC)
    changes = list(conn.list_changed_items(since, until))
    assert sorted(change.item_id for change in changes) == sorted(inside)
    assert [c.updated_at for c in changes] == sorted(c.updated_at for c in changes)
    assert all(since <= c.updated_at <= until and c.raw_status == "ACTIVATE" for c in changes)
    assert sim.requests(tiktokshop_transport.PATH_SEARCH) == 3  # 100 + 100 + 50


def test_list_changed_items_splits_windows_past_10000_results(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    start = 1_700_000_000
    every = sim.add_many_products(SHOP_ID, 12_000, (start, start + 86_399), seed=3)
    ids = [change.item_id for change in conn.list_changed_items(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 86_399, UTC)
    )]  # fmt: skip
    assert len(ids) == 12_000
    assert set(ids) == set(every)  # every product exactly once


def test_one_second_with_more_than_10000_changes_is_searched_per_status(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    moment = 1_700_000_500
    active = sim.add_many_products(SHOP_ID, 10_000, (moment, moment), seed=4)
    inactive = sim.add_many_products(SHOP_ID, 40, (moment, moment), seed=5)
    for product_id in inactive:
        sim.product(product_id).status = "SELLER_DEACTIVATED"
    at = datetime.fromtimestamp(moment, UTC)
    ids = [change.item_id for change in conn.list_changed_items(at, at)]
    assert len(ids) == 10_040 and set(ids) == set(active) | set(inactive)


def test_get_listings_maps_the_detail(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    product_id = sim.add_product(
        SHOP_ID,
        title="Linen shirt",
        description='<p>Soft <b>linen</b></p><img src="x" width="1" height="1">',
        category_id="600123",
        images=("https://img.example.com/a.jpg", "https://img.example.com/b.jpg"),
        skus=[
            {"seller_sku": "SHIRT-S", "price": "19.90", "stock": 4, "attributes": {"Size": "S"}},
            {"seller_sku": "SHIRT-M", "price": "21.00", "stock": 0, "attributes": {"Size": "M"}},
        ],
        update_time=1_700_000_123,
    )
    sim.product(product_id).package_weight = {"value": "2", "unit": "POUND"}
    sim.product(product_id).package_dimensions = {"length": "10", "width": "5", "height": "1", "unit": "INCH"}
    deleted = sim.add_product(SHOP_ID, status="DELETED")
    frozen = sim.add_product(SHOP_ID, status="FREEZE")
    inactive = sim.add_product(SHOP_ID, status="PLATFORM_DEACTIVATED")

    listings = conn.get_listings([product_id, "1234567", deleted, frozen, inactive])
    assert [listing.item_id for listing in listings] == [product_id, deleted, frozen, inactive]  # unknown left out
    listing = listings[0]
    assert (listing.platform, listing.shop_id, listing.status, listing.raw_status) == (
        "tiktokshop", SHOP_ID, ListingStatus.ACTIVE, "ACTIVATE"
    )  # fmt: skip
    assert listing.title == "Linen shirt"
    assert listing.description == '<p>Soft <b>linen</b></p><img src="x" width="1" height="1">'
    assert listing.images == ("https://img.example.com/a.jpg", "https://img.example.com/b.jpg")
    assert listing.category_id == "600123"
    assert listing.weight_kg == Decimal("0.90718474")
    assert listing.dimensions == Dimensions(
        length_cm=Decimal("25.40"), width_cm=Decimal("12.70"), height_cm=Decimal("2.54")
    )
    assert listing.updated_at == datetime.fromtimestamp(1_700_000_123, UTC)
    small, medium = listing.skus
    assert (small.seller_sku, small.price, small.currency, small.total_stock) == ("SHIRT-S", Decimal("19.90"), "GBP", 4)
    assert dict(small.attributes) == {"Size": "S"} and dict(medium.attributes) == {"Size": "M"}
    assert medium.price == Decimal("21.00") and medium.total_stock == 0
    assert small.stock[0].location_id == sim.state.shops[SHOP_ID].warehouse_id
    assert [item.status for item in listings[1:]] == [
        ListingStatus.DELETED,
        ListingStatus.OTHER,
        ListingStatus.INACTIVE,
    ]
    assert listings[2].raw_status == "FREEZE"


def test_get_orders_in_batches_of_50_with_status_mapping(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "MUG", "price": "5.00", "stock": 500}])
    (sku_id,) = sim.sku_ids(product_id)
    first = sim.place_order(SHOP_ID, product_id, sku_id, 2)
    others = [sim.place_order(SHOP_ID, product_id, sku_id, 1, status="UNPAID") for _ in range(59)]
    sim.set_order_status(others[0], "IN_TRANSIT")
    sim.set_order_status(others[1], "CANCELLED")
    sim.reset_counts()

    orders = {order.order_id: order for order in conn.get_orders([first, *others, "999999"])}
    assert sim.requests(tiktokshop_transport.PATH_ORDERS) == 2
    assert len(orders) == 60
    order = orders[first]
    assert (order.status, order.raw_status, order.platform, order.shop_id) == (
        OrderStatus.PAID, "AWAITING_SHIPMENT", "tiktokshop", SHOP_ID
    )  # fmt: skip
    # TikTok lists one line item per unit: the two units are one line of quantity 2.
    assert [
        (line.item_id, line.sku_id, line.seller_sku, line.quantity, line.cancelled_quantity) for line in order.lines
    ] == [(product_id, sku_id, "MUG", 2, 0)]
    assert orders[others[0]].status is OrderStatus.SHIPPED
    assert orders[others[1]].status is OrderStatus.CANCELLED
    assert orders[others[2]].status is OrderStatus.PENDING


# --- writes against the simulator -----------------------------------------------------------------


def test_update_stock_one_product_per_call(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "A", "stock": 3}, {"seller_sku": "B", "stock": 9}])
    sku_a, sku_b = sim.sku_ids(product_id)
    result = conn.update_stock(product_id, {sku_a: 7, sku_b: 0})
    assert result.item_id == product_id and result.failed == ()
    assert [r.sku_id for r in result.results] == [sku_a, sku_b]
    (listing,) = conn.get_listings([product_id])
    assert [sku.total_stock for sku in listing.skus] == [7, 0]
    assert [(e.sku_id, e.old, e.new) for e in sim.write_log.entries(field_name="stock")] == [
        (sku_a, 3, 7),
        (sku_b, 9, 0),
    ]


def test_stock_out_of_range_is_refused_before_sending(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    product_id = sim.add_product(SHOP_ID)
    (sku_id,) = sim.sku_ids(product_id)
    sim.reset_counts()
    for bad in (99_999, -1):
        with pytest.raises(InvalidRequest) as caught:
            conn.update_stock(product_id, {sku_id: bad})
        assert f"stock[{sku_id}]" in caught.value.fields
    assert sim.requests(tiktokshop_transport.inventory_path(product_id)) == 0
    assert conn.update_stock(product_id, {sku_id: 99_998}).failed == ()


def test_partial_failures_are_reported_per_sku(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "A", "price": "1.00", "stock": 1}])
    (sku_id,) = sim.sku_ids(product_id)
    stock = conn.update_stock(product_id, {sku_id: 5, "424242": 5})
    assert [(r.sku_id, r.ok) for r in stock.results] == [(sku_id, True), ("424242", False)]
    assert stock.failed[0].error_code and stock.failed[0].message  # the platform's own code and words

    prices = conn.update_price(product_id, {sku_id: Decimal("12.34"), "424242": Decimal("1.00")})
    assert [(r.sku_id, r.ok) for r in prices.results] == [(sku_id, True), ("424242", False)]
    assert sim.product(product_id).skus[0].price == "12.34"


def test_update_price_sends_exact_decimal_strings(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    product_id = sim.add_product(
        SHOP_ID, skus=[{"seller_sku": "A", "price": "1.00"}, {"seller_sku": "B", "price": "2.00"}]
    )
    sku_a, sku_b = sim.sku_ids(product_id)
    # 0.1 + 0.2 style values that a float would mangle; the first call also reads the shop currency once.
    result = conn.update_price(product_id, {sku_a: Decimal("19.90"), sku_b: Decimal("100000000.01")})
    assert result.failed == ()
    assert [sku.price for sku in sim.product(product_id).skus] == ["19.90", "100000000.01"]
    (listing,) = conn.get_listings([product_id])
    assert [sku.price for sku in listing.skus] == [Decimal("19.90"), Decimal("100000000.01")]
    first_write = sim.write_log.entries(field_name="price")[0]
    assert (first_write.old, first_write.new) == (Decimal("1.00"), Decimal("19.90"))
    with pytest.raises(InvalidRequest) as caught:
        conn.update_price(product_id, {sku_a: Decimal("NaN")})
    assert f"price[{sku_a}]" in caught.value.fields


def test_update_fields_uses_partial_edit(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    product_id = sim.add_product(SHOP_ID, title="Old", description="<p>keep me</p>", update_time=1_600_000_000)
    conn.update_fields(
        product_id,
        ListingFields(
            title="New title",
            images=("tos-test/new.jpg",),
            weight_kg=Decimal("1.25"),
            dimensions=Dimensions(length_cm=Decimal("30"), width_cm=Decimal("20"), height_cm=Decimal("10")),
        ),
    )
    (listing,) = conn.get_listings([product_id])
    assert listing.title == "New title"
    assert listing.description == "<p>keep me</p>"  # not sent, not replaced
    assert listing.images == ("tos-test/new.jpg",)  # the uri: CDN URLs change, the uri does not
    assert listing.weight_kg == Decimal("1.25")
    assert listing.dimensions == Dimensions(length_cm=Decimal(30), width_cm=Decimal(20), height_cm=Decimal(10))
    assert listing.updated_at > datetime.fromtimestamp(1_600_000_000, UTC)
    sim.reset_counts()
    conn.update_fields(product_id, ListingFields())  # nothing to change: no call
    assert sim.requests(tiktokshop_transport.partial_edit_path(product_id)) == 0


def _draft(key: str) -> ListingDraft:
    return ListingDraft(
        title="Ceramic mug",
        description="<p>350 ml</p>",
        category_id="600026",
        images=("tos-test/mug.jpg",),
        weight_kg=Decimal("0.4"),
        dimensions=Dimensions(length_cm=Decimal("12"), width_cm=Decimal("9"), height_cm=Decimal("10")),
        currency="GBP",
        skus=(
            SkuDraft(seller_sku="MUG-W", price=Decimal("8.50"), stock=12, attributes={"Colour": "White"}),
            SkuDraft(seller_sku="MUG-B", price=Decimal("9.00"), stock=3, attributes={"Colour": "Black"}),
        ),
        idempotency_key=key,
    )


def test_create_listing_is_idempotent(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    first = conn.create_listing(_draft("outbox-event-17"))
    again = conn.create_listing(_draft("outbox-event-17"))
    assert again == first
    assert set(first.sku_ids) == {"MUG-W", "MUG-B"}
    assert len([p for p in sim.state.products.values() if p.shop_id == SHOP_ID]) == 1
    (listing,) = conn.get_listings([first.item_id])
    assert {sku.seller_sku: (sku.sku_id, sku.price, sku.total_stock) for sku in listing.skus} == {
        "MUG-W": (first.sku_ids["MUG-W"], Decimal("8.50"), 12),
        "MUG-B": (first.sku_ids["MUG-B"], Decimal("9.00"), 3),
    }
    assert dict(listing.skus[0].attributes) == {"Colour": "White"}
    other = conn.create_listing(_draft("outbox-event-18"))
    assert other.item_id != first.item_id


def test_set_active_in_batches_of_20(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    ids = [sim.add_product(SHOP_ID) for _ in range(44)] + ["5555555"]
    sim.reset_counts()
    results = conn.set_active(ids, False)
    assert sim.requests(tiktokshop_transport.PATH_DEACTIVATE) == 3
    assert [r.sku_id for r in results] == ids
    assert [r.ok for r in results] == [True] * 44 + [False]
    assert results[-1].error_code == "12052032"
    assert {sim.product(i).status for i in ids[:44]} == {"SELLER_DEACTIVATED"}
    assert all(r.ok for r in conn.set_active(ids[:44], True))
    assert sim.requests(tiktokshop_transport.PATH_ACTIVATE) == 3
    assert {listing.status for listing in conn.get_listings(ids[:3])} == {ListingStatus.ACTIVE}


def test_delete_listings_in_batches_of_20(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    ids = [sim.add_product(SHOP_ID) for _ in range(25)]
    sim.reset_counts()
    assert all(result.ok for result in conn.delete_listings(ids))
    assert sim.requests(tiktokshop_transport.PATH_PRODUCTS) == 2
    assert {listing.status for listing in conn.get_listings(ids)} == {ListingStatus.DELETED}
    with pytest.raises(NotFound):  # a deleted product takes no more writes
        conn.update_stock(ids[0], {sim.sku_ids(ids[0])[0]: 1})


def test_register_webhook_then_an_order_push_verifies_and_parses(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector, receiver: Receiver
) -> None:
    subscriptions = conn.register_webhook(receiver.url)
    assert [(sub.topic, sub.ok) for sub in subscriptions] == [
        (name, True) for name in tiktokshop_codes.WEBHOOK_EVENT_TYPES
    ]
    assert sim.state.webhooks[SHOP_ID] == {name: receiver.url for name in tiktokshop_codes.WEBHOOK_EVENT_TYPES}
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "TEE", "stock": 5}])
    (sku_id,) = sim.sku_ids(product_id)
    order_id = sim.place_order(SHOP_ID, product_id, sku_id, 1)
    sim.set_order_status(order_id, "CANCELLED")

    events = []
    for body, authorization in receiver.received:
        assert verify_webhook(APP_KEY, APP_SECRET, body, authorization)
        events.append(parse_webhook(body))
    # Type 1 for each status; a cancellation may also be reported as type 11 (also subscribed).
    assert {e.raw_type for e in events} <= {"1", "11"}
    events = [e for e in events if e.raw_type == "1"]
    assert [(e.kind, e.order_id, e.shop_id) for e in events] == [(EventKind.ORDER_STATUS, order_id, SHOP_ID)] * 2
    assert events[0].event_id != events[1].event_id
    assert [e.data["order_status"] for e in events] == ["AWAITING_SHIPMENT", "CANCELLED"]
    (order,) = conn.get_orders([order_id])
    assert order.status is OrderStatus.CANCELLED


# --- refusals and their typed errors -------------------------------------------------------------


def test_wrong_app_secret_is_invalid_sign_and_not_retried(sim: TikTokShopSimulator, shop: Shop) -> None:
    with connector(sim, shop, app_secret="not-the-secret") as bad, pytest.raises(InvalidRequest) as caught:
        bad.get_listings([sim.add_product(SHOP_ID)])
    assert caught.value.code == "106001"
    assert sum(sim.request_counts.values()) == 1


@pytest.mark.parametrize(("skew", "accepted"), [(-301, False), (-299, True), (31, False), (29, True)])
def test_timestamp_window(sim: TikTokShopSimulator, shop: Shop, skew: int, accepted: bool) -> None:
    product_id = sim.add_product(SHOP_ID)
    # Whole seconds are sent: round away from now when it must be refused, towards now when it must pass.
    round_up = (skew > 0) != accepted

    def clock() -> float:
        now = time.time()
        return float(math.ceil(now) if round_up else math.floor(now)) + skew

    with connector(sim, shop, clock=clock) as skewed:
        if accepted:
            assert len(skewed.get_listings([product_id])) == 1
            return
        with pytest.raises(InvalidRequest) as caught:
            skewed.get_listings([product_id])
    assert caught.value.code == "36009004" and "timestamp" in str(caught.value)
    assert sim.requests(tiktokshop_transport.product_path(product_id)) == 1


def test_missing_shop_cipher(sim: TikTokShopSimulator, shop: Shop) -> None:
    with connector(sim, shop, cipher=None) as no_cipher, pytest.raises(InvalidRequest) as caught:
        no_cipher.get_listings([sim.add_product(SHOP_ID)])
    assert caught.value.code == "106013"


def test_not_found_is_not_retried(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    with pytest.raises(NotFound) as caught:
        conn.update_stock("7777777", {"1": 1})
    assert caught.value.code == "12052032" and caught.value.request_id
    assert sim.requests(tiktokshop_transport.inventory_path("7777777")) == 1
    other_shop = "7494000000000000099"
    sim.add_shop(other_shop, "Someone else")
    foreign = sim.add_product(other_shop)
    with pytest.raises(NotFound) as caught:
        conn.update_stock(foreign, {sim.sku_ids(foreign)[0]: 1})
    assert caught.value.code == "12052034"


def test_a_refused_price_fails_the_item_and_is_not_retried(sim: TikTokShopSimulator, shop: Shop) -> None:
    product_id = sim.add_product(SHOP_ID)
    (sku_id,) = sim.sku_ids(product_id)
    with connector(sim, shop, currency="EUR") as wrong_currency:
        result = wrong_currency.update_price(product_id, {sku_id: Decimal("3.00")})
    assert [(r.sku_id, r.ok) for r in result.results] == [(sku_id, False)]
    assert result.results[0].error_code and result.results[0].message  # the platform's own code and words
    assert sim.requests(tiktokshop_transport.prices_path(product_id)) == 1


def test_expired_token_refreshes_once_then_succeeds(sim: TikTokShopSimulator, shop: Shop) -> None:
    expired, refresh_token = sim.issue_tokens(SHOP_ID, access_ttl_s=-1)
    product_id = sim.add_product(SHOP_ID)
    with connector(sim, shop, access=expired) as stale, pytest.raises(AuthExpired) as caught:
        stale.get_listings([product_id])
    assert caught.value.code == "105002"

    app = app_for(sim)
    stored: list[str] = []

    def refresh() -> str:
        grant = app.refresh(refresh_token if not stored else stored[-1])
        stored.append(grant.refresh_token)  # SyncStore stores BOTH tokens
        return grant.access_token

    with connector(sim, shop, access=expired, refresh=refresh) as client:
        assert [listing.item_id for listing in client.get_listings([product_id])] == [product_id]
        assert len(stored) == 1
        assert len(client.get_listings([product_id])) == 1  # signs with the new token from now on
    assert len(stored) == 1


def test_revoked_shop_is_auth_revoked(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    """105001 is a token error: refreshed once; the refresh of a revoked shop fails, so the shop is revoked."""
    sim.revoke_shop(SHOP_ID)
    with pytest.raises(AuthExpired) as expired:  # without a refresh callback the caller decides
        conn.get_orders(["1"])
    assert expired.value.code == "105001"
    refresh = lambda: app_for(sim).refresh(shop.refresh).access_token  # noqa: E731 - the shop's refresh callback
    with connector(sim, shop, refresh=refresh) as client, pytest.raises(AuthRevoked):
        client.get_orders(["1"])


def test_throttle_reports_to_the_gate(sim: TikTokShopSimulator, shop: Shop) -> None:
    """R3: a 429/36009002 with Retry-After tells the shop's gate to pause every worker."""

    @dataclass
    class Gate:
        acquired: int = 0
        throttles: list[float | None] = field(default_factory=list)

        def acquire(self) -> None:
            self.acquired += 1

        def throttled(self, retry_after: float | None) -> None:
            self.throttles.append(retry_after)

    gate = Gate()
    sim.rate_limit_per_minute = 2
    with connector(sim, shop, gate=gate) as client, pytest.raises(RateLimited) as caught:
        for _ in range(5):
            client.get_orders(["1"])
    assert caught.value.code == "36009002"
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60
    assert gate.throttles and gate.throttles[-1] == caught.value.retry_after
    assert gate.acquired == sum(sim.request_counts.values())

    sim.rate_limit_per_minute = None
    sim.faults = FaultPlan(error_rate=1.0, server_error_weight=0, timeout_weight=0)
    with connector(sim, shop, gate=gate) as client, pytest.raises(RateLimited) as caught:
        client.get_orders(["1"])
    assert caught.value.retry_after == 1.0  # Retry-After: 1 above max_retry_after_s 0.5: handed to the caller


def test_daily_quota_shows_up_as_throttling(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    """TikTok documents no quota code: a spent quota answers 36009002 / HTTP 429, read as RateLimited."""
    sim.daily_quota = 1
    conn.get_orders(["1"])
    with pytest.raises(RateLimited):
        conn.get_orders(["1"])


def test_server_errors_are_retried_then_reported(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
    with pytest.raises(Transient) as caught:
        conn.get_orders(["1"])
    assert caught.value.code == "36009003"
    assert sim.requests(tiktokshop_transport.PATH_ORDERS) == 3
    sim.faults = FaultPlan()
    assert conn.get_orders(["1"]) == []


def test_timeout_is_transient_and_the_write_landed(sim: TikTokShopSimulator, shop: Shop) -> None:
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "A", "stock": 1}])
    (sku_id,) = sim.sku_ids(product_id)
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=0.6)
    client = connector(sim, shop, timeout_s=0.2, policy=RetryPolicy(max_attempts=1))
    sim.faults = FaultPlan()
    client.list_locations()  # read once per connector, before the faults start
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=0.6)
    with client, pytest.raises(Transient) as caught:
        client.update_stock(product_id, {sku_id: 42})
    assert caught.value.code == "timeout"
    assert sim.product(product_id).skus[0].available == 42


def test_errors_never_contain_tokens_or_the_app_secret(sim: TikTokShopSimulator, shop: Shop) -> None:
    dead_port = free_port()
    errors: list[BaseException] = []

    def collect(call: Any) -> None:
        try:
            call()
        except ConnectorError as error:
            errors.append(error)
        else:
            pytest.fail("expected an error")

    expired, _ = sim.issue_tokens(SHOP_ID, access_ttl_s=-1)
    with connector(sim, shop, access=expired) as client:
        collect(lambda: client.get_orders(["1"]))
    with connector(sim, shop, app_secret=APP_SECRET + "x") as client:
        collect(lambda: client.get_orders(["1"]))
    unreachable = ShopCredentials(shop_id=SHOP_ID, access_token=shop.access, shop_cipher=shop.cipher)
    with TikTokShopConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host=f"http://127.0.0.1:{dead_port}",
        credentials=unreachable,
        policy=RetryPolicy(max_attempts=1),
    ) as client:
        collect(lambda: client.get_orders(["1"]))
    app = app_for(sim)
    collect(lambda: app.exchange_code("bogus-code"))
    collect(lambda: app.authorized_shops("not-a-token"))
    offline = TikTokShopApp(
        APP_KEY, APP_SECRET, service_id=SERVICE_ID, api_host=sim.url,
        auth_host=f"http://127.0.0.1:{dead_port}", authorize_host=sim.url, policy=RetryPolicy(max_attempts=1),
    )  # fmt: skip
    collect(lambda: offline.refresh(shop.refresh))
    sim.revoke_shop(SHOP_ID)
    collect(lambda: app.refresh(shop.refresh))
    with connector(sim, shop) as client:
        collect(lambda: client.get_orders(["1"]))

    secrets = (APP_SECRET, shop.access, shop.refresh, expired)
    assert len(errors) == 8
    for error in errors:
        text = " ".join([str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error))])
        assert not any(secret in text for secret in secrets), text
    assert APP_SECRET not in repr(app) and shop.access not in repr(
        ShopCredentials(shop_id="1", access_token=shop.access)
    )


# --- authorization ------------------------------------------------------------------------------


def test_authorization_flow(sim: TikTokShopSimulator) -> None:
    cipher = sim.add_shop(SHOP_ID, "Flow Shop", region="MY")
    app = app_for(sim)
    url = app.authorization_url("csrf-123")
    assert url == f"{sim.url}/open/authorize?service_id={SERVICE_ID}&state=csrf-123"
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT) and location.params["state"] == "csrf-123"

    before = datetime.now(UTC)
    grant = app.exchange_code(location.params["code"])
    assert (
        timedelta(days=7) - timedelta(seconds=5)
        < grant.access_token_expires_at - before
        <= timedelta(days=7, seconds=5)
    )
    assert grant.refresh_token_expires_at is not None and grant.refresh_token_expires_at > grant.access_token_expires_at
    assert (grant.shop_name, grant.region) == ("Flow Shop", "MY")
    assert [shop[:4] for shop in app.authorized_shops(grant.access_token)] == [(SHOP_ID, cipher, "Flow Shop", "MY")]
    with pytest.raises(AuthRevoked):  # the code is single use: 36004004, an OAuth failure
        app.exchange_code(location.params["code"])

    renewed = app.refresh(grant.refresh_token)
    assert renewed.access_token != grant.access_token and renewed.refresh_token != grant.refresh_token
    with pytest.raises(AuthRevoked):  # the old refresh token no longer works
        app.refresh(grant.refresh_token)
    shops = app.authorized_shops(renewed.access_token)
    assert shops[0].shop_cipher == cipher
    credentials = ShopCredentials(shop_id=SHOP_ID, access_token=renewed.access_token, shop_cipher=shops[0].shop_cipher)
    with TikTokShopConnector(app_key=APP_KEY, app_secret=APP_SECRET, api_host=sim.url, credentials=credentials) as c:
        assert c.get_orders(["1"]) == []


def test_app_register_webhook_one_event_type(sim: TikTokShopSimulator, shop: Shop, receiver: Receiver) -> None:
    app_for(sim).register_webhook(shop.access, shop.cipher, receiver.url, "ORDER_STATUS_CHANGE")
    assert sim.state.webhooks[SHOP_ID] == {"ORDER_STATUS_CHANGE": receiver.url}
    with pytest.raises(InvalidRequest) as caught:
        app_for(sim).register_webhook(shop.access, shop.cipher, receiver.url, "NO_SUCH_EVENT")
    assert "event_type" in caught.value.fields


# --- J3: faults ---------------------------------------------------------------------------------


def test_faults_stock_updates_converge_with_one_effective_write_each(sim: TikTokShopSimulator, shop: Shop) -> None:
    """J3: 20 % of calls fail (429, 5xx, timeouts after the write landed); 500 updates still land exactly once.

    Each update gets 3 attempts (fast backoff, Retry-After 1 s honoured); the few that exhaust them are run
    again in a next round, as the sync engine re-runs failed events. Re-sending a value that already landed
    is not an effective write, so the log shows exactly one effective write per update.
    """
    ids = sim.add_many_products(SHOP_ID, 500, (1_700_000_000, 1_700_000_000))
    targets = {product_id: (sim.sku_ids(product_id)[0], 100 + index) for index, product_id in enumerate(ids)}
    sim.faults = FaultPlan(error_rate=0.2, seed=20240601, timeout_hold_s=0.8)
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.02, max_delay_s=0.1, max_retry_after_s=2.0)
    lock = threading.Lock()
    with connector(sim, shop, timeout_s=0.4, policy=policy) as client:

        def push(product_id: str) -> str | None:
            sku_id, quantity = targets[product_id]
            try:
                result = client.update_stock(product_id, {sku_id: quantity})
            except (Transient, RateLimited):
                return product_id
            with lock:
                assert result.failed == ()
            return None

        pending, rounds = list(ids), 0
        while pending and rounds < 6:
            rounds += 1
            with ThreadPoolExecutor(max_workers=8) as pool:
                pending = [failed for failed in pool.map(push, pending) if failed]
    assert pending == []
    sim.faults = FaultPlan()
    for product_id, (sku_id, quantity) in targets.items():
        assert sim.product(product_id).skus[0].available == quantity
        assert sim.write_log.effective_count(sku_id, "stock") == 1
    assert sum(sim.request_counts.values()) > 500  # faults really happened
    assert len(sim.write_log.entries(field_name="stock")) > 500  # some writes landed twice (timeouts), in effect once


# --- regressions of issue 13, against a scripted platform (httpx.MockTransport, no simulator) ---------

Answer = tuple[int, dict[str, Any]]


def ok(data: dict[str, Any]) -> Answer:
    return 200, {"code": 0, "message": "Success", "request_id": "req-ok", "data": data}


def refusal(code: int, message: str, status: int = 200) -> Answer:
    return status, {"code": code, "message": message, "request_id": "req-refused", "data": None}


@dataclass
class Scripted:
    """A platform answering each request with `answer(method, path, query, body)`; every request is kept."""

    answer: Any
    seen: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content) if request.content else None
        query = dict(request.url.params)
        self.seen.append((request.method, request.url.path, query, body))
        status, envelope = self.answer(request.method, request.url.path, query, body)
        return httpx.Response(status, json=envelope)

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.seen]


def scripted(answer: Any, **kwargs: Any) -> tuple[TikTokShopConnector, Scripted]:
    platform = Scripted(answer)
    credentials = ShopCredentials(shop_id=SHOP_ID, access_token="tok", shop_cipher="ROW_cipher")
    kwargs.setdefault("policy", FAST)
    client = TikTokShopConnector(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_host="https://open-api.example",
        credentials=credentials,
        client=httpx.Client(transport=httpx.MockTransport(platform)),
        **kwargs,
    )
    return client, platform


def warehouses(*ids: str, default: str | None = None) -> Answer:
    rows = [
        {
            "id": wid,
            "name": f"W{wid}",
            "type": "SALES_WAREHOUSE",
            "is_default": wid == default,
            "effect_status": "ENABLED",
        }
        for wid in ids
    ]
    return ok({"warehouses": [*rows, {"id": "999", "type": "RETURN_WAREHOUSE", "is_default": True}]})


def detail(product_id: str, skus: list[dict[str, Any]], status: str = "ACTIVATE", **extra: Any) -> dict[str, Any]:
    return {"id": product_id, "status": status, "title": "t" * 30, "update_time": 1_700_000_000, "skus": skus, **extra}


def test_item_refused_fails_that_products_skus_with_the_platform_words_and_no_refresh() -> None:
    refreshes: list[int] = []

    def answer(method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        if path.endswith("/prices/update"):
            return refusal(12019045, "The price of this SKU is locked by an ongoing promotion")
        if path.endswith("/inventory/update"):
            return refusal(12019028, "Multiple warehouses detected, please include warehouse ids")
        if path == tiktokshop_transport.PATH_WAREHOUSES:
            return warehouses()
        return ok(detail("101", [{"id": "201", "price": {"currency": "GBP", "sale_price": "2"}}]))

    conn, platform = scripted(answer, refresh=lambda: refreshes.append(1) or "new")  # type: ignore[func-returns-value]
    prices = conn.update_price("101", {"201": Decimal("1.50"), "202": Decimal("1.60")})
    assert [(r.sku_id, r.ok, r.error_code) for r in prices.results] == [
        ("201", False, "12019045"),
        ("202", False, "12019045"),
    ]
    assert prices.results[0].message == "The price of this SKU is locked by an ongoing promotion"
    stock = conn.update_stock("101", {"201": 3})
    assert [(r.sku_id, r.ok, r.error_code) for r in stock.results] == [("201", False, "12019028")]
    assert stock.results[0].message == "Multiple warehouses detected, please include warehouse ids"
    assert refreshes == []  # a business refusal never burns a token refresh
    assert platform.paths().count("/product/202309/products/101/prices/update") == 1  # and is not retried


def test_partial_edit_refusal_is_item_refused() -> None:
    conn, _ = scripted(lambda *_: refusal(12019045, "Locked by a promotion"))
    with pytest.raises(ItemRefused) as caught:
        conn.update_fields("101", ListingFields(title="x" * 30))
    assert caught.value.code == "12019045"


def test_invalid_token_is_refreshed_once_and_a_second_refusal_revokes() -> None:
    answers = iter([refusal(105001, "Access token is invalid", 401), ok({"orders": []})])
    refreshes: list[str] = []

    def refresh() -> str:
        refreshes.append("new-token")
        return "new-token"

    conn, platform = scripted(lambda *_: next(answers), refresh=refresh)
    assert conn.get_orders(["1"]) == []
    assert refreshes == ["new-token"] and len(platform.seen) == 2

    conn, platform = scripted(lambda *_: refusal(105001, "Access token is invalid", 401), refresh=refresh)
    with pytest.raises(AuthRevoked) as caught:
        conn.get_orders(["1"])
    assert caught.value.code == "105001" and len(refreshes) == 2 and len(platform.seen) == 2


def test_invalid_method_is_a_programming_error_not_quota() -> None:
    conn, platform = scripted(lambda *_: refusal(36009010, "Invalid method", 405))
    with pytest.raises(InvalidRequest) as caught:
        conn.get_orders(["1"])
    assert caught.value.code == "36009010" and len(platform.seen) == 1


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ({"currency": "GBP", "sale_price": "23.88", "tax_exclusive_price": "19.90"}, Decimal("19.90")),
        ({"currency": "GBP", "sale_price": "23.88"}, Decimal("23.88")),  # no tax-exclusive price: fall back
        ({"currency": "GBP", "sale_price": "23.88", "tax_exclusive_price": ""}, Decimal("23.88")),
    ],
)
def test_the_price_read_is_tax_exclusive(price: dict[str, str], expected: Decimal) -> None:
    assert tiktokshop_mapping.sku_from_wire({"id": "1", "price": price}).price == expected


def test_audit_states_are_in_review_and_review_failed_with_the_reason() -> None:
    pending = tiktokshop_mapping.listing_from_detail(SHOP_ID, detail("1", [], status="PENDING"))
    assert (pending.status, pending.review_message) == (ListingStatus.IN_REVIEW, "")
    reasons = [{"position": "title", "reasons": ["Prohibited word"], "suggestions": ["Remove it"]}]
    failed = tiktokshop_mapping.listing_from_detail(
        SHOP_ID, detail("1", [], status="FAILED", audit_failed_reasons=reasons)
    )
    assert failed.status is ListingStatus.REVIEW_FAILED
    assert failed.review_message == "title: Prohibited word (suggestion: Remove it)"


class SearchPlatform:
    """Product search with opaque page tokens, a 10,000-result cap (12052180) and a capped or wrong total."""

    def __init__(self, times: list[int], *, cap: int = 10_000, total: Any = None) -> None:
        self.products = sorted((t, f"{1_000_000 + i}") for i, t in enumerate(times))
        self.cap, self.total = cap, total
        self.refusals = 0

    def __call__(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        import base64
        import json

        low, high = body["update_time_ge"], body["update_time_le"]
        rows = [(t, pid) for t, pid in self.products if low <= t <= high]
        token = query.get("page_token")
        offset = json.loads(base64.b64decode(token))["o"] if token else 0
        size = int(query["page_size"])
        if offset + size > self.cap:
            self.refusals += 1
            return refusal(12052180, "Search cannot page further")
        page = rows[offset : offset + size]
        more = offset + size < len(rows)
        next_token = base64.b64encode(json.dumps({"o": offset + size, "n": len(rows) % 7}).encode()).decode()
        total = min(len(rows), self.cap) if self.total is None else self.total
        products = [{"id": pid, "status": "ACTIVATE", "update_time": t} for t, pid in page]
        return ok({"products": products, "next_page_token": next_token if more else "", "total_count": total})


@pytest.mark.parametrize(
    ("cap", "total"),
    [(10_000, None), (10_000, 100), (3_000, 100)],  # total capped at 10,000; total wrong; a lower cap
)
def test_search_splits_windows_before_the_cap_whatever_total_count_says(cap: int, total: Any) -> None:
    start = 1_700_000_000
    times = [start + (i * 7) % 86_400 for i in range(12_000)]
    fake = SearchPlatform(times, cap=cap, total=total)
    conn, platform = scripted(fake)
    ids = [
        c.item_id
        for c in conn.list_changed_items(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 86_399, UTC)
        )
    ]
    assert len(ids) == 12_000 and len(set(ids)) == 12_000
    if cap == 10_000:
        assert fake.refusals == 0  # split before reaching the cap
    assert all(set(q) >= {"page_size"} for _, _, q, _ in platform.seen)


def test_list_changed_orders_pages_and_groups_units_by_sku() -> None:
    def line(n: int, sku: str, status: str = "AWAITING_SHIPMENT") -> dict[str, Any]:
        return {"id": f"l{n}", "product_id": "p1", "sku_id": sku, "seller_sku": f"S-{sku}", "display_status": status}

    pages = {
        None: {
            "orders": [
                {"id": "o1", "status": "AWAITING_SHIPMENT", "update_time": 1_700_000_010,
                 "line_items": [line(1, "s1"), line(2, "s1", "CANCELLED"), line(3, "s2"), line(4, "s1")]},
            ],
            "next_page_token": "opaque==",
            "total_count": 2,
        },
        "opaque==": {
            "orders": [{"id": "o2", "status": "CANCELLED", "update_time": 1_700_000_020,
                        "line_items": [line(5, "s2", "CANCELLED")]}],
            "next_page_token": "",
            "total_count": 2,
        },
    }  # fmt: skip
    conn, platform = scripted(lambda m, p, q, b: ok(pages[q.get("page_token")]))
    orders = list(
        conn.list_changed_orders(datetime.fromtimestamp(1_700_000_000, UTC), datetime.fromtimestamp(1_700_000_059, UTC))
    )
    assert [(o.order_id, o.status) for o in orders] == [("o1", OrderStatus.PAID), ("o2", OrderStatus.CANCELLED)]
    assert [(line.sku_id, line.quantity, line.cancelled_quantity) for line in orders[0].lines] == [
        ("s1", 3, 1),
        ("s2", 1, 0),
    ]
    assert [(line.sku_id, line.quantity, line.cancelled_quantity) for line in orders[1].lines] == [("s2", 1, 1)]
    (m1, p1, q1, b1), (_, _, q2, b2) = platform.seen
    assert (m1, p1) == ("POST", "/order/202309/orders/search")
    assert b1 == b2 == {"update_time_ge": 1_700_000_000, "update_time_lt": 1_700_000_060}
    assert q1["page_size"] == "100" and "page_token" not in q1 and q2["page_token"] == "opaque=="
    assert q1["shop_cipher"] == "ROW_cipher"


def test_one_refused_webhook_type_does_not_stop_the_others() -> None:
    def answer(method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        if body["event_type"] == "INVENTORY_CHANGED":
            return refusal(98001004, "Invalid parameter 'event_type'")
        return ok({})

    conn, platform = scripted(answer)
    subscriptions = conn.register_webhook("https://hooks.example/tts")
    assert [body["event_type"] for _, _, _, body in platform.seen] == list(tiktokshop_codes.WEBHOOK_EVENT_TYPES)
    assert len(subscriptions) == 8
    refused = [sub for sub in subscriptions if not sub.ok]
    assert [sub.topic for sub in refused] == ["INVENTORY_CHANGED"] and "event_type" in refused[0].message
    assert {sub.topic for sub in subscriptions if sub.ok} == set(tiktokshop_codes.WEBHOOK_EVENT_TYPES) - {
        "INVENTORY_CHANGED"
    }


def test_stock_goes_to_the_default_sales_warehouse_and_zero_to_the_skus_others() -> None:
    def one_warehouse(method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        return warehouses("w1", default="w1") if path == tiktokshop_transport.PATH_WAREHOUSES else ok({})

    conn, platform = scripted(one_warehouse)
    assert conn.update_stock("101", {"201": 4}).failed == ()
    assert platform.paths() == [
        tiktokshop_transport.PATH_WAREHOUSES,
        tiktokshop_transport.inventory_path("101"),
    ]  # no detail read needed
    assert platform.seen[-1][3] == {"skus": [{"id": "201", "inventory": [{"warehouse_id": "w1", "quantity": 4}]}]}

    skus = [
        {"id": "201", "inventory": [{"warehouse_id": "w1", "quantity": 1}, {"warehouse_id": "w2", "quantity": 5}]},
        {"id": "202", "inventory": [{"warehouse_id": "w2", "quantity": 2}]},  # not stocked at the default
    ]

    def two_warehouses(method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        if path == tiktokshop_transport.PATH_WAREHOUSES:
            return warehouses("w2", "w1", default="w1")
        return ok(detail("101", skus)) if method == "GET" else ok({})

    conn, platform = scripted(two_warehouses)
    assert conn.update_stock("101", {"201": 6, "202": 3}).failed == ()
    assert platform.seen[-1][3] == {
        "skus": [
            {"id": "201", "inventory": [{"warehouse_id": "w1", "quantity": 6}, {"warehouse_id": "w2", "quantity": 0}]},
            {"id": "202", "inventory": [{"warehouse_id": "w2", "quantity": 3}]},
        ]
    }
    assert (
        conn.list_locations()[0].location_id == "w1"
        and platform.paths().count(tiktokshop_transport.PATH_WAREHOUSES) == 1
    )


def test_shop_profile_matches_this_shop_and_reads_cross_border() -> None:
    shops = [
        {"id": "1", "name": "Other", "region": "US", "seller_type": "LOCAL", "cipher": "c1"},
        {"id": SHOP_ID, "name": "Mine", "region": "gb", "seller_type": "CROSS_BORDER", "cipher": "ROW_cipher"},
    ]
    conn, platform = scripted(lambda *_: ok({"shops": shops}))
    profile = conn.get_shop_profile()
    assert (profile.shop_id, profile.name, profile.region, profile.cross_border) == (SHOP_ID, "Mine", "GB", True)
    assert "shop_cipher" not in platform.seen[0][2]  # never on /authorization/*


@pytest.mark.parametrize(
    ("region", "bounds"), [("US", (1, 255)), ("GB", (1, 255)), ("uk", (1, 255)), ("MY", (25, 255)), ("", (25, 255))]
)
def test_title_length_bounds(region: str, bounds: tuple[int, int]) -> None:
    assert tiktokshop_rules.title_length_bounds(region) == bounds


def test_webhooks_of_any_age_parse() -> None:
    body = b'{"type":1,"tts_notification_id":"old-1","shop_id":"1","timestamp":946684800,"data":{"order_id":"9"}}'
    event = parse_webhook(body)
    assert event.occurred_at == datetime(2000, 1, 1, tzinfo=UTC) and event.order_id == "9"


# --- issue 13 against the simulator: a cross-border shop with two warehouses ------------------------

CROSS_SHOP = "7494000000000000077"


@pytest.fixture
def cross_border(sim: TikTokShopSimulator) -> Iterator[TikTokShopConnector]:
    cipher = sim.add_shop(
        CROSS_SHOP, "Cross Shop", region="MY", currency="MYR", seller_type="CROSS_BORDER", warehouses=2, tax_rate="0.10"
    )
    access, _ = sim.issue_tokens(CROSS_SHOP)
    credentials = ShopCredentials(shop_id=CROSS_SHOP, access_token=access, shop_cipher=cipher)
    with TikTokShopConnector(
        app_key=APP_KEY, app_secret=APP_SECRET, api_host=sim.url, credentials=credentials, policy=FAST
    ) as client:
        yield client


def test_sim_cross_border_shop_profile_price_and_warehouses(
    sim: TikTokShopSimulator, cross_border: TikTokShopConnector
) -> None:
    profile = cross_border.get_shop_profile()
    assert (profile.shop_id, profile.region, profile.cross_border) == (CROSS_SHOP, "MY", True)
    locations = cross_border.list_locations()
    assert len(locations) == 2 and locations[0].is_default and not locations[1].is_default

    product_id = sim.add_product(CROSS_SHOP, skus=[{"seller_sku": "A", "price": "10.00", "stock": 3}])
    (sku_id,) = sim.sku_ids(product_id)
    (listing,) = cross_border.get_listings([product_id])
    assert listing.skus[0].price == Decimal("10.00")  # tax-exclusive, not the 11.00 the buyer pays
    assert cross_border.update_price(product_id, {sku_id: Decimal("12.00")}).failed == ()
    (listing,) = cross_border.get_listings([product_id])
    assert listing.skus[0].price == Decimal("12.00")

    assert cross_border.update_stock(product_id, {sku_id: 9}).failed == ()
    (listing,) = cross_border.get_listings([product_id])
    stock = {row.location_id: row.quantity for row in listing.skus[0].stock}
    assert stock.get(locations[0].location_id) == 9 and listing.skus[0].total_stock == 9


def test_sim_price_lock_fails_the_item_only(sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector) -> None:
    locked = sim.add_product(SHOP_ID, skus=[{"seller_sku": "L", "price": "5.00"}])
    free = sim.add_product(SHOP_ID, skus=[{"seller_sku": "F", "price": "5.00"}])
    sim.lock_price(locked, sim.sku_ids(locked)[0])
    refused = conn.update_price(locked, {sim.sku_ids(locked)[0]: Decimal("6.00")})
    assert [(r.ok, r.error_code) for r in refused.results] == [(False, "12019045")]
    assert conn.update_price(free, {sim.sku_ids(free)[0]: Decimal("6.00")}).failed == ()


def test_sim_failed_audit_is_review_failed_with_the_reason(
    sim: TikTokShopSimulator, shop: Shop, conn: TikTokShopConnector
) -> None:
    product_id = sim.add_product(SHOP_ID, title="A title that is long enough to pass")
    sim.fail_next_audit("Prohibited words in the title", product_id=product_id)
    conn.update_fields(product_id, ListingFields(title="Another title that is long enough too"))
    listings = conn.get_listings([product_id])
    listings = conn.get_listings([product_id]) if listings[0].status is ListingStatus.IN_REVIEW else listings
    (listing,) = listings
    assert listing.status is ListingStatus.REVIEW_FAILED
    assert "Prohibited words in the title" in listing.review_message
