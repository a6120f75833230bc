# TikTok Shop simulator: refuses what the platform refuses, models its documented behaviour, pushes signed webhooks.
"""The simulator on its own, driven with hand-built raw HTTP requests signed by this test's OWN signer.

Nothing here comes from `connectors.tiktokshop`: the signer and the webhook check below are written from
reference/marketplaces.md, so the simulator is checked against the reference, not against the connector.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.simulator.common import FaultPlan, ServerThread, SimClock, free_port
from connectors.tiktokshop.simulator.server import TikTokShopSimulator

APP_KEY = "sim-test-key"
APP_SECRET = "sim-test-secret-5a4b3c"
SERVICE_ID = "svc-9"
SHOP_ID = "7494000000000000077"
ORDERS = "/order/202309/orders"
ORDER_SEARCH = "/order/202309/orders/search"
SEARCH = "/product/202309/products/search"
PRODUCTS = "/product/202309/products"
SHOPS = "/authorization/202309/shops"
WEBHOOKS = "/event/202309/webhooks"
WAREHOUSES = "/logistics/202309/warehouses"
TOKEN_GET = "/api/v2/token/get"
TOKEN_REFRESH = "/api/v2/token/refresh"


def own_sign(secret: str, path: str, query: Mapping[str, str], body: bytes | None) -> str:
    """The reference's request signature, written here independently."""
    params = "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
    message = f"{secret}{path}{params}".encode() + (body or b"") + secret.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def own_webhook_check(body: bytes, authorization: str | None) -> bool:
    expected = hmac.new(APP_SECRET.encode(), APP_KEY.encode() + body, hashlib.sha256).hexdigest()
    return authorization == expected


def product_path(product_id: str, action: str = "") -> str:
    return f"{PRODUCTS}/{product_id}" + (f"/{action}" if action else "")


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def sim(clock: SimClock) -> Iterator[TikTokShopSimulator]:
    simulator = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID, clock=clock)
    simulator.start()
    yield simulator
    simulator.stop()


class Raw:
    """A hand-built TikTok Shop request, every part of which a test may spoil."""

    def __init__(self, sim: TikTokShopSimulator, shop_id: str = SHOP_ID, **shop: Any) -> None:
        self.sim = sim
        self.cipher = sim.add_shop(shop_id, "Raw Shop", **shop)
        self.access, self.refresh = sim.issue_tokens(shop_id)
        sim.add_image(b"\xff\xd8\xff\xe0" + bytes(16), uri="tos-img-1")  # the image create_body names
        self.client = httpx.Client()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        cipher: bool = True,
        secret: str = APP_SECRET,
        skew: float = 0,
        token: str | None = "default",  # noqa: S107 - a marker, not a password
        raw_body: bytes | None = None,
        signed_body: bytes | None = None,
        drop: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> httpx.Response:
        content = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        moment = time.time() + skew  # whole seconds are sent: round away from now so the skew is at least |skew|
        stamp = math.ceil(moment) if skew > 0 else math.floor(moment)
        params = {"app_key": APP_KEY, "timestamp": str(stamp), **(query or {})}
        if cipher:
            params["shop_cipher"] = self.cipher
        params["sign"] = own_sign(secret, path, params, signed_body if signed_body is not None else content)
        for name in drop:
            params.pop(name, None)
        sent_headers = {"content-type": "application/json", **(headers or {})}
        if token is not None:
            sent_headers["x-tts-access-token"] = self.access if token == "default" else token
        return self.client.request(
            method, self.sim.url + path, params=params, content=content, headers=sent_headers, timeout=timeout
        )


@pytest.fixture
def raw(sim: TikTokShopSimulator) -> Iterator[Raw]:
    client = Raw(sim)
    yield client
    client.client.close()


def envelope(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body = response.json()
    assert body["request_id"]
    return body["code"], body["message"], body.get("data") or {}


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self.status = status

        async def hook(request: Request) -> Response:
            self.received.append((await request.body(), request.headers.get("authorization")))
            return Response(status_code=self.status)

        self.server = ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])).start()
        self.url = self.server.url + "/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.stop()


def subscribe(raw: Raw, url: str, *types: str) -> None:
    for event_type in types:
        assert envelope(raw.call("PUT", WEBHOOKS, {"address": url, "event_type": event_type}))[0] == 0


def stock_body(sku_id: str, quantity: int, warehouse: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"quantity": quantity} | ({"warehouse_id": warehouse} if warehouse else {})
    return {"skus": [{"id": sku_id, "inventory": [row]}]}


def create_body(title: str = "A soft linen shirt, long sleeves", **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "description": "<p>d</p>",
        "category_id": "600001",
        "main_images": [{"uri": "tos-img-1"}],
        "package_weight": {"value": "1", "unit": "KILOGRAM"},
        "skus": [{"seller_sku": "X", "price": {"amount": "1.00", "currency": "USD"}, "inventory": [{"quantity": 1}]}],
    } | extra


# --- request verification -------------------------------------------------------------------------


def test_a_correct_request_succeeds(raw: Raw) -> None:
    response = raw.call("GET", ORDERS, query={"ids": "1"})
    assert response.status_code == 200
    assert envelope(response) == (0, "Success", {"orders": []})


@pytest.mark.parametrize(
    ("spoil", "code", "words"),
    [
        ({"drop": ("app_key",)}, 36009004, "app_key"),
        ({"drop": ("sign",)}, 36009004, "signature"),
        ({"drop": ("timestamp",)}, 36009004, "timestamp"),
        ({"skew": -301}, 36009004, "expired"),
        ({"skew": 31}, 36009004, "future"),
        ({"secret": "wrong-secret"}, 106001, "sign"),
        ({"token": None}, 36009004, "x-tts-access-token"),
        ({"token": "TTP_at_unknown"}, 105001, "invalid"),
        ({"cipher": False}, 106013, "shop_cipher"),
        ({"query": {"page_token": ""}}, 106001, "sign"),  # empty-valued params are refused under both readings
    ],
)
def test_refusals_carry_the_platform_codes(raw: Raw, spoil: dict[str, Any], code: int, words: str) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    got, message, _ = envelope(raw.call("GET", product_path(product_id), **spoil))
    assert got == code and words in message


def test_invalid_token_code_is_seedable_per_shop(raw: Raw) -> None:
    raw.sim.set_shop_options(SHOP_ID, invalid_token_code=101000)
    assert envelope(raw.call("GET", ORDERS, query={"ids": "1"}, token="TTP_at_unknown"))[0] == 101000


def test_expired_access_token_on_the_sim_clock(raw: Raw, clock: SimClock) -> None:
    short, _ = raw.sim.issue_tokens(SHOP_ID, access_ttl_s=3600)
    assert envelope(raw.call("GET", ORDERS, query={"ids": "1"}, token=short))[0] == 0
    clock.advance(3601)
    response = raw.call("GET", ORDERS, query={"ids": "1"}, token=short)
    assert response.status_code == 401 and envelope(response)[0] == 105002


def test_wrong_method_is_36009010_and_unknown_path_36009009(raw: Raw) -> None:
    wrong = raw.call("GET", SEARCH, query={"page_size": "10"})
    assert envelope(wrong)[0] == 36009010 and "method" in envelope(wrong)[1].lower()
    assert envelope(raw.call("GET", "/product/202309/nothing/here/at/all"))[0] == 36009009


def test_shop_cipher_must_be_absent_on_authorization_paths(raw: Raw) -> None:
    code, message, _ = envelope(raw.call("GET", SHOPS))
    assert code == 36009004 and "shop_cipher" in message
    code, _, data = envelope(raw.call("GET", SHOPS, cipher=False))
    assert code == 0 and data["shops"][0]["cipher"] == raw.cipher


def test_a_cipher_of_another_seller_is_refused(raw: Raw) -> None:
    raw.cipher = raw.sim.add_shop("7494000000000000078", "Other")
    assert envelope(raw.call("GET", ORDERS, query={"ids": "1"}))[0] == 36009004


def test_one_token_pair_serves_every_shop_of_the_seller(sim: TikTokShopSimulator) -> None:
    first = sim.add_shop("7001", "US shop", seller_id="S1")
    second = sim.add_shop("7002", "UK shop", seller_id="S1", region="GB", currency="GBP", seller_type="CROSS_BORDER")
    raw = Raw(sim, "7003", seller_id="S1")
    _, _, data = envelope(raw.call("GET", SHOPS, cipher=False))
    shops = {s["id"]: s for s in data["shops"]}
    assert set(shops) == {"7001", "7002", "7003"}
    assert shops["7002"]["seller_type"] == "CROSS_BORDER" and shops["7002"]["region"] == "GB"
    assert all(set(s) >= {"id", "name", "region", "seller_type", "cipher", "code"} for s in shops.values())
    for cipher in (first, second):
        raw.cipher = cipher
        assert envelope(raw.call("GET", ORDERS, query={"ids": "1"}))[0] == 0


def test_the_raw_body_bytes_are_signed(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    compact = json.dumps(stock_body(sku_id, 3), separators=(",", ":")).encode()
    spaced = json.dumps(json.loads(compact), indent=2).encode()
    path = product_path(product_id, "inventory/update")
    assert envelope(raw.call("POST", path, raw_body=spaced, signed_body=compact))[0] == 106001
    assert raw.sim.product(product_id).skus[0].available == 10  # nothing applied
    assert envelope(raw.call("POST", path, raw_body=spaced))[0] == 0
    assert raw.sim.product(product_id).skus[0].available == 3


def test_body_must_be_json_with_json_content_type(raw: Raw) -> None:
    query = {"page_size": "10"}
    assert envelope(raw.call("POST", SEARCH, query=query, raw_body=b"{nope"))[0] == 36009022
    response = raw.call("POST", SEARCH, {"status": "ALL"}, query=query, headers={"content-type": "text/plain"})
    assert envelope(response)[0] == 36009022


# --- products: limits, search, prices, warehouses, audits ------------------------------------------


@pytest.mark.parametrize("page_size", ["0", "101", "abc"])
def test_page_size_limit(raw: Raw, page_size: str) -> None:
    code, message, _ = envelope(raw.call("POST", SEARCH, {}, query={"page_size": page_size}))
    assert code == 98001004 and "'page_size'" in message


def test_search_serves_10000_then_12052180_with_a_capped_total(raw: Raw) -> None:
    raw.sim.add_many_products(SHOP_ID, 10_050, (1_700_000_000, 1_700_003_600), seed=9)
    body = {"status": "ALL", "update_time_ge": 1_700_000_000, "update_time_le": 1_700_003_600}
    seen: list[str] = []
    token = ""
    while True:
        query = {"page_size": "100", **({"page_token": token} if token else {})}
        response = raw.call("POST", SEARCH, body, query=query)
        code, message, data = envelope(response)
        if code != 0:
            break
        assert data["total_count"] == 10_000  # capped: the true 10,050 is hidden
        seen.extend(product["id"] for product in data["products"])
        token = data["next_page_token"]
        assert token, "more results exist, so a next page token is handed out"
    assert code == 12052180 and "10000" in message and response.status_code == 200
    assert len(seen) == len(set(seen)) == 10_000
    update_times = [raw.sim.product(product_id).update_time for product_id in seen]
    assert update_times == sorted(update_times)


def test_page_tokens_are_opaque_and_bound_to_their_query(raw: Raw) -> None:
    raw.sim.add_many_products(SHOP_ID, 5, (1_700_000_000, 1_700_000_100))
    body = {"update_time_ge": 1_700_000_000}
    _, _, first = envelope(raw.call("POST", SEARCH, body, query={"page_size": "2"}))
    token = first["next_page_token"]
    assert token and "2" not in token[:1] and len(token) >= 20
    other = {"update_time_ge": 1_700_000_001}
    assert envelope(raw.call("POST", SEARCH, other, query={"page_size": "2", "page_token": token}))[0] == 98001004
    assert envelope(raw.call("POST", SEARCH, body, query={"page_size": "2", "page_token": "eyJvIjogNH0"}))[0] != 0
    _, _, second = envelope(raw.call("POST", SEARCH, body, query={"page_size": "2", "page_token": token}))
    assert {p["id"] for p in second["products"]}.isdisjoint({p["id"] for p in first["products"]})


def test_search_filters_by_status_and_window(raw: Raw) -> None:
    active = raw.sim.add_product(SHOP_ID, update_time=1_700_000_010)
    inactive = raw.sim.add_product(SHOP_ID, update_time=1_700_000_020, status="SELLER_DEACTIVATED")
    raw.sim.add_product(SHOP_ID, update_time=1_700_000_030)
    body = {"update_time_ge": 1_700_000_010, "update_time_le": 1_700_000_020}
    query = {"page_size": "100"}
    _, _, everything = envelope(raw.call("POST", SEARCH, body, query=query))
    assert [p["id"] for p in everything["products"]] == [active, inactive]
    _, _, deactivated = envelope(raw.call("POST", SEARCH, body | {"status": "SELLER_DEACTIVATED"}, query=query))
    assert [p["id"] for p in deactivated["products"]] == [inactive]


def test_product_errors(raw: Raw) -> None:
    other = raw.sim.add_shop("7494000000000000099", "Other")
    assert other
    foreign = raw.sim.add_product("7494000000000000099")
    assert envelope(raw.call("GET", product_path("123")))[0] == 12019150
    response = raw.call("POST", product_path("123", "inventory/update"), stock_body("1", 1))
    assert envelope(response)[0] == 12052032 and response.status_code == 200  # business errors come with HTTP 200
    assert envelope(raw.call("GET", product_path(foreign)))[0] == 12052034


def test_cross_border_price_writes_the_tax_exclusive_price(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim, region="GB", currency="GBP", seller_type="CROSS_BORDER", tax_rate="0.20")
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "S", "price": "10.00", "stock": 4}])
    sku_id = sim.sku_ids(product_id)[0]
    _, _, detail = envelope(raw.call("GET", product_path(product_id)))
    assert detail["skus"][0]["price"] == {"currency": "GBP", "tax_exclusive_price": "10.00", "sale_price": "12.00"}
    body = {"skus": [{"id": sku_id, "price": {"amount": "20.00", "currency": "GBP"}}]}
    assert envelope(raw.call("POST", product_path(product_id, "prices/update"), body))[0] == 0
    _, _, detail = envelope(raw.call("GET", product_path(product_id)))
    assert detail["skus"][0]["price"]["tax_exclusive_price"] == "20.00"
    assert detail["skus"][0]["price"]["sale_price"] == "24.00"


def test_price_rules_and_promotion_lock(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    path = product_path(product_id, "prices/update")
    as_float = {"skus": [{"id": sku_id, "price": {"amount": 9.99, "currency": "USD"}}]}
    assert envelope(raw.call("POST", path, as_float))[0] == 98001004
    wrong_currency = {"skus": [{"id": sku_id, "price": {"amount": "9.99", "currency": "EUR"}}]}
    assert envelope(raw.call("POST", path, wrong_currency))[0] == 12052084
    raw.sim.lock_price(product_id, sku_id)
    good = {"skus": [{"id": sku_id, "price": {"amount": "9.99", "currency": "USD"}}]}
    code, message, _ = envelope(raw.call("POST", path, good))
    assert code == 12019045 and "locked" in message
    assert raw.sim.product(product_id).skus[0].price == "10.00"


def test_several_warehouses_need_warehouse_id(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim, warehouses=2)
    _, _, listed = envelope(raw.call("GET", WAREHOUSES))
    sales = [w for w in listed["warehouses"] if w["type"] == "SALES_WAREHOUSE"]
    assert len(sales) == 2 and sum(w["is_default"] for w in sales) == 1
    assert any(w["type"] == "RETURN_WAREHOUSE" for w in listed["warehouses"])
    assert all(set(w) >= {"id", "name", "type", "is_default", "effect_status"} for w in listed["warehouses"])
    first, second = sales[0]["id"], sales[1]["id"]
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "W", "inventory": {first: 3, second: 4}}])
    sku_id = sim.sku_ids(product_id)[0]
    path = product_path(product_id, "inventory/update")
    code, message, _ = envelope(raw.call("POST", path, stock_body(sku_id, 9)))
    assert code == 12019028 and "Multiple warehouses" in message
    assert envelope(raw.call("POST", path, stock_body(sku_id, 9, "404")))[0] == 12052097
    assert envelope(raw.call("POST", path, stock_body(sku_id, 9, second)))[0] == 0
    assert sim.product(product_id).skus[0].inventory == {first: 3, second: 9}


def test_quantity_bounds(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    path = product_path(product_id, "inventory/update")
    for bad in (99_999, -1, 1.5, "3", True):
        assert envelope(raw.call("POST", path, stock_body(sku_id, bad)))[0] == 12019024  # type: ignore[arg-type]
    assert raw.sim.product(product_id).skus[0].available == 10
    assert envelope(raw.call("POST", path, stock_body(sku_id, 99_998)))[0] == 0


def test_stock_updates_only_on_live_products(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID, status="SELLER_DEACTIVATED")
    sku_id = raw.sim.sku_ids(product_id)[0]
    code, message, _ = envelope(raw.call("POST", product_path(product_id, "inventory/update"), stock_body(sku_id, 1)))
    assert code == 12052901 and "status" in message
    assert raw.sim.product(product_id).skus[0].available == 10


def test_title_minimum_outside_the_us_and_uk(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim, region="MY", currency="USD")
    code, message, _ = envelope(raw.call("POST", PRODUCTS, create_body(title="Short title")))
    assert code == 98001004 and "'title'" in message
    assert envelope(raw.call("POST", PRODUCTS, create_body()))[0] == 0
    product_id = sim.add_product(SHOP_ID)
    edit = raw.call("POST", product_path(product_id, "partial_edit"), {"title": "Too short"})
    assert envelope(edit)[0] == 98001004


def test_asynchronous_audit_pass_and_fail(sim: TikTokShopSimulator, clock: SimClock, receiver: Receiver) -> None:
    raw = Raw(sim, audit_delay_s=600)
    subscribe(raw, receiver.url, "PRODUCT_STATUS_CHANGE")
    _, _, created = envelope(raw.call("POST", PRODUCTS, create_body()))
    product_id = created["product_id"]
    _, _, detail = envelope(raw.call("GET", product_path(product_id)))
    assert detail["status"] == "PENDING"
    sku_id = detail["skus"][0]["id"]
    blocked = raw.call("POST", product_path(product_id, "inventory/update"), stock_body(sku_id, 5))
    assert envelope(blocked)[0] == 12052901
    clock.advance(601)
    sim.pump()
    _, _, detail = envelope(raw.call("GET", product_path(product_id)))
    assert detail["status"] == "ACTIVATE" and "audit_failed_reasons" not in detail
    # an edit is held: reads show the old title until the audit ends; this one fails with a reason
    sim.fail_next_audit("Prohibited words in the title", product_id=product_id)
    new_title = "A brand new title that is long enough"
    assert envelope(raw.call("POST", product_path(product_id, "partial_edit"), {"title": new_title}))[0] == 0
    _, _, during = envelope(raw.call("GET", product_path(product_id)))
    assert during["status"] == "PENDING" and during["title"] == create_body()["title"]
    clock.advance(601)
    sim.pump()
    _, _, failed = envelope(raw.call("GET", product_path(product_id)))
    assert failed["status"] == "FAILED" and failed["title"] == create_body()["title"]
    assert failed["audit_failed_reasons"][0]["reasons"] == ["Prohibited words in the title"]
    events = receiver.events()
    assert [(e["type"], e["data"]["status"]) for e in events] == [(5, "ACTIVATE"), (5, "FAILED")]
    assert all(own_webhook_check(body, auth) for body, auth in receiver.received)


def test_at_most_20_product_ids(raw: Raw) -> None:
    ids = [raw.sim.add_product(SHOP_ID) for _ in range(21)]
    for path, method in ((f"{PRODUCTS}/activate", "POST"), (f"{PRODUCTS}/deactivate", "POST"), (PRODUCTS, "DELETE")):
        assert envelope(raw.call(method, path, {"product_ids": ids}))[0] != 0
    assert envelope(raw.call("POST", f"{PRODUCTS}/deactivate", {"product_ids": ids[:20]}))[0] == 0


def test_create_honours_the_idempotency_key(raw: Raw) -> None:
    body = create_body(idempotency_key="k-1")
    first = envelope(raw.call("POST", PRODUCTS, body))[2]
    second = envelope(raw.call("POST", PRODUCTS, body))[2]
    assert first["product_id"] == second["product_id"] and len(raw.sim.state.products) == 1


# --- orders ---------------------------------------------------------------------------------------


def test_orders_one_line_per_unit_partial_cancellation_gives_stock_back(raw: Raw, receiver: Receiver) -> None:
    sim = raw.sim
    subscribe(raw, receiver.url, "ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE")
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "CAP", "stock": 5}])
    sku_id = sim.sku_ids(product_id)[0]
    sku = sim.product(product_id).skus[0]
    order_id = sim.place_order(SHOP_ID, product_id, sku_id, 3)
    assert sku.available == 2
    _, _, got = envelope(raw.call("GET", ORDERS, query={"ids": order_id}))
    lines = got["orders"][0]["line_items"]
    assert len(lines) == 3 and len({line["id"] for line in lines}) == 3
    assert all("quantity" not in line and line["sku_id"] == sku_id and line["seller_sku"] == "CAP" for line in lines)
    sim.cancel_line(order_id, lines[0]["id"])
    assert sku.available == 3
    _, _, got = envelope(raw.call("GET", ORDERS, query={"ids": order_id}))
    statuses = [line["display_status"] for line in got["orders"][0]["line_items"]]
    assert statuses.count("CANCELLED") == 1 and got["orders"][0]["status"] == "AWAITING_SHIPMENT"
    sim.set_order_status(order_id, "CANCELLED")
    assert sku.available == 5  # the two remaining units, not the cancelled one again
    types = [e["type"] for e in receiver.events()]
    assert types == [1, 11, 1, 11, 1]
    assert all(own_webhook_check(body, auth) for body, auth in receiver.received)
    assert set(receiver.events()[0]) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}


def test_order_search_by_update_time_with_paging(raw: Raw, clock: SimClock) -> None:
    sim = raw.sim
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "O", "stock": 50}])
    sku_id = sim.sku_ids(product_id)[0]
    start = sim.now()
    ids = []
    for _ in range(5):
        ids.append(sim.place_order(SHOP_ID, product_id, sku_id))
        clock.advance(10)
    body = {"update_time_ge": start, "update_time_lt": start + 30}
    _, _, first = envelope(raw.call("POST", ORDER_SEARCH, body, query={"page_size": "2"}))
    _, _, second = envelope(
        raw.call("POST", ORDER_SEARCH, body, query={"page_size": "2", "page_token": first["next_page_token"]})
    )
    found = [o["id"] for o in first["orders"] + second["orders"]]
    assert found == ids[:3] and second["next_page_token"] == ""
    assert envelope(raw.call("POST", ORDER_SEARCH, body, query={"page_size": "101"}))[0] == 98001004
    assert envelope(raw.call("GET", ORDERS, query={"ids": ",".join(str(i) for i in range(51))}))[0] == 98001004


# --- webhooks -------------------------------------------------------------------------------------


def test_event_types_register_one_at_a_time(sim: TikTokShopSimulator) -> None:
    raw = Raw(sim, refused_event_types=["INVENTORY_CHANGED"])
    url = "http://127.0.0.1:9/hook"
    assert envelope(raw.call("PUT", WEBHOOKS, {"address": url, "event_type": "NOPE"}))[0] == 98001004
    assert envelope(raw.call("PUT", WEBHOOKS, {"address": url, "event_type": "INVENTORY_CHANGED"}))[0] == 98001004
    subscribe(raw, url, "ORDER_STATUS_CHANGE", "PRODUCT_STATUS_CHANGE")
    _, _, listed = envelope(raw.call("GET", WEBHOOKS))
    assert {row["event_type"] for row in listed["webhooks"]} == {"ORDER_STATUS_CHANGE", "PRODUCT_STATUS_CHANGE"}


def test_failed_pushes_are_retried_on_schedule_with_the_same_body_then_dropped(raw: Raw, clock: SimClock) -> None:
    hook = Receiver(status=500)
    try:
        subscribe(raw, hook.url, "ORDER_STATUS_CHANGE")
        product_id = raw.sim.add_product(SHOP_ID)
        raw.sim.place_order(SHOP_ID, product_id, raw.sim.sku_ids(product_id)[0])
        assert len(hook.received) == 1
        for step, total in ((119, 1), (2, 2), (1_800, 3), (9_000, 4), (32_400, 5), (86_400, 5)):
            clock.advance(step)
            raw.sim.pump()
            assert len(hook.received) == total
        assert len({body for body, _ in hook.received}) == 1  # the same body every time
        assert raw.sim.sender.pending == [] and len(raw.sim.sender.given_up) == 1
    finally:
        hook.server.stop()


def test_revoking_a_shop_kills_its_requests_and_pushes_type_6(raw: Raw, receiver: Receiver) -> None:
    subscribe(raw, receiver.url, "SELLER_DEAUTHORIZATION")
    raw.sim.revoke_shop(SHOP_ID)
    assert envelope(raw.call("GET", ORDERS, query={"ids": "1"}))[0] == 105001
    assert receiver.events()[0]["type"] == 6


# --- authorization ----------------------------------------------------------------------------------


def test_authorize_page_without_auto_approve(sim: TikTokShopSimulator) -> None:
    sim.add_shop(SHOP_ID, "Page <Shop>")
    sim.auto_approve, sim.redirect_url = False, "http://127.0.0.1:9/cb?x=1"
    page = httpx.get(f"{sim.url}/open/authorize", params={"service_id": SERVICE_ID, "state": "s1"})
    assert page.status_code == 200 and "Page &lt;Shop&gt;" in page.text
    approve = httpx.get(
        f"{sim.url}/open/authorize/approve",
        params={"service_id": SERVICE_ID, "state": "s1", "shop_id": SHOP_ID},
        follow_redirects=False,
    )
    location = httpx.URL(approve.headers["location"])
    assert location.params["x"] == "1" and location.params["state"] == "s1" and location.params["code"]


def test_token_endpoints(sim: TikTokShopSimulator) -> None:
    sim.add_shop(SHOP_ID, "Token Shop")
    page = httpx.get(f"{sim.url}/open/authorize", params={"service_id": SERVICE_ID, "state": "s"})
    code = page.text.split("<code>")[1].split("</code>")[0]
    base = {"app_key": APP_KEY, "app_secret": APP_SECRET}
    grant = {"auth_code": code, "grant_type": "authorized_code"}
    wrong = httpx.get(f"{sim.url}{TOKEN_GET}", params=base | {"app_secret": "x"} | grant)
    assert wrong.json()["code"] == 36009004
    now = sim.now()
    got = httpx.get(f"{sim.url}{TOKEN_GET}", params=base | grant).json()
    assert got["code"] == 0 and abs(got["data"]["access_token_expire_in"] - (now + 7 * 86_400)) < 5
    assert httpx.get(f"{sim.url}{TOKEN_GET}", params=base | grant).json()["code"] == 36004004
    refresh = {"refresh_token": got["data"]["refresh_token"], "grant_type": "refresh_token"}
    refreshed = httpx.get(f"{sim.url}{TOKEN_REFRESH}", params=base | refresh).json()
    assert refreshed["code"] == 0 and refreshed["data"]["refresh_token"] != refresh["refresh_token"]
    assert httpx.get(f"{sim.url}{TOKEN_REFRESH}", params=base | refresh).json()["code"] == 36004005


# --- faults -----------------------------------------------------------------------------------------


def test_fault_throttle_and_quota_are_36009002(raw: Raw) -> None:
    raw.sim.faults = FaultPlan(error_rate=1.0, server_error_weight=0, timeout_weight=0)
    response = raw.call("GET", ORDERS, query={"ids": "1"})
    assert response.status_code == 429 and envelope(response)[0] == 36009002
    raw.sim.faults = FaultPlan()
    raw.sim.daily_quota = 1
    raw.call("GET", ORDERS, query={"ids": "1"})
    response = raw.call("GET", ORDERS, query={"ids": "1"})
    assert response.status_code == 429 and envelope(response)[0] == 36009002  # never 36009010


def test_fault_server_error_applies_nothing(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    raw.sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
    response = raw.call("POST", product_path(product_id, "inventory/update"), stock_body(sku_id, 1))
    assert response.status_code == 500 and envelope(response)[0] == 36009003
    assert raw.sim.product(product_id).skus[0].available == 10


def test_request_counter_per_path(raw: Raw) -> None:
    raw.sim.reset_counts()
    raw.call("GET", ORDERS, query={"ids": "1"})
    raw.call("GET", ORDERS, query={"ids": "1"}, secret="bad")
    assert raw.sim.requests(ORDERS) == 2 and raw.sim.requests(SEARCH) == 0


# --- persistence and standalone run ---------------------------------------------------------------


def test_state_survives_save_and_load(tmp_path: Path) -> None:
    first = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID)
    first.start()
    raw = Raw(first, warehouses=2, seller_type="CROSS_BORDER", region="GB", currency="GBP")
    product_id = first.add_product(SHOP_ID, title="Persisted")
    order_id = first.place_order(SHOP_ID, product_id, first.sku_ids(product_id)[0], 2)
    state_file = tmp_path / "tts.json"
    first.state_file = state_file
    first.stop()  # saves

    second = TikTokShopSimulator.load(state_file)
    second.start()
    try:
        raw.sim = second
        _, _, detail = envelope(raw.call("GET", product_path(product_id)))
        assert detail["title"] == "Persisted" and detail["skus"][0]["inventory"][0]["quantity"] == 8
        _, _, orders = envelope(raw.call("GET", ORDERS, query={"ids": order_id}))
        assert orders["orders"][0]["id"] == order_id
        assert second.state.shops[SHOP_ID].options.seller_type == "CROSS_BORDER"
        assert len(second.warehouses(SHOP_ID)) == 3
    finally:
        second.stop()
        raw.client.close()


def test_run_serves_until_interrupted_and_saves_state(tmp_path: Path) -> None:
    port, state_file = free_port(), tmp_path / "state.json"
    code = (
        "from pathlib import Path; from connectors.tiktokshop.simulator.server import run; "
        f"run({port}, Path({str(state_file)!r}))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[3], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/product/202309/products/1", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert answer.json()["code"] == 36009004  # no app_key: refused like the platform would
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    saved = json.loads(state_file.read_text())
    assert saved["app_key"] == "tts-demo-app-key" and len(saved["shops"]) == 1
