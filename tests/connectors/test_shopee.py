# Shopee connector tests: known-answer signing, push verification, every operation against the simulator over HTTP.
"""connectors.shopee against connectors.shopee.simulator on 127.0.0.1 (no mocks).

The simulator verifies each request as Shopee does, so these tests exercise the real signing,
payloads, batching and error mapping. Request counts come from the simulator's own counter.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import tokenize
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    QuotaExhausted,
    RateLimited,
    ShopCredentials,
    SkuDraft,
    StockLocation,
    Transient,
)
from connectors.retry import RetryPolicy
from connectors.shopee import codes as shopee_codes
from connectors.shopee import errors as shopee_errors
from connectors.shopee import rules as shopee_rules
from connectors.shopee import signing as shopee_signing
from connectors.shopee import transport as shopee_transport
from connectors.shopee import values as shopee_values
from connectors.shopee import webhooks as shopee_webhooks
from connectors.shopee.app import ShopeeApp
from connectors.shopee.connector import ShopeeConnector
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import FaultPlan, ServerThread, free_port

PARTNER_ID = 2001887
PARTNER_KEY = "KEY-CANARY-5e1f0c2a9b7d4e3f"
SHOP = 14701711
OTHER_SHOP = 14701712
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05)

# Known answers: the official guide's base string; the HMACs computed once with
# `printf '%s' '<text>' | openssl dgst -sha256 -hmac 'shpk-known-answer-key'`.
KAT_KEY = "shpk-known-answer-key"
KAT_BASE = "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
KAT_SIGN = "5a32a27d64141fc11de31a97f0efc682f6b7fb3c49077bf8046b5b6c88f4e870"
KAT_PUBLIC_SIGN = "6b4375b4d83c8333dce85bb72c85a0ee31f87547e9096f7a40f77adbd900506e"
KAT_PUSH_URL = "https://example.com/shopee/push"
KAT_PUSH_BODY = (
    b'{"code":3,"shop_id":14701711,"timestamp":1655714431,'
    b'"data":{"ordersn":"220620ABCDEF","status":"READY_TO_SHIP","update_time":1655714431}}'
)
KAT_PUSH_SIGN = "8a0a144e1fb026907ea75b823b1679ef8329dcfc2291d9db1ee0d86f5742d064"


# --- fixtures -------------------------------------------------------------------------------


# A tiny JPEG (its signature is what the simulator checks) the simulator holds as uploaded by SHOP.
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
IMAGE_ID = "sim-test-image-1"
CHANNEL = "20011"  # the simulator's default enabled "Standard Delivery" channel


@pytest.fixture
def sim():
    simulator = ShopeeSimulator(PARTNER_ID, PARTNER_KEY)
    simulator.add_shop(SHOP, "Main shop", region="SG")
    simulator.add_shop(OTHER_SHOP, "Other shop", region="SG")
    simulator.add_image(JPEG, shop_id=SHOP, image_id=IMAGE_ID)
    simulator.start()
    yield simulator
    simulator.stop()


def make_connector(sim: ShopeeSimulator, shop_id: int = SHOP, **kwargs) -> ShopeeConnector:
    if "credentials" not in kwargs:
        access, _ = sim.issue_tokens(shop_id)
        kwargs["credentials"] = ShopCredentials(shop_id=str(shop_id), access_token=access)
    kwargs.setdefault("partner_key", PARTNER_KEY)
    kwargs.setdefault("policy", FAST)
    kwargs.setdefault("region", "SG")
    return ShopeeConnector(partner_id=PARTNER_ID, host=sim.url, **kwargs)


@pytest.fixture
def connector(sim):
    with make_connector(sim) as client:
        yield client


class Receiver:
    """A push endpoint on loopback that records what it gets and answers 200 with an empty body."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self._arrived = threading.Condition()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._arrived:
                self.received.append((body, request.headers.get("authorization")))
                self._arrived.notify_all()
            return Response(status_code=200)

        self._server = ServerThread(Starlette(routes=[Route("/shopee/push", hook, methods=["POST"])])).start()
        self.url = f"{self._server.url}/shopee/push"

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.stop()


class RecordingGate:
    """The RequestGate protocol as the rate limiter implements it, recording what the connector reports."""

    def __init__(self) -> None:
        self.acquired = 0
        self.throttles: list[float | None] = []

    def acquire(self) -> None:
        self.acquired += 1

    def throttled(self, retry_after: float | None) -> None:
        self.throttles.append(retry_after)


# --- signing (known answers) ----------------------------------------------------------------


def test_shop_call_base_string_and_sign_match_the_official_known_answer():
    text = shopee_signing.base_string(
        2001887, "/api/v2/shop/get_shop_info", 1655714431, "59777174636562737266615546704c6d", 14701711
    )
    assert text == KAT_BASE
    assert shopee_signing.sign(KAT_KEY, text) == KAT_SIGN


def test_public_call_signs_partner_path_and_timestamp_only():
    text = shopee_signing.base_string(2001887, "/api/v2/auth/token/get", 1655714431)
    assert text == "2001887/api/v2/auth/token/get1655714431"
    assert shopee_signing.sign(KAT_KEY, text) == KAT_PUBLIC_SIGN


# --- push verification (W1, W3, W4) ---------------------------------------------------------


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_push_signature_known_answer_verifies():
    assert shopee_signing.sign_push(KAT_PUSH_URL, KAT_PUSH_BODY, KAT_KEY) == KAT_PUSH_SIGN
    assert shopee_signing.verify_push(KAT_PUSH_URL, KAT_PUSH_BODY, KAT_PUSH_SIGN, KAT_KEY)


@pytest.mark.parametrize("index", [0, 1, 40, len(KAT_PUSH_BODY) - 1])
def test_push_with_one_flipped_body_byte_fails(index):
    assert not shopee_signing.verify_push(KAT_PUSH_URL, _flip(KAT_PUSH_BODY, index), KAT_PUSH_SIGN, KAT_KEY)


@pytest.mark.parametrize("index", [0, 8, len(KAT_PUSH_URL) - 1])
def test_push_with_one_flipped_url_byte_fails(index):
    url = _flip(KAT_PUSH_URL.encode(), index).decode()
    assert not shopee_signing.verify_push(url, KAT_PUSH_BODY, KAT_PUSH_SIGN, KAT_KEY)


@pytest.mark.parametrize("index", [0, len(KAT_KEY) - 1])
def test_push_with_one_flipped_key_byte_fails(index):
    key = _flip(KAT_KEY.encode(), index).decode()
    assert not shopee_signing.verify_push(KAT_PUSH_URL, KAT_PUSH_BODY, KAT_PUSH_SIGN, key)


def test_re_serialised_push_json_fails_verification():
    same_content = json.dumps(json.loads(KAT_PUSH_BODY), indent=1).encode()
    sorted_keys = json.dumps(json.loads(KAT_PUSH_BODY), sort_keys=True).encode()
    assert json.loads(same_content) == json.loads(KAT_PUSH_BODY)
    assert not shopee_signing.verify_push(KAT_PUSH_URL, same_content, KAT_PUSH_SIGN, KAT_KEY)
    assert not shopee_signing.verify_push(KAT_PUSH_URL, sorted_keys, KAT_PUSH_SIGN, KAT_KEY)


@pytest.mark.parametrize(
    "header",
    [None, "", "garbage", KAT_PUSH_SIGN[:-1], KAT_PUSH_SIGN + "0", "é" * 64, _flip(KAT_PUSH_SIGN.encode(), 3).decode()],
)
def test_missing_or_malformed_push_signature_is_false_not_an_error(header):
    assert shopee_signing.verify_push(KAT_PUSH_URL, KAT_PUSH_BODY, header, KAT_KEY) is False


SIGNATURE_NAMES = re.compile(r"sign|digest|signature|authorization|hmac|expected", re.IGNORECASE)


def equality_on_signatures(source: str) -> list[str]:
    """Lines where `==`/`!=` sits on a line naming a signature-like variable (strings and comments ignored)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    names_by_line: dict[int, list[str]] = {}
    for token in tokens:
        if token.type == tokenize.NAME:
            names_by_line.setdefault(token.start[0], []).append(token.string)
    return [
        token.line.strip()
        for token in tokens
        if token.type == tokenize.OP
        and token.string in ("==", "!=")
        and any(SIGNATURE_NAMES.search(name) for name in names_by_line.get(token.start[0], []))
    ]


ROOT = Path(__file__).resolve().parents[2]


def test_signatures_are_compared_in_constant_time_never_with_equals():
    assert equality_on_signatures("if sign == received:\n    pass\n"), "the check itself must catch a violation"
    assert not equality_on_signatures('if code == "error_sign":\n    pass\n'), "string literals are not variables"
    package = Path(shopee_signing.__file__).parent
    # The module of the simulator that checks request signatures (its gateway).
    simulator = Path(ShopeeSimulator._verify.__module__.replace(".", "/") + ".py")
    for path in (*sorted(package.rglob("*.py")), ROOT / simulator):
        assert not equality_on_signatures(path.read_text()), path
    for path in (package / "signing.py", ROOT / simulator):
        assert "compare_digest" in path.read_text(), path


# --- push parsing ---------------------------------------------------------------------------


def test_order_status_push_is_parsed_with_a_stable_event_id():
    event = shopee_webhooks.parse_push(KAT_PUSH_BODY)
    assert event.kind is EventKind.ORDER_STATUS
    assert event.platform == "shopee"
    assert event.order_id == "220620ABCDEF"
    assert event.shop_id == "14701711"
    assert event.raw_type == "3"
    assert event.occurred_at == datetime.fromtimestamp(1655714431, tz=UTC)
    assert event.data["status"] == "READY_TO_SHIP"
    assert re.fullmatch(r"[0-9a-f]{64}", event.event_id)
    assert shopee_webhooks.parse_push(KAT_PUSH_BODY).event_id == event.event_id
    # The same notification in other bytes (as get_lost_push_message hands it out) has the same id ...
    assert (
        shopee_webhooks.parse_push(json.dumps(json.loads(KAT_PUSH_BODY), indent=2).encode()).event_id == event.event_id
    )
    # ... and another status of the same order does not.
    other = KAT_PUSH_BODY.replace(b"READY_TO_SHIP", b"SHIPPED")
    assert shopee_webhooks.parse_push(other).event_id != event.event_id
    # The push timestamp is not part of the id: a lost push's timestamp is the time it was lost.
    lost_later = KAT_PUSH_BODY.replace(b'"timestamp":1655714431', b'"timestamp":1655800000')
    assert lost_later != KAT_PUSH_BODY
    assert shopee_webhooks.parse_push(lost_later).event_id == event.event_id


def test_a_live_push_with_msg_id_uses_it_as_the_event_id():
    payload = json.loads(KAT_PUSH_BODY)
    with_id = json.dumps({"msg_id": "a1b2c3d4e5", **payload}).encode()
    assert shopee_webhooks.parse_push(with_id).event_id == "a1b2c3d4e5"
    assert shopee_webhooks.push_event_id("14701711", 3, payload["data"], "a1b2c3d4e5") == "a1b2c3d4e5"
    assert (
        shopee_webhooks.push_event_id("14701711", 3, payload["data"])
        == shopee_webhooks.parse_push(KAT_PUSH_BODY).event_id
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1, EventKind.AUTHORIZATION),
        (2, EventKind.AUTHORIZATION),
        (12, EventKind.AUTHORIZATION),
        (8, EventKind.STOCK_CHANGE),
        (22, EventKind.PRODUCT_CHANGE),
        (99, EventKind.UNKNOWN),
    ],
)
def test_push_codes_map_to_event_kinds(code, kind):
    body = json.dumps({"code": code, "shop_id": 5, "timestamp": 1700000000, "data": {"item_id": 42}}).encode()
    event = shopee_webhooks.parse_push(body)
    assert event.kind is kind
    assert event.raw_type == str(code)
    assert event.item_id == "42"
    assert event.order_id is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'{"shop_id": 1, "timestamp": 1700000000, "data": {}}',
        b'{"code": "3", "shop_id": 1, "timestamp": 1700000000, "data": {}}',
        b'{"code": 3, "shop_id": 1, "data": {"ordersn": "A"}}',
        b'{"code": 3, "shop_id": 1, "timestamp": 1700000000, "data": {}}',
        b'{"code": 3, "shop_id": 1, "timestamp": 1700000000, "data": "x"}',
    ],
)
def test_malformed_push_raises_a_value_error_subclass(body):
    with pytest.raises(shopee_webhooks.PushParseError) as caught:
        shopee_webhooks.parse_push(body)
    assert isinstance(caught.value, ValueError)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
PUSH_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "code": JSON_VALUES | st.integers(),
        "shop_id": JSON_VALUES,
        "timestamp": JSON_VALUES | st.integers(),
        "data": JSON_VALUES,
    },
)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=64) | PUSH_LIKE.map(lambda value: json.dumps(value).encode()))
def test_any_push_body_parses_or_raises_push_parse_error(body):
    try:
        event = shopee_webhooks.parse_push(body)
    except shopee_webhooks.PushParseError:
        return
    assert event.platform == "shopee" and len(event.event_id) == 64


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=64), header=st.none() | st.text(max_size=70))
def test_verify_push_never_raises_and_accepts_only_the_signature(body, header):
    expected = shopee_signing.sign_push(KAT_PUSH_URL, body, KAT_KEY)
    genuine = header is not None and header.strip().lower() == expected
    assert shopee_signing.verify_push(KAT_PUSH_URL, body, header, KAT_KEY) is genuine


# --- reading --------------------------------------------------------------------------------


def test_connector_satisfies_the_protocol(connector):
    assert isinstance(connector, Connector)
    assert connector.platform == "shopee"


def test_shop_profile_is_the_shops_real_name_and_region_from_get_shop_info(sim, connector):
    profile = connector.get_shop_profile()
    assert (profile.shop_id, profile.name, profile.region) == (str(SHOP), "Main shop", "SG")
    assert not profile.cross_border
    # Renamed in the seller centre: the next read says so (the connector keeps no copy of its own).
    sim.set_shop_options(SHOP, name="Kedai Batik Sinar")
    assert connector.get_shop_profile().name == "Kedai Batik Sinar"
    assert sim.request_count("/api/v2/shop/get_shop_info") == 2


def test_list_changed_items_pages_through_more_than_100_items(sim, connector):
    now = int(time.time())
    recent = {sim.add_item(SHOP, name=f"Item {n}", update_time=now - 60) for n in range(230)}
    unlisted = sim.add_item(SHOP, status="UNLIST", update_time=now - 60)
    deleted = sim.add_item(SHOP, status="SELLER_DELETE", update_time=now - 60)
    old = sim.add_item(SHOP, update_time=now - 10 * 86400)
    sim.add_item(OTHER_SHOP, update_time=now - 60)
    since = datetime.fromtimestamp(now - 3600, tz=UTC)
    changes = list(connector.list_changed_items(since, datetime.fromtimestamp(now, tz=UTC)))
    ids = [change.item_id for change in changes]
    assert len(ids) == len(set(ids)) == 232
    assert set(ids) == {str(i) for i in recent | {unlisted, deleted}}
    assert str(old) not in ids
    statuses = {change.item_id: change.raw_status for change in changes}
    assert statuses[str(unlisted)] == "UNLIST" and statuses[str(deleted)] == "SELLER_DELETE"
    assert all(change.updated_at == datetime.fromtimestamp(now - 60, tz=UTC) for change in changes)
    assert sim.request_count(shopee_transport.PATH_ITEM_LIST) == 3


def test_get_listings_for_120_ids_makes_exactly_3_detail_calls(sim, connector):
    ids = [str(sim.add_item(SHOP, name=f"Item {n}", stock=n)) for n in range(120)]
    listings = connector.get_listings(ids)
    assert [listing.item_id for listing in listings] == ids
    assert sim.request_count(shopee_transport.PATH_ITEM_BASE_INFO) == 3
    assert sim.request_count(shopee_transport.PATH_MODEL_LIST) == 0
    assert [listing.skus[0].total_stock for listing in listings] == list(range(120))


def test_get_listings_maps_items_models_prices_stock_and_status(sim, connector):
    plain = sim.add_item(
        SHOP,
        name="Plain mug",
        description="White, 350 ml",
        item_sku="MUG-1",
        price="12.90",
        stock=7,
        images=("https://img.example/mug.jpg", "img-id-2"),
        weight="0.35",
        dimension={"package_length": 10, "package_width": 9, "package_height": 12},
    )
    shirt = sim.add_item(SHOP, name="Shirt", models=[("SHIRT-S", "19.99", 3), ("SHIRT-M", "21.50", 0)])
    unlisted = sim.add_item(SHOP, status="UNLIST")
    banned = sim.add_item(SHOP, status="BANNED")
    foreign = sim.add_item(OTHER_SHOP)
    listings = {
        listing.item_id: listing
        for listing in connector.get_listings([str(i) for i in (plain, shirt, unlisted, banned, foreign)])
    }
    assert set(listings) == {str(plain), str(shirt), str(unlisted), str(banned)}, "other shops' items are left out"

    mug = listings[str(plain)]
    assert (mug.platform, mug.shop_id, mug.status, mug.raw_status) == (
        "shopee",
        str(SHOP),
        ListingStatus.ACTIVE,
        "NORMAL",
    )
    assert (mug.title, mug.description, mug.category_id) == ("Plain mug", "White, 350 ml", "100001")
    assert mug.images == ("https://img.example/mug.jpg", "https://cf.shopee.sim/file/img-id-2")
    assert mug.weight_kg == Decimal("0.35")
    assert mug.dimensions == Dimensions(length_cm=Decimal(10), width_cm=Decimal(9), height_cm=Decimal(12))
    (sku,) = mug.skus
    assert (sku.sku_id, sku.seller_sku, sku.price, sku.currency) == ("0", "MUG-1", Decimal("12.90"), "SGD")
    assert sku.stock == (StockLocation(location_id="", quantity=7),)

    shirt_listing = listings[str(shirt)]
    small, medium = shirt_listing.skus
    model_ids = sim.model_ids(shirt)
    assert (small.sku_id, small.seller_sku, small.price, small.total_stock) == (
        str(model_ids[0]),
        "SHIRT-S",
        Decimal("19.99"),
        3,
    )
    assert (medium.sku_id, medium.seller_sku, medium.price, medium.total_stock) == (
        str(model_ids[1]),
        "SHIRT-M",
        Decimal("21.50"),
        0,
    )
    assert small.attributes == {"Variation": "SHIRT-S"}
    assert sim.request_count(shopee_transport.PATH_MODEL_LIST) == 1

    assert listings[str(unlisted)].status is ListingStatus.INACTIVE
    assert (listings[str(banned)].status, listings[str(banned)].raw_status) == (ListingStatus.OTHER, "BANNED")


def test_get_orders_maps_lines_and_statuses(sim, connector):
    shirt = sim.add_item(SHOP, name="Shirt", models=[("SHIRT-S", "19.99", 5), ("SHIRT-M", "21.50", 5)])
    mug = sim.add_item(SHOP, name="Mug", item_sku="MUG-1", stock=5)
    small = sim.model_ids(shirt)[0]
    unpaid = sim.place_order(SHOP, shirt, small, 2)
    paid = sim.place_order(SHOP, mug, 0, 1)
    sim.set_order_status(paid, "READY_TO_SHIP")
    cancelled = sim.place_order(SHOP, mug, 0, 1)
    sim.set_order_status(cancelled, "CANCELLED")
    shipped = sim.place_order(SHOP, mug, 0, 1)
    sim.set_order_status(shipped, "SHIPPED")

    orders = {
        order.order_id: order for order in connector.get_orders([unpaid, paid, cancelled, shipped, "NO-SUCH-ORDER"])
    }
    assert {sn: o.status for sn, o in orders.items()} == {
        unpaid: OrderStatus.PENDING,
        paid: OrderStatus.PAID,
        cancelled: OrderStatus.CANCELLED,
        shipped: OrderStatus.SHIPPED,
    }
    (line,) = orders[unpaid].lines
    assert (line.item_id, line.sku_id, line.seller_sku, line.quantity) == (str(shirt), str(small), "SHIRT-S", 2)
    assert orders[paid].lines[0].sku_id == "0" and orders[paid].lines[0].seller_sku == "MUG-1"
    assert orders[unpaid].raw_status == "UNPAID"


def test_get_orders_batches_50_order_numbers_per_call(sim, connector):
    mug = sim.add_item(SHOP, stock=200)
    order_sns = [sim.place_order(SHOP, mug) for _ in range(120)]
    assert len(connector.get_orders(order_sns)) == 120
    assert sim.request_count(shopee_transport.PATH_ORDER_DETAIL) == 3


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("READY_TO_SHIP", "paid"),
        ("PROCESSED", "paid"),
        ("TO_CONFIRM_RECEIVE", "shipped"),
        ("COMPLETED", "completed"),
        ("IN_CANCEL", "other"),
        ("TO_RETURN", "other"),
    ],
)
def test_order_status_mapping(raw, kind):
    assert shopee_codes.ORDER_STATUSES.get(raw, OrderStatus.OTHER).value == kind


# --- writing stock and prices ---------------------------------------------------------------


def test_update_stock_reports_each_model_including_partial_failures(sim, connector):
    shirt = sim.add_item(SHOP, models=[("S", "10.00", 5), ("M", "10.00", 5)])
    small, medium = sim.model_ids(shirt)
    sim.place_order(SHOP, shirt, small, 3)  # an order takes its units out of the sellable stock at once
    assert sim.stock_of(shirt, small) == 2
    result = connector.update_stock(str(shirt), {str(small): 2, str(medium): 40, "123456": 1})
    by_sku = {r.sku_id: r for r in result.results}
    assert by_sku[str(small)].ok and by_sku[str(medium)].ok
    assert not by_sku["123456"].ok
    assert {r.sku_id for r in result.failed} == {"123456"}
    assert (sim.stock_of(shirt, small), sim.stock_of(shirt, medium)) == (2, 40)


def test_update_stock_of_more_than_50_models_takes_several_calls(sim, connector):
    item = sim.add_item(SHOP, models=[(f"M{n}", "5.00", 0) for n in range(60)])
    models = sim.model_ids(item)
    result = connector.update_stock(str(item), {str(m): n for n, m in enumerate(models)})
    assert len(result.results) == 60 and not result.failed
    assert sim.request_count(shopee_transport.PATH_UPDATE_STOCK) == 2
    assert [sim.stock_of(item, m) for m in models] == list(range(60))


def test_update_price_sets_original_price_exactly(sim, connector):
    mug = sim.add_item(SHOP, price="10.00")
    shirt = sim.add_item(SHOP, models=[("S", "10.00", 0), ("M", "10.00", 0)])
    small, medium = sim.model_ids(shirt)
    assert not connector.update_price(str(mug), {"0": Decimal("19.99")}).failed
    result = connector.update_price(str(shirt), {str(small): Decimal("0.10"), str(medium): Decimal("0.50")})
    assert not result.failed
    assert sim.price_of(mug) == Decimal("19.99")
    assert (sim.price_of(shirt, small), sim.price_of(shirt, medium)) == (Decimal("0.10"), Decimal("0.50"))
    listing = connector.get_listings([str(shirt)])[0]
    assert [sku.price for sku in listing.skus] == [Decimal("0.10"), Decimal("0.50")]


def test_update_price_model_zero_on_an_item_with_models_fails_per_sku(sim, connector):
    shirt = sim.add_item(SHOP, models=[("S", "10.00", 0)])
    (small,) = sim.model_ids(shirt)
    result = connector.update_price(str(shirt), {"0": Decimal("5.00"), str(small): Decimal("6.00")})
    assert [(r.sku_id, r.ok) for r in result.results] == [("0", False), (str(small), True)]


@pytest.mark.parametrize(
    "price", [Decimal("9.999"), Decimal("0"), Decimal("-1"), Decimal("NaN"), Decimal("12345678901234567.89")]
)
def test_a_price_that_cannot_travel_exactly_is_refused_before_sending(sim, connector, price):
    mug = sim.add_item(SHOP)
    with pytest.raises(InvalidRequest):
        connector.update_price(str(mug), {"0": price})
    assert sim.request_count() == 0
    assert sim.price_of(mug) == Decimal("10.00")


# --- writing listings -----------------------------------------------------------------------


def test_update_fields_changes_only_the_given_fields(sim, connector):
    mug = sim.add_item(SHOP, name="Mug", description="old", update_time=int(time.time()) - 100)
    connector.update_fields(
        str(mug),
        ListingFields(
            title="Big mug",
            images=(IMAGE_ID,),
            weight_kg=Decimal("0.45"),
            dimensions=Dimensions(length_cm=Decimal(10), width_cm=Decimal(11), height_cm=Decimal(12)),
        ),
    )
    listing = connector.get_listings([str(mug)])[0]
    assert (listing.title, listing.description) == ("Big mug", "old")
    assert listing.images == (f"https://cf.shopee.sim/file/{IMAGE_ID}",)
    assert listing.weight_kg == Decimal("0.45")
    assert listing.dimensions == Dimensions(length_cm=Decimal(10), width_cm=Decimal(11), height_cm=Decimal(12))
    assert listing.updated_at >= datetime.now(UTC) - timedelta(seconds=5)
    before = sim.request_count()
    connector.update_fields(str(mug), ListingFields())
    assert sim.request_count() == before, "nothing to change sends nothing"
    with pytest.raises(InvalidRequest):
        connector.update_fields(
            str(mug),
            ListingFields(dimensions=Dimensions(length_cm=Decimal("10.5"), width_cm=Decimal(1), height_cm=Decimal(1))),
        )


def draft(key: str, skus: tuple[SkuDraft, ...]) -> ListingDraft:
    return ListingDraft(
        title=f"Listing {key}",
        description="Made by SyncStore",
        category_id="100017",
        images=(IMAGE_ID,),
        logistics_channel_ids=(CHANNEL,),
        weight_kg=Decimal("0.3"),
        dimensions=Dimensions(length_cm=Decimal(20), width_cm=Decimal(15), height_cm=Decimal(5)),
        currency="SGD",
        skus=skus,
        idempotency_key=key,
    )


def test_create_listing_with_variants_binds_every_seller_sku(sim, connector):
    skus = tuple(
        SkuDraft(
            seller_sku=f"TEE-{color}-{size}",
            price=Decimal(price),
            stock=stock,
            attributes={"Color": color, "Size": size},
        )
        for color, size, price, stock in [("Red", "S", "19.90", 3), ("Red", "M", "19.90", 4), ("Blue", "S", "21.00", 5)]
    )
    created = connector.create_listing(draft("create-tee-1", skus))
    assert set(created.sku_ids) == {"TEE-Red-S", "TEE-Red-M", "TEE-Blue-S"}
    listing = connector.get_listings([created.item_id])[0]
    assert listing.title == "Listing create-tee-1"
    by_sku = {sku.seller_sku: sku for sku in listing.skus}
    assert {s: by_sku[s].sku_id for s in by_sku} == dict(created.sku_ids)
    assert by_sku["TEE-Blue-S"].attributes == {"Color": "Blue", "Size": "S"}
    assert (by_sku["TEE-Blue-S"].price, by_sku["TEE-Blue-S"].total_stock) == (Decimal("21.00"), 5)
    # Running the same draft again (a retry after a crash) finds the listing instead of adding one.
    assert connector.create_listing(draft("create-tee-1", skus)) == created
    assert sim.request_count(shopee_transport.PATH_ADD_ITEM) == 1
    assert sim.request_count(shopee_transport.PATH_INIT_TIER_VARIATION) == 1


def test_create_single_sku_listing_has_model_zero(sim, connector):
    created = connector.create_listing(
        draft("create-mug-1", (SkuDraft(seller_sku="MUG-9", price=Decimal("8.50"), stock=12),))
    )
    assert created.sku_ids == {"MUG-9": "0"}
    (sku,) = connector.get_listings([created.item_id])[0].skus
    assert (sku.sku_id, sku.seller_sku, sku.price, sku.total_stock) == ("0", "MUG-9", Decimal("8.50"), 12)
    assert sim.request_count(shopee_transport.PATH_INIT_TIER_VARIATION) == 0


def test_unlist_and_relist_in_batches_of_50(sim, connector):
    items = [str(sim.add_item(SHOP)) for _ in range(60)]
    results = connector.set_active([*items, "999999"], False)
    assert [r.ok for r in results] == [True] * 60 + [False]
    assert sim.request_count(shopee_transport.PATH_UNLIST_ITEM) == 2
    assert {listing.status for listing in connector.get_listings(items)} == {ListingStatus.INACTIVE}
    assert all(r.ok for r in connector.set_active(items[:3], True))
    assert [listing.status for listing in connector.get_listings(items[:4])] == [ListingStatus.ACTIVE] * 3 + [
        ListingStatus.INACTIVE
    ]


def test_delete_is_per_item_and_idempotent(sim, connector):
    mine, foreign = sim.add_item(SHOP), sim.add_item(OTHER_SHOP)
    results = connector.delete_listings([str(mine), str(foreign)])
    assert results[0].ok
    assert (results[1].ok, results[1].error_code) == (False, "error_item_not_belong_shop")
    assert connector.delete_listings([str(mine)])[0].ok, "deleting what is gone is done"
    assert connector.get_listings([str(mine)])[0].status is ListingStatus.DELETED
    assert sim.request_count(shopee_transport.PATH_DELETE_ITEM) == 3


# --- pushes ---------------------------------------------------------------------------------


def test_registered_webhook_receives_verifiable_order_pushes(sim, connector, receiver):
    subscriptions = connector.register_webhook(receiver.url)
    assert [s.topic for s in subscriptions] == ["1", "2", "3", "8", "12", "22"]
    assert {s.topic: s.ok for s in subscriptions}["3"], subscriptions
    mug = sim.add_item(SHOP, stock=3)
    order_sn = sim.place_order(SHOP, mug, 0, 2)
    ((body, header),) = receiver.received
    assert shopee_signing.verify_push(receiver.url, body, header, PARTNER_KEY)
    assert not shopee_signing.verify_push(receiver.url + "/", body, header, PARTNER_KEY)
    event = shopee_webhooks.parse_push(body)
    assert (event.kind, event.order_id, event.shop_id) == (EventKind.ORDER_STATUS, order_sn, str(SHOP))
    (order,) = connector.get_orders([event.order_id])
    assert (order.status, order.lines[0].quantity) == (OrderStatus.PENDING, 2)


def test_lost_pushes_are_fetched_100_at_a_time_and_confirmed(sim, connector):
    connector.register_webhook(f"http://127.0.0.1:{free_port()}/nobody-listens")
    mug = sim.add_item(SHOP, stock=500)
    order_sns = [sim.place_order(SHOP, mug) for _ in range(150)]
    for _ in range(6):  # the platform's retries run out on the simulated clock: the pushes are lost
        sim.clock.advance(3600)
        sim.sender.retrying.pump()
    live_ids = [shopee_webhooks.parse_push(push.body).event_id for push in sim.sender.lost]
    events = connector.fetch_missed_events()
    assert [e.order_id for e in events] == order_sns
    assert [e.event_id for e in events] == live_ids, "a lost push has the id the live push would have had"
    assert sim.request_count(shopee_transport.PATH_LOST_PUSH) == 2
    assert sim.request_count(shopee_transport.PATH_CONFIRM_LOST_PUSH) == 2
    assert sim.sender.lost == []
    assert connector.fetch_missed_events() == []


# --- errors ---------------------------------------------------------------------------------


def test_wrong_partner_key_is_error_sign_and_not_retried(sim):
    with make_connector(sim, partner_key="WRONG-KEY-CANARY") as wrong, pytest.raises(InvalidRequest) as caught:
        wrong.get_listings(["1"])
    assert caught.value.code == "error_sign"
    assert sim.request_count() == 1


def test_unknown_partner_id_is_refused(sim):
    access, _ = sim.issue_tokens(SHOP)
    credentials = ShopCredentials(shop_id=str(SHOP), access_token=access)
    with (
        ShopeeConnector(
            partner_id=1, partner_key=PARTNER_KEY, host=sim.url, credentials=credentials, policy=FAST
        ) as bad,
        pytest.raises(InvalidRequest) as caught,
    ):
        bad.get_listings(["1"])
    assert caught.value.code == "error_param"
    assert sim.request_count() == 1


def test_request_signed_301_s_ago_is_refused_and_299_s_accepted(sim):
    with make_connector(sim, clock=lambda: time.time() - 301) as stale, pytest.raises(InvalidRequest) as caught:
        stale.get_listings(["1"])
    assert caught.value.code == "error_param" and "Timestamp is expired" in str(caught.value)
    assert sim.request_count() == 1
    with make_connector(sim, clock=lambda: time.time() - 299) as late:
        assert late.get_listings(["1"]) == []


def test_unknown_and_foreign_items_are_not_found_and_not_retried(sim, connector):
    foreign = sim.add_item(OTHER_SHOP)
    with pytest.raises(NotFound) as unknown:
        connector.update_stock("123", {"0": 1})
    with pytest.raises(NotFound) as not_mine:
        connector.update_fields(str(foreign), ListingFields(title="mine now"))
    codes = (shopee_errors.bare_code(unknown.value.code or ""), shopee_errors.bare_code(not_mine.value.code or ""))
    assert codes == ("error_item_not_found", "error_item_not_belong_shop")
    assert unknown.value.request_id
    assert sim.request_count() == 3  # get_warehouse_detail once, then one call each


def test_bad_parameter_names_the_field(sim, connector):
    with pytest.raises(InvalidRequest) as caught:
        connector.create_listing(
            draft("no-image", (SkuDraft(seller_sku="X", price=Decimal(1), stock=1),)).model_copy(update={"images": ()})
        )
    assert shopee_errors.bare_code(caught.value.code or "") == "error_param"
    assert "image" in caught.value.fields


def test_expired_token_is_refreshed_once_and_the_call_succeeds(sim):
    app = ShopeeApp(PARTNER_ID, PARTNER_KEY, sim.url)
    access, refresh_token = sim.issue_tokens(SHOP)
    stored = {"refresh": refresh_token}
    refreshes = []

    def refresh() -> str:
        grant = app.refresh(stored["refresh"], SHOP)
        stored["refresh"] = grant.refresh_token
        refreshes.append(grant)
        return grant.access_token

    mug = sim.add_item(SHOP)
    credentials = ShopCredentials(shop_id=str(SHOP), access_token=access)
    with make_connector(sim, credentials=credentials, refresh=refresh) as connector:
        sim.expire_access_tokens(SHOP)
        assert connector.get_listings([str(mug)])[0].item_id == str(mug)
        assert connector.get_listings([str(mug)])[0].item_id == str(mug)
    assert len(refreshes) == 1
    assert (
        sim.request_count(shopee_transport.PATH_ITEM_BASE_INFO) == 3
    )  # refused, retried with the new token, next call
    app.close()


def test_expired_token_without_refresh_callback_raises_auth_expired(sim, connector):
    sim.expire_access_tokens(SHOP)
    with pytest.raises(AuthExpired) as caught:
        connector.get_listings(["1"])
    assert caught.value.code in ("invalid_acceess_token", "common.error_auth")
    assert sim.request_count() == 1


def test_revoked_shop_raises_auth_revoked_without_refreshing(sim):
    calls = []

    def refresh() -> str:
        calls.append(1)
        return "x"

    with make_connector(sim, refresh=refresh) as connector:
        sim.revoke_shop(SHOP)
        with pytest.raises(AuthRevoked) as caught:
            connector.get_listings(["1"])
    assert caught.value.code == "error_auth"
    assert calls == []
    assert sim.request_count() == 1


def test_throttling_reports_retry_after_to_the_shop_gate(sim):
    gate = RecordingGate()
    sim.faults = FaultPlan(error_rate=1.0, server_error_weight=0, timeout_weight=0)
    with make_connector(sim, gate=gate) as connector, pytest.raises(RateLimited) as caught:
        connector.get_listings(["1"])
    assert caught.value.retry_after == 1.0
    assert gate.throttles == [1.0, 1.0, 1.0]
    assert gate.acquired == 3 == sim.request_count()


def test_shop_rate_limit_with_a_long_retry_after_goes_back_to_the_caller(sim):
    sim.rate_limit_per_minute = 2
    gate = RecordingGate()
    with make_connector(sim, gate=gate, policy=RetryPolicy(base_delay_s=0.01, max_retry_after_s=5)) as connector:
        connector.get_listings(["1"])
        connector.get_listings(["1"])
        with pytest.raises(RateLimited) as caught:
            connector.get_listings(["1"])
    assert caught.value.code == "error_rate_limit"
    assert 50 <= (caught.value.retry_after or 0) <= 60
    assert gate.throttles == [caught.value.retry_after]


def test_daily_quota_is_exhausted_not_retried(sim):
    sim.daily_quota = 1
    with make_connector(sim) as connector:
        connector.get_listings(["1"])
        with pytest.raises(QuotaExhausted) as caught:
            connector.get_listings(["1"])
    assert caught.value.code == "error_limit"
    assert sim.request_count() == 2


def test_server_errors_are_retried_then_transient(sim, connector):
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
    with pytest.raises(Transient) as caught:
        connector.get_listings(["1"])
    assert shopee_errors.bare_code(caught.value.code or "") == "error_server"
    assert sim.request_count() == 3


def test_a_timeout_is_transient_and_the_write_may_have_landed(sim):
    mug = sim.add_item(SHOP, stock=1)
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=1.0)
    connector = make_connector(sim, timeout_s=0.2, policy=RetryPolicy(max_attempts=1))
    sim.faults = FaultPlan()
    connector.list_locations()  # read before the faults, so the timeout hits the write itself
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=1.0)
    with connector, pytest.raises(Transient) as caught:
        connector.update_stock(str(mug), {"0": 9})
    assert caught.value.code == "timeout"
    assert sim.stock_of(mug) == 9


def test_unreachable_host_is_transient():
    credentials = ShopCredentials(shop_id=str(SHOP), access_token="t")
    host = f"http://127.0.0.1:{free_port()}"
    with (
        ShopeeConnector(
            partner_id=PARTNER_ID, partner_key=PARTNER_KEY, host=host, credentials=credentials, policy=FAST
        ) as c,
        pytest.raises(Transient) as caught,
    ):
        c.get_listings(["1"])
    assert caught.value.code == "network"


def test_errors_and_reprs_never_contain_the_access_token_or_partner_key(sim):
    access, refresh_token = sim.issue_tokens(SHOP)
    credentials = ShopCredentials(shop_id=str(SHOP), access_token=access)
    secrets = (access, refresh_token, PARTNER_KEY, "WRONG-KEY-CANARY")
    errors: list[ConnectorError] = []

    def collect(action) -> None:
        with pytest.raises(ConnectorError) as caught:
            action()
        errors.append(caught.value)

    wrong = make_connector(sim, credentials=credentials, partner_key="WRONG-KEY-CANARY")
    connector = make_connector(sim, credentials=credentials, timeout_s=0.2)
    collect(lambda: wrong.get_listings(["1"]))
    collect(lambda: connector.update_stock("1", {"0": 1}))
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=0.5)
    collect(lambda: connector.get_listings(["1"]))
    sim.faults = FaultPlan(error_rate=1.0, timeout_weight=0, throttle_weight=0)
    collect(lambda: connector.get_listings(["1"]))
    sim.faults = FaultPlan()
    sim.expire_access_tokens(SHOP)
    collect(lambda: connector.get_listings(["1"]))
    app = ShopeeApp(PARTNER_ID, PARTNER_KEY, sim.url)
    collect(lambda: app.refresh("not-a-refresh-token", SHOP))
    texts = [repr(connector), repr(wrong), repr(app), repr(credentials), repr(app.refresh(refresh_token, SHOP))]
    for error in errors:
        chain: BaseException | None = error
        while chain is not None:
            texts += [str(chain), repr(chain), repr(chain.args)]
            chain = chain.__cause__ or chain.__context__
    assert len(errors) == 6
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    for client in (wrong, connector, app):
        client.close()


# --- authorization --------------------------------------------------------------------------


def test_authorization_flow_from_link_to_token_grant(sim):
    app = ShopeeApp(PARTNER_ID, PARTNER_KEY, sim.url)
    link = app.authorization_url("https://syncstore.example/oauth/shopee?state=abc")
    assert link.startswith(f"{sim.url}{shopee_transport.PATH_AUTH_PARTNER}?partner_id={PARTNER_ID}&timestamp=")
    landing = httpx.get(f"{link}&auto=1&shop_id={SHOP}")  # what the seller's click on "Authorize" does
    assert landing.status_code == 302
    location = httpx.URL(landing.headers["location"])
    assert (location.host, location.path, location.params["state"]) == ("syncstore.example", "/oauth/shopee", "abc")
    assert location.params["shop_id"] == str(SHOP)

    before = datetime.now(UTC)
    grant = app.exchange_code(location.params["code"], location.params["shop_id"])
    assert grant.shop_id == str(SHOP)
    assert (
        before + timedelta(hours=4) - timedelta(seconds=5)
        <= grant.access_token_expires_at
        <= datetime.now(UTC) + timedelta(hours=4)
    )
    assert grant.refresh_token_expires_at is not None
    with make_connector(sim, credentials=ShopCredentials(shop_id=str(SHOP), access_token=grant.access_token)) as c:
        assert c.get_listings(["1"]) == []
    with pytest.raises(AuthRevoked):
        app.exchange_code(location.params["code"], SHOP)  # codes are single use
    app.close()


def test_refresh_returns_a_new_pair_and_the_old_refresh_token_dies(sim):
    app = ShopeeApp(PARTNER_ID, PARTNER_KEY, sim.url)
    access, refresh_token = sim.issue_tokens(SHOP)
    grant = app.refresh(refresh_token, SHOP)
    assert grant.access_token != access and grant.refresh_token != refresh_token
    with pytest.raises(AuthRevoked) as caught:
        app.refresh(refresh_token, SHOP)
    assert caught.value.code == "error_auth"
    newer = app.refresh(grant.refresh_token, str(SHOP))
    assert newer.refresh_token not in (refresh_token, grant.refresh_token)
    # The replaced access token keeps working for the grace period (5 minutes by default).
    with make_connector(sim, credentials=ShopCredentials(shop_id=str(SHOP), access_token=access)) as old:
        assert old.get_listings(["1"]) == []
    app.close()


def test_expire_in_is_parsed_defensively():
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert shopee_values.expiry_at(14400, now) == now + timedelta(hours=4)
    assert shopee_values.expiry_at("3600", now) == now + timedelta(hours=1)
    assert shopee_values.expiry_at(1_704_081_600, now) == datetime(2024, 1, 1, 4, tzinfo=UTC)
    for odd in (None, "", "soon", -5, 0):
        assert shopee_values.expiry_at(odd, now) == now + timedelta(hours=4)


# --- J3: faults -----------------------------------------------------------------------------


def _run_until_done(jobs: Mapping[Any, Any], run, rounds: int = 6) -> None:
    """Run every job; re-run those that failed (as the sync engine will) until none is left."""
    pending = dict(jobs)
    for _ in range(rounds):
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = {key: pool.submit(run, key, job) for key, job in pending.items()}
        failed = {}
        for key, future in futures.items():
            error = future.exception()
            if error is not None and not isinstance(error, Transient | RateLimited):
                raise error
            if error is not None or not future.result():
                failed[key] = pending[key]
        pending = failed
        if not pending:
            return
    raise AssertionError(f"{len(pending)} jobs still failing after {rounds} rounds")


def test_j3_500_stock_updates_land_exactly_once_under_20_percent_faults(sim):
    items = [
        sim.add_item(SHOP, name=f"Item {n}", models=[(f"I{n}-M{m}", "5.00", 0) for m in range(50)]) for n in range(10)
    ]
    targets = {
        (item, model): 100 + n for n, (item, model) in enumerate((i, m) for i in items for m in sim.model_ids(i))
    }
    assert len(targets) == 500
    sim.faults = FaultPlan(error_rate=0.2, timeout_hold_s=1.0, seed=20240611)

    with make_connector(sim, timeout_s=0.3, policy=RetryPolicy(base_delay_s=0.02, max_delay_s=0.2)) as connector:

        def update(key, quantity) -> bool:
            item, model = key
            return not connector.update_stock(str(item), {str(model): quantity}).failed

        _run_until_done(targets, update)

    sim.faults = FaultPlan()
    assert {key: sim.stock_of(*key) for key in targets} == targets
    entries = sim.write_log.entries(field_name="stock")
    effective = Counter((int(e.item_id), int(e.sku_id)) for e in entries if e.effective)
    assert effective == Counter(dict.fromkeys(targets, 1)), "exactly one effective write per update"
    repeats = [e for e in entries if not e.effective]
    assert repeats, "some writes landed behind a timeout and were sent again"
    assert all(e.old == e.new == targets[(int(e.item_id), int(e.sku_id))] for e in repeats)
    throttled = sim.request_count(shopee_transport.PATH_UPDATE_STOCK) - len(entries)
    assert throttled > 0, "throttles and server errors reached the connector too"


def test_j3_listings_created_under_20_percent_faults_exist_exactly_once(sim):
    drafts = {}
    for n in range(10):
        single = (SkuDraft(seller_sku=f"SOLO-{n}", price=Decimal("3.50"), stock=n),)
        pair = tuple(
            SkuDraft(seller_sku=f"DUO-{n}-{c}", price=Decimal("4.00"), stock=1, attributes={"Color": c})
            for c in ("Red", "Blue")
        )
        drafts[f"solo-{n}"] = draft(f"solo-{n}", single)
        drafts[f"duo-{n}"] = draft(f"duo-{n}", pair)
    sim.faults = FaultPlan(error_rate=0.2, timeout_hold_s=1.0, seed=7)
    created = {}
    with make_connector(sim, timeout_s=0.3, policy=RetryPolicy(base_delay_s=0.02, max_delay_s=0.2)) as connector:

        def create(key, listing_draft) -> bool:
            created[key] = connector.create_listing(listing_draft)
            return True

        _run_until_done(drafts, create)
    sim.faults = FaultPlan()
    live = [item for item in sim.state.items.values() if item.shop_id == SHOP and not item.deleted]
    assert len(live) == 20, "no listing was created twice"
    assert {str(item.item_id) for item in live} == {c.item_id for c in created.values()}
    for key, listing_draft in drafts.items():
        assert set(created[key].sku_ids) == {sku.seller_sku for sku in listing_draft.skus}
    assert sim.request_count(shopee_transport.PATH_ADD_ITEM) >= 20


# --- regressions without the simulator (httpx.MockTransport plays Shopee) --------------------


class FakeShopee:
    """Answers per path from a queue (the last answer repeats) and records every request."""

    def __init__(self, answers: dict[str, list[dict[str, object]]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.answers[request.url.path]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(200, content=json.dumps(answer).encode())

    def sent(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]


def fake_connector(fake: FakeShopee, **kwargs) -> ShopeeConnector:
    kwargs.setdefault("policy", FAST)
    return ShopeeConnector(
        partner_id=PARTNER_ID,
        partner_key=PARTNER_KEY,
        host="https://partner.shopeemobile.com",
        credentials=ShopCredentials(shop_id=str(SHOP), access_token="token-1"),
        client=httpx.Client(transport=httpx.MockTransport(fake)),
        **kwargs,
    )


def ok(response: object = None) -> dict[str, object]:
    return {"error": "", "message": "", "request_id": "rid", "response": response or {}}


def refusal(code: str, message: str) -> dict[str, object]:
    return {"error": code, "message": message, "request_id": "rid"}


SINGLE_LOCATION = refusal("warehouse.error_not_in_whitelist", "Your shop is not in multi-warehouse whitelist.")


def test_order_sn_list_and_optional_fields_travel_as_one_comma_joined_string():
    fake = FakeShopee({shopee_transport.PATH_ORDER_DETAIL: [ok({"order_list": []})]})
    fake_connector(fake).get_orders(["A1", "B2", "A1"])
    (request,) = fake.requests
    assert request.url.params.get_list("order_sn_list") == ["A1,B2"]
    assert request.url.params.get_list("response_optional_fields") == ["item_list"]


def test_item_id_list_is_comma_joined_and_item_status_a_repeated_key():
    fake = FakeShopee(
        {
            shopee_transport.PATH_ITEM_BASE_INFO: [ok({"item_list": []})],
            shopee_transport.PATH_ITEM_LIST: [ok({"item": [], "has_next_page": False})],
        }
    )
    connector = fake_connector(fake)
    connector.get_listings(["11", "12"])
    now = datetime.now(UTC)
    list(connector.list_changed_items(now - timedelta(hours=1), now))
    base, listing = fake.requests
    assert base.url.params.get_list("item_id_list") == ["11,12"]
    assert listing.url.params.get_list("item_status") == list(shopee_codes.POLLED_ITEM_STATUSES)


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        ("product.error_param", "invalid field ItemId: value must  Not Null", InvalidRequest),
        ("error.param", "Can not update item with stock less than reserved stock", InvalidRequest),
        ("common.error_not_found", "the order is not found", NotFound),
        ("product.error_server", "Interal error", Transient),
        ("common.error_auth", "Invalid access_token.", AuthExpired),
        ("error_auth", "Invalid access_token.", AuthExpired),
        ("invalid_acceess_token", "Invalid access_token, please have a check.", AuthExpired),
        ("invalid_access_token", "Invalid access_token, please have a check.", AuthExpired),
        ("error_auth", "The shop has deauthorized this partner: authorization revoked.", AuthRevoked),
        ("error_auth", "System error, please try again later.", Transient),
        ("error_auth", "Total stock must be more than reserved stock.", ItemRefused),
        ("error_auth", "Lack of location_id, please double check.", ItemRefused),
        ("error_auth", "The location_id input is not matched the shop's location_id(more/wrong).", ItemRefused),
        ("error_auth", "Please wait for the holiday mode set then to edit item. Please try later.", ItemRefused),
        ("error_auth", "cnsc shop not upgraded, can not edit item.", ItemRefused),
        ("common.error_auth", "No permission to current api.", ItemRefused),
        (
            "error_cannt_edit_price_in_promotion",
            "Original_price cannot be edited when item is under promotion.",
            ItemRefused,
        ),
        ("product.error_rate_limit", "Too many requests.", RateLimited),
    ],
)
def test_errors_map_by_bare_code_and_message(code, message, kind):
    error = shopee_errors.error_for(code, message, path="/api/v2/product/update_stock", http_status=200)
    assert type(error) is kind
    assert error.code == code, "the platform's own code is kept"
    assert message in str(error)


def test_a_business_refusal_fails_the_item_not_the_shop_and_refreshes_nothing():
    holiday = refusal("error_auth", "Please wait for the holiday mode set then to edit item. Please try later.")
    fake = FakeShopee(
        {
            shopee_transport.PATH_WAREHOUSE_DETAIL: [SINGLE_LOCATION],
            shopee_transport.PATH_UPDATE_STOCK: [holiday, ok({"success_list": [{"model_id": 5}], "failure_list": []})],
            shopee_transport.PATH_UPDATE_PRICE: [refusal("product.error_param", "Price is out of range.")],
        }
    )
    refreshes: list[int] = []

    def refresh() -> str:
        refreshes.append(1)
        return "token-2"

    connector = fake_connector(fake, refresh=refresh)
    first = connector.update_stock("100", {"1": 3, "2": 4})
    assert [(r.sku_id, r.ok, r.error_code) for r in first.results] == [
        ("1", False, "error_auth"),
        ("2", False, "error_auth"),
    ]
    assert all("holiday mode" in (r.message or "") for r in first.results)
    assert [r.ok for r in connector.update_stock("101", {"5": 1}).results] == [True], "the shop goes on"
    price = connector.update_price("100", {"1": Decimal("5.00")})
    assert [(r.sku_id, r.ok) for r in price.results] == [("1", False)]
    assert "out of range" in (price.results[0].message or "")
    assert refreshes == []
    assert len(fake.sent(shopee_transport.PATH_UPDATE_STOCK)) == 2, "a refusal is not retried"


def test_error_auth_system_error_is_retried_as_transient():
    busy = refusal("error_auth", "System error, please try again later.")
    fake = FakeShopee({shopee_transport.PATH_ITEM_BASE_INFO: [busy, busy, ok({"item_list": []})]})
    assert fake_connector(fake).get_listings(["1"]) == []
    assert len(fake.requests) == 3


def test_stock_goes_to_the_default_location_and_zero_to_the_others():
    warehouses = [
        {"warehouse_id": 1, "warehouse_name": "Main", "warehouse_type": 1, "location_id": "IDZ"},
        {"warehouse_id": 2, "warehouse_name": "Returns", "warehouse_type": 2, "location_id": "IDR"},
        {"warehouse_id": 3, "warehouse_name": "Second", "warehouse_type": 1, "location_id": "IDX"},
    ]
    fake = FakeShopee(
        {
            shopee_transport.PATH_WAREHOUSE_DETAIL: [
                {"error": "", "message": "", "request_id": "r", "response": warehouses}
            ],
            shopee_transport.PATH_UPDATE_STOCK: [
                ok({"success_list": [{"model_id": 7}, {"model_id": 8}], "failure_list": []})
            ],
        }
    )
    connector = fake_connector(fake)
    assert [location.location_id for location in connector.list_locations()] == ["IDZ", "IDX"]
    assert not connector.update_stock("100", {"7": 5, "8": 0}).failed
    connector.update_stock("100", {"7": 6})
    body = json.loads(fake.sent(shopee_transport.PATH_UPDATE_STOCK)[0].content)
    assert body["stock_list"] == [
        {"model_id": 7, "seller_stock": [{"location_id": "IDZ", "stock": 5}, {"location_id": "IDX", "stock": 0}]},
        {"model_id": 8, "seller_stock": [{"location_id": "IDZ", "stock": 0}, {"location_id": "IDX", "stock": 0}]},
    ]
    assert len(fake.sent(shopee_transport.PATH_WAREHOUSE_DETAIL)) == 1, "locations are read once per connector"


def test_prices_in_a_region_without_decimals_are_whole_and_decimals_are_refused_before_sending():
    fake = FakeShopee(
        {shopee_transport.PATH_UPDATE_PRICE: [ok({"success_list": [{"model_id": 0}], "failure_list": []})]}
    )
    connector = fake_connector(fake, region="ID")
    with pytest.raises(InvalidRequest):
        connector.update_price("100", {"0": Decimal("15000.50")})
    assert fake.requests == []
    assert not connector.update_price("100", {"0": Decimal("15000.00")}).failed
    assert json.loads(fake.requests[0].content)["price_list"] == [{"model_id": 0, "original_price": 15000}]
    assert not fake_connector(fake, region="SG").update_price("100", {"0": Decimal("15.50")}).failed


def test_region_rules_are_pure_functions():
    assert [shopee_rules.price_decimals(r) for r in ("SG", "my", "BR", "MX", "PL", "ES", "AR")] == [2] * 7
    assert [shopee_rules.price_decimals(r) for r in ("ID", "VN", "TH", "TW", "PH", "CL", "CO")] == [0] * 7
    assert shopee_rules.price_decimals("") == 2
    ratios = {
        r: shopee_rules.variation_price_ratio(r)
        for r in ("ID", "MY", "SG", "VN", "TW", "TH", "PH", "MX", "BR", "CL", "CO")
    }
    assert ratios == {
        "ID": 7, "MY": 7, "SG": 5, "VN": 5, "TW": 5, "TH": 5, "PH": 5, "MX": 5, "BR": 4, "CL": 9, "CO": 9,
    }  # fmt: skip
    assert isinstance(ratios["ID"], Decimal)
    assert shopee_rules.variation_price_ratio("PL") is None


def test_variation_prices_beyond_the_region_ratio_are_refused_before_sending():
    fake = FakeShopee({})
    skus = (
        SkuDraft(seller_sku="A", price=Decimal("10.00"), stock=1, attributes={"Size": "S"}),
        SkuDraft(seller_sku="B", price=Decimal("50.01"), stock=1, attributes={"Size": "M"}),
    )
    with pytest.raises(InvalidRequest) as caught:
        fake_connector(fake, region="SG").create_listing(draft("ratio", skus))
    assert "5" in str(caught.value)
    assert fake.requests == []


def test_extended_description_is_read_from_its_text_fields():
    item = {
        "item_id": 9,
        "item_name": "Mug",
        "item_status": "NORMAL",
        "description": "",
        "description_type": "extended",
        "description_info": {
            "extended_description": {
                "field_list": [
                    {"field_type": "text", "text": "First part"},
                    {"field_type": "image", "image_info": {"image_id": "x"}},
                    {"field_type": "text", "text": "Second part"},
                ]
            }
        },
        "update_time": 1700000000,
    }
    fake = FakeShopee({shopee_transport.PATH_ITEM_BASE_INFO: [ok({"item_list": [item]})]})
    (listing,) = fake_connector(fake).get_listings(["9"])
    assert listing.description == "First part\nSecond part"


def test_partial_cancellation_keeps_the_purchased_quantity_and_reports_the_cancelled_units():
    line = {"item_id": 1, "model_id": 2, "model_quantity_purchased": 5, "active_qty": 3, "cancelled_qty": 2}
    order = {"order_sn": "X1", "order_status": "READY_TO_SHIP", "update_time": 1700000000, "item_list": [line]}
    fake = FakeShopee({shopee_transport.PATH_ORDER_DETAIL: [ok({"order_list": [order]})]})
    ((only,),) = [o.lines for o in fake_connector(fake).get_orders(["X1"])]
    assert (only.quantity, only.cancelled_quantity) == (5, 2)


def test_unknown_order_never_stops_the_batch():
    not_found = refusal("error_not_found", "Wrong parameters, detail: the order is not found.")

    class Orders(FakeShopee):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            wanted = request.url.params["order_sn_list"].split(",")
            known = [{"order_sn": sn, "order_status": "UNPAID", "update_time": 1} for sn in wanted if sn != "GHOST"]
            answer = not_found if "GHOST" in wanted else ok({"order_list": known})
            return httpx.Response(200, content=json.dumps(answer).encode())

    fake = Orders({})
    ids = [f"O{n}" for n in range(7)] + ["GHOST"]
    assert [o.order_id for o in fake_connector(fake).get_orders(ids)] == ids[:-1]


def test_changed_orders_are_listed_in_windows_of_at_most_15_days_by_update_time():
    fake = FakeShopee(
        {
            shopee_transport.PATH_ORDER_LIST: [
                ok({"more": False, "next_cursor": "", "order_list": [{"order_sn": "A"}]})
            ],
            shopee_transport.PATH_ORDER_DETAIL: [
                ok({"order_list": [{"order_sn": "A", "order_status": "UNPAID", "update_time": 5}]})
            ],
        }
    )
    since = datetime(2024, 1, 1, tzinfo=UTC)
    until = since + timedelta(days=40)
    orders = list(fake_connector(fake).list_changed_orders(since, until))
    assert [o.order_id for o in orders] == ["A"], "an order seen in several windows is read once"
    windows = [
        (int(r.url.params["time_from"]), int(r.url.params["time_to"]))
        for r in fake.sent(shopee_transport.PATH_ORDER_LIST)
    ]
    assert len(windows) == 3
    assert windows[0][0] == int(since.timestamp()) and windows[-1][1] == int(until.timestamp())
    assert all(end - start <= 15 * 86400 for start, end in windows)
    assert all(later[0] == earlier[1] + 1 for earlier, later in pairwise(windows))
    assert {r.url.params["time_range_field"] for r in fake.sent(shopee_transport.PATH_ORDER_LIST)} == {"update_time"}
    assert {r.url.params["page_size"] for r in fake.sent(shopee_transport.PATH_ORDER_LIST)} == {"100"}


def test_push_codes_are_registered_one_by_one_and_a_refusal_does_not_stop_the_others():
    refused = refusal("error_param", "push code 22 is not supported")
    fake = FakeShopee({shopee_transport.PATH_PUSH_CONFIG: [ok(), ok(), ok(), ok(), ok(), refused]})
    subscriptions = fake_connector(fake).register_webhook("https://syncstore.example/hooks/shopee")
    assert [(s.topic, s.ok) for s in subscriptions] == [
        ("1", True), ("2", True), ("3", True), ("8", True), ("12", True), ("22", False),
    ]  # fmt: skip
    assert "not supported" in subscriptions[-1].message
    assert [json.loads(r.content)["set_push_config_on"] for r in fake.requests] == [[1], [2], [3], [8], [12], [22]]


def test_promotion_stock_push_code_8_re_reads_the_item_and_never_moves_the_ledger():
    body = json.dumps({"code": 8, "shop_id": SHOP, "timestamp": 1700000000, "data": {"item_id": 42}}).encode()
    event = shopee_webhooks.parse_push(body)
    assert (event.kind, event.item_id, event.order_id) == (EventKind.STOCK_CHANGE, "42", None)
