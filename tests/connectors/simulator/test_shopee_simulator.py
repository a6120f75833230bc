# Shopee simulator tests: raw signed HTTP on loopback, checking it answers as Shopee Open Platform v2 does.
"""The simulator on its own, driven by hand-built requests (signed here with hmac directly, not through
the connector), so what it accepts and refuses is pinned independently of the connector."""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import FaultPlan, ServerThread, SimClock, free_port

PARTNER_ID = 2001887
PARTNER_KEY = "simulator-test-partner-key"
SHOP, OTHER_SHOP = 501, 502
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def clock():
    """The simulator's clock; tests move it on with `advance` (requests are still signed with wall time)."""
    return SimClock()


@pytest.fixture
def sim(clock):
    simulator = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, clock=clock)
    simulator.add_shop(SHOP, "Main shop")
    simulator.add_shop(OTHER_SHOP, "Other shop")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def tokens(sim):
    return sim.issue_tokens(SHOP)


def call(
    sim: ShopeeSimulator,
    method: str,
    path: str,
    *,
    token: str | None = None,
    shop_id: int | None = SHOP,
    timestamp: int | None = None,
    key: str = PARTNER_KEY,
    partner_id: int = PARTNER_ID,
    params: dict[str, Any] | list[tuple[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    sign: str | None = None,
    timeout: float = 5.0,
) -> httpx.Response:
    """One request signed as Shopee documents it: HMAC-SHA256(key, partner_id + path + timestamp [+ token + shop])."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"{partner_id}{path}{timestamp}" + (f"{token}{shop_id}" if token is not None else "")
    query: list[tuple[str, Any]] = [
        ("partner_id", partner_id),
        ("timestamp", timestamp),
        ("sign", sign if sign is not None else hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()),
    ]
    if token is not None:
        query += [("access_token", token), ("shop_id", shop_id or 0)]
    query += list(params.items()) if isinstance(params, dict) else list(params or [])
    return httpx.request(method, sim.url + path, params=query, json=body, timeout=timeout)


def shop_call(sim, tokens, method, path, **kwargs) -> httpx.Response:
    return call(sim, method, path, token=tokens[0], **kwargs)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    payload = response.json()
    return response.status_code, payload["error"], payload["message"]


def bare(code: str) -> str:
    """An error code without its module prefix (`product.error_param` -> `error_param`)."""
    return code.rsplit(".", 1)[-1]


BASE_INFO = "/api/v2/product/get_item_base_info"
UPDATE_STOCK = "/api/v2/product/update_stock"
UPDATE_PRICE = "/api/v2/product/update_price"


# --- request verification -------------------------------------------------------------------


def test_a_correct_shop_call_gets_the_documented_envelope(sim, tokens):
    item = sim.add_item(SHOP, name="Mug", price="9.90", stock=4)
    response = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": str(item)})
    payload = response.json()
    assert response.status_code == 200
    assert set(payload) == {"request_id", "error", "message", "warning", "response"}
    assert payload["error"] == "" and payload["request_id"]
    (row,) = payload["response"]["item_list"]
    assert (row["item_id"], row["item_name"], row["has_model"]) == (item, "Mug", False)
    assert row["price_info"] == [{"currency": "MYR", "original_price": 9.9, "current_price": 9.9}]
    assert row["stock_info_v2"]["seller_stock"] == [{"stock": 4}]
    assert row["stock_info_v2"]["summary_info"] == {"total_reserved_stock": 0, "total_available_stock": 4}
    assert (row["weight"], row["description_type"]) == ("0.5", "normal")


def test_unknown_partner_id_is_refused(sim, tokens):
    response = call(sim, "GET", BASE_INFO, token=tokens[0], partner_id=999, params={"item_id_list": "1"})
    assert error_of(response)[:2] == (400, "error_param")


def test_wrong_key_or_tampered_sign_is_error_sign(sim, tokens):
    wrong_key = call(sim, "GET", BASE_INFO, token=tokens[0], key="not-the-key", params={"item_id_list": "1"})
    assert error_of(wrong_key) == (403, "error_sign", "Wrong sign.")
    tampered = call(sim, "GET", BASE_INFO, token=tokens[0], sign="0" * 64, params={"item_id_list": "1"})
    assert error_of(tampered)[1] == "error_sign"
    # A shop call signed like a public call (without token and shop id) is wrong too.
    base = f"{PARTNER_ID}{BASE_INFO}{int(time.time())}"
    public_sign = hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()
    as_public = call(sim, "GET", BASE_INFO, token=tokens[0], sign=public_sign, params={"item_id_list": "1"})
    assert error_of(as_public)[1] == "error_sign"


@pytest.mark.parametrize(("age", "accepted"), [(299, True), (301, False), (-299, True), (-301, False)])
def test_timestamp_must_be_within_5_minutes(sim, tokens, age, accepted):
    # Rounded up, so the request's own second of truncation never pushes 299 s past the window (or -301 s into it).
    signed_at = math.ceil(time.time()) - age
    response = shop_call(sim, tokens, "GET", BASE_INFO, timestamp=signed_at, params={"item_id_list": "1"})
    if accepted:
        assert response.json()["error"] == ""
    else:
        assert error_of(response) == (400, "error_param", "Timestamp is expired.")


def test_access_token_must_belong_to_the_shop_and_be_alive(sim, tokens, clock):
    other_access, _ = sim.issue_tokens(OTHER_SHOP)
    foreign = call(sim, "GET", BASE_INFO, token=other_access, shop_id=SHOP, params={"item_id_list": "1"})
    assert error_of(foreign)[:2] == (403, "invalid_acceess_token")
    unknown = call(sim, "GET", BASE_INFO, token="f" * 32, params={"item_id_list": "1"})
    assert error_of(unknown)[1] == "invalid_acceess_token"
    clock.advance(4 * 3600 + 1)
    expired = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"})
    assert error_of(expired) == (403, "common.error_auth", "Invalid access_token.")
    sim.set_shop_options(SHOP, module_prefixes=False)
    status, error, message = error_of(shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}))
    assert (status, error) == (403, "invalid_acceess_token") and "expired" in message


def test_missing_access_token_on_a_shop_call_is_error_param(sim):
    response = call(sim, "GET", BASE_INFO, params={"item_id_list": "1"})
    assert error_of(response)[1] == "error_param"


def test_revoked_shop_says_so(sim, tokens):
    sim.revoke_shop(SHOP)
    status, error, message = error_of(shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}))
    assert (status, error) == (403, "error_auth") and "revoked" in message


# --- batch limits and business rules --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    [
        ("GET", BASE_INFO, [("item_id_list", i) for i in range(1, 52)], None, "item_id_list"),
        ("GET", BASE_INFO, {"item_id_list": ",".join(map(str, range(1, 52)))}, None, "item_id_list"),
        ("GET", "/api/v2/product/get_item_list", {"page_size": 101, "item_status": "NORMAL"}, None, "page_size"),
        ("GET", "/api/v2/product/get_item_list", {"page_size": 0, "item_status": "NORMAL"}, None, "page_size"),
        ("GET", "/api/v2/product/get_item_list", {"page_size": 10}, None, "item_status"),
        (
            "GET",
            "/api/v2/order/get_order_detail",
            {"order_sn_list": ",".join(f"SN{i}" for i in range(51))},
            None,
            "order_sn_list",
        ),
        ("POST", UPDATE_PRICE, None, {"item_id": "ITEM", "price_list": []}, "price_list"),
        (
            "POST",
            UPDATE_PRICE,
            None,
            {"item_id": "ITEM", "price_list": [{"model_id": 0, "original_price": 1}] * 51},
            "price_list",
        ),
        (
            "POST",
            UPDATE_STOCK,
            None,
            {"item_id": "ITEM", "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 1}]}] * 51},
            "stock_list",
        ),
        (
            "POST",
            "/api/v2/product/unlist_item",
            None,
            {"item_list": [{"item_id": 1, "unlist": True}] * 51},
            "item_list",
        ),
        ("POST", "/api/v2/product/add_item", None, {"item_name": "x"}, "original_price"),
    ],
)
def test_limits_are_error_param_naming_the_field(sim, tokens, method, path, params, body, field):
    item = sim.add_item(SHOP)
    if body is not None and body.get("item_id") == "ITEM":
        body = {**body, "item_id": item}
    status, error, message = error_of(shop_call(sim, tokens, method, path, params=params, body=body))
    assert (status, bare(error)) == (400, "error_param")
    assert error == ("product.error_param" if "/product/" in path else "error_param")
    assert field in message


def test_page_of_exactly_50_ids_and_100_items_is_fine(sim, tokens):
    ids = [sim.add_item(SHOP) for _ in range(50)]
    response = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": ",".join(map(str, ids))})
    assert len(response.json()["response"]["item_list"]) == 50
    listing = shop_call(
        sim, tokens, "GET", "/api/v2/product/get_item_list", params={"page_size": 100, "item_status": "NORMAL"}
    )
    assert listing.json()["response"]["total_count"] == 50


def test_unknown_and_foreign_items(sim, tokens):
    foreign = sim.add_item(OTHER_SHOP)
    body = {"stock_list": [{"model_id": 0, "seller_stock": [{"stock": 1}]}]}
    unknown = shop_call(sim, tokens, "POST", UPDATE_STOCK, body={"item_id": 42, **body})
    assert error_of(unknown)[1] == "error_item_not_found"
    not_mine = shop_call(sim, tokens, "POST", UPDATE_STOCK, body={"item_id": foreign, **body})
    assert error_of(not_mine)[1] == "error_item_not_belong_shop"
    assert sim.stock_of(foreign) == 0
    info = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": f"{foreign},42"}).json()
    assert info["response"]["item_list"] == [] and "42" in info["warning"]


def test_stock_below_the_promotion_reserved_stock_refuses_the_call_with_error_auth(sim, tokens):
    item = sim.add_item(SHOP, models=[("S", "10.00", 5), ("M", "10.00", 5)])
    small, medium = sim.model_ids(item)
    sim.set_promotion_reserved(item, small, 4)
    stock_list = [
        {"model_id": small, "seller_stock": [{"stock": 3}]},
        {"model_id": medium, "seller_stock": [{"stock": 8}]},
    ]
    refused = shop_call(sim, tokens, "POST", UPDATE_STOCK, body={"item_id": item, "stock_list": stock_list})
    assert error_of(refused) == (403, "error_auth", "Total stock must be more than reserved stock.")
    assert (sim.stock_of(item, small), sim.stock_of(item, medium), sim.reserved_of(item, small)) == (5, 5, 4)
    stock_list[0]["seller_stock"] = [{"stock": 4}]
    stock_list.append({"model_id": small + 1000, "seller_stock": [{"stock": 1}]})
    answer = shop_call(sim, tokens, "POST", UPDATE_STOCK, body={"item_id": item, "stock_list": stock_list}).json()
    assert answer["error"] == ""
    assert answer["response"]["success_list"] == [
        {"model_id": small, "location_id": "", "stock": 4},
        {"model_id": medium, "location_id": "", "stock": 8},
    ]
    assert [f["model_id"] for f in answer["response"]["failure_list"]] == [small + 1000]
    assert (sim.stock_of(item, small), sim.stock_of(item, medium)) == (4, 8)


def test_price_keeps_every_cent_and_refuses_sub_cent_prices(sim, tokens):
    item = sim.add_item(SHOP)
    ok = shop_call(
        sim,
        tokens,
        "POST",
        UPDATE_PRICE,
        body={"item_id": item, "price_list": [{"model_id": 0, "original_price": 1234567.89}]},
    )
    assert ok.json()["response"]["failure_list"] == []
    assert sim.price_of(item) == Decimal("1234567.89")
    bad = shop_call(
        sim,
        tokens,
        "POST",
        UPDATE_PRICE,
        body={"item_id": item, "price_list": [{"model_id": 0, "original_price": 1.005}]},
    )
    assert error_of(bad)[:2] == (400, "product.error_param")
    assert sim.price_of(item) == Decimal("1234567.89")


def test_write_log_records_every_write_with_old_and_new(sim, tokens):
    item = sim.add_item(SHOP, stock=1)
    for quantity in (5, 5, 6):
        body = {"item_id": item, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": quantity}]}]}
        shop_call(sim, tokens, "POST", UPDATE_STOCK, body=body)
    entries = sim.write_log.entries(field_name="stock")
    assert [(e.item_id, e.sku_id, e.old, e.new, e.effective) for e in entries] == [
        (str(item), "0", 1, 5, True),
        (str(item), "0", 5, 5, False),
        (str(item), "0", 5, 6, True),
    ]


def test_seller_edit_bumps_update_time_but_is_no_api_write(sim, tokens, clock):
    item = sim.add_item(SHOP, name="Mug", update_time=int(clock.now()) - 500)
    before = int(clock.now())
    sim.edit_item(item, name="Mug (seller)", price="11.00", stock=9)
    row = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": item}).json()["response"]["item_list"][0]
    assert (row["item_name"], row["price_info"][0]["original_price"]) == ("Mug (seller)", 11)
    assert before <= row["update_time"] <= int(clock.now())
    assert sim.write_log.entries() == []


def test_request_counter_counts_per_path(sim, tokens):
    for _ in range(3):
        shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"})
    call(sim, "GET", BASE_INFO, params={"item_id_list": "1"})
    assert sim.request_count(BASE_INFO) == 4 and sim.request_count() == 4


# --- rate limits and faults -----------------------------------------------------------------


def test_per_shop_rate_limit_answers_429_with_retry_after(sim, tokens, clock):
    sim.rate_limit_per_minute = 3
    other = sim.issue_tokens(OTHER_SHOP)
    for _ in range(3):
        assert shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}).status_code == 200
    limited = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"})
    assert error_of(limited)[:2] == (429, "error_rate_limit")
    assert limited.headers["Retry-After"] == "60"
    assert (
        call(sim, "GET", BASE_INFO, token=other[0], shop_id=OTHER_SHOP, params={"item_id_list": "1"}).status_code == 200
    )
    clock.advance(60)
    assert shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}).status_code == 200


def test_daily_quota_is_error_limit(sim, tokens):
    sim.daily_quota = 2
    statuses = [error_of(shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}))[1] for _ in range(3)]
    assert statuses == ["", "", "error_limit"]


def test_throttle_fault_is_429_with_retry_after_1(sim, tokens):
    sim.faults = FaultPlan(error_rate=1.0, server_error_weight=0, timeout_weight=0)
    response = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"})
    assert error_of(response)[:2] == (429, "error_rate_limit")
    assert response.headers["Retry-After"] == "1"


def test_server_error_fault_applies_nothing(sim, tokens):
    item = sim.add_item(SHOP, stock=1)
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
    body = {"item_id": item, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 7}]}]}
    assert error_of(shop_call(sim, tokens, "POST", UPDATE_STOCK, body=body))[:2] == (500, "product.error_server")
    assert sim.stock_of(item) == 1 and sim.write_log.entries() == []


def test_timeout_fault_applies_the_write_then_holds_the_answer(sim, tokens):
    item = sim.add_item(SHOP, stock=1)
    sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=1.0)
    body = {"item_id": item, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 7}]}]}
    with pytest.raises(httpx.TimeoutException):
        shop_call(sim, tokens, "POST", UPDATE_STOCK, body=body, timeout=0.2)
    assert sim.stock_of(item) == 7
    sim.faults = FaultPlan()  # replaceable at runtime
    assert shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": item}).status_code == 200


def test_latency_is_added_to_every_request(sim, tokens):
    sim.faults = FaultPlan(latency_s=0.2)
    started = time.monotonic()
    shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"})
    assert time.monotonic() - started >= 0.2


# --- authorization --------------------------------------------------------------------------


def auth_link(sim: ShopeeSimulator, redirect: str, *, timestamp: int | None = None, key: str = PARTNER_KEY) -> str:
    path = "/api/v2/shop/auth_partner"
    timestamp = int(time.time()) if timestamp is None else timestamp
    sign = hmac.new(key.encode(), f"{PARTNER_ID}{path}{timestamp}".encode(), hashlib.sha256).hexdigest()
    query = httpx.QueryParams({"partner_id": PARTNER_ID, "timestamp": timestamp, "sign": sign, "redirect": redirect})
    return f"{sim.url}{path}?{query}"


def test_authorization_page_lists_shops_and_auto_approval_redirects_with_a_code(sim):
    link = auth_link(sim, "http://127.0.0.1:9/callback?state=s1")
    page = httpx.get(link)
    assert page.status_code == 200 and "Main shop" in page.text and "Other shop" in page.text
    approved = httpx.get(f"{link}&auto=1&shop_id={OTHER_SHOP}")
    assert approved.status_code == 302
    target = httpx.URL(approved.headers["location"])
    assert (target.path, target.params["state"], target.params["shop_id"]) == ("/callback", "s1", str(OTHER_SHOP))
    assert len(target.params["code"]) == 32


def test_authorization_link_with_bad_sign_or_older_than_5_minutes_fails(sim):
    assert httpx.get(auth_link(sim, "http://127.0.0.1:9/cb", key="wrong") + "&auto=1").status_code == 400
    stale = httpx.get(auth_link(sim, "http://127.0.0.1:9/cb", timestamp=int(time.time()) - 301) + "&auto=1")
    assert stale.status_code == 400 and "expired" in stale.text


def _code(sim: ShopeeSimulator, shop_id: int = SHOP) -> str:
    response = httpx.get(auth_link(sim, "http://127.0.0.1:9/cb") + f"&auto=1&shop_id={shop_id}")
    return httpx.URL(response.headers["location"]).params["code"]


def test_code_is_single_use_and_lives_10_minutes(sim, clock):
    code = _code(sim)
    first = call(sim, "POST", "/api/v2/auth/token/get", body={"code": code, "partner_id": PARTNER_ID, "shop_id": SHOP})
    payload = first.json()
    assert set(payload) >= {"access_token", "refresh_token", "expire_in", "request_id", "error", "message"}
    assert "response" not in payload and payload["error"] == "" and payload["expire_in"] == 4 * 3600
    again = call(sim, "POST", "/api/v2/auth/token/get", body={"code": code, "partner_id": PARTNER_ID, "shop_id": SHOP})
    assert error_of(again)[1] == "error_auth"
    late_code = _code(sim)
    clock.advance(601)
    late = call(
        sim, "POST", "/api/v2/auth/token/get", body={"code": late_code, "partner_id": PARTNER_ID, "shop_id": SHOP}
    )
    assert error_of(late)[1] == "error_auth"


def test_token_call_with_shop_sign_is_refused(sim):
    code = _code(sim)
    response = call(
        sim, "POST", "/api/v2/auth/token/get", token="x", body={"code": code, "partner_id": PARTNER_ID, "shop_id": SHOP}
    )
    assert error_of(response)[1] == "error_sign"


def test_refresh_is_single_use_and_the_old_access_token_has_a_grace_period(sim, tokens, clock):
    access, refresh = tokens
    body = {"refresh_token": refresh, "partner_id": PARTNER_ID, "shop_id": SHOP}
    fresh = call(sim, "POST", "/api/v2/auth/access_token/get", body=body).json()
    assert fresh["error"] == "" and fresh["access_token"] != access and fresh["refresh_token"] != refresh
    assert error_of(call(sim, "POST", "/api/v2/auth/access_token/get", body=body))[1] == "error_auth"
    clock.advance(299)
    assert shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}).status_code == 200
    clock.advance(2)
    assert error_of(shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": "1"}))[1] == "common.error_auth"
    new = call(sim, "GET", BASE_INFO, token=fresh["access_token"], params={"item_id_list": "1"})
    assert new.status_code == 200


# --- orders and pushes ----------------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append((body, request.headers.get("authorization")))
            return Response(status_code=204)

        self.server = ServerThread(Starlette(routes=[Route("/push", hook, methods=["POST"])])).start()
        self.url = f"{self.server.url}/push"


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.server.stop()


def register(sim: ShopeeSimulator, url: str) -> httpx.Response:
    return call(sim, "POST", "/api/v2/push/set_app_push_config", body={"callback_url": url, "set_push_config_on": [3]})


def test_orders_take_sellable_stock_cancellation_gives_it_back_and_each_change_is_pushed(sim, tokens, receiver):
    assert register(sim, receiver.url).json()["error"] == ""
    item = sim.add_item(SHOP, stock=10)
    cancelled = sim.place_order(SHOP, item, 0, 3)
    shipped = sim.place_order(SHOP, item, 0, 2)
    assert (sim.stock_of(item), sim.reserved_of(item)) == (5, 0), "placed orders leave the sellable stock at once"
    sim.set_order_status(cancelled, "CANCELLED")
    assert sim.stock_of(item) == 8
    sim.set_order_status(shipped, "READY_TO_SHIP")
    sim.set_order_status(shipped, "SHIPPED")
    sim.set_order_status(shipped, "COMPLETED")
    assert sim.stock_of(item) == 8, "shipping changes nothing more"
    info = shop_call(sim, tokens, "GET", BASE_INFO, params={"item_id_list": item}).json()["response"]["item_list"][0]
    assert info["stock_info_v2"]["summary_info"] == {"total_reserved_stock": 0, "total_available_stock": 8}
    assert info["stock_info_v2"]["seller_stock"] == [{"stock": 8}]

    pushes, msg_ids = [], set()
    for body, header in receiver.received:
        expected = hmac.new(PARTNER_KEY.encode(), receiver.url.encode() + b"|" + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, header or "")
        payload = httpx.Response(200, content=body).json()
        assert payload["code"] == 3 and payload["shop_id"] == SHOP and isinstance(payload["timestamp"], int)
        assert set(payload["data"]) >= {"ordersn", "status", "update_time"}
        msg_ids.add(payload["msg_id"])
        pushes.append((payload["data"]["ordersn"], payload["data"]["status"]))
    assert len(msg_ids) == len(pushes) == 6
    assert pushes == [
        (cancelled, "UNPAID"),
        (shipped, "UNPAID"),
        (cancelled, "CANCELLED"),
        (shipped, "READY_TO_SHIP"),
        (shipped, "SHIPPED"),
        (shipped, "COMPLETED"),
    ]
    assert sim.sender.delivered == 6 and sim.sender.pending == []
    detail = shop_call(
        sim,
        tokens,
        "GET",
        "/api/v2/order/get_order_detail",
        params={"order_sn_list": f"{cancelled},{shipped}", "response_optional_fields": "item_list"},
    ).json()["response"]["order_list"]
    assert [(o["order_sn"], o["order_status"]) for o in detail] == [(cancelled, "CANCELLED"), (shipped, "COMPLETED")]
    line = detail[0]["item_list"][0]
    assert (line["model_quantity_purchased"], line["cancelled_qty"], line["active_qty"]) == (3, 3, 0)
    without_items = shop_call(
        sim, tokens, "GET", "/api/v2/order/get_order_detail", params={"order_sn_list": cancelled}
    ).json()
    assert "item_list" not in without_items["response"]["order_list"][0]


def test_an_order_cannot_take_more_than_the_available_stock(sim):
    item = sim.add_item(SHOP, stock=2)
    sim.place_order(SHOP, item, 0, 2)
    with pytest.raises(ValueError, match="available"):
        sim.place_order(SHOP, item, 0, 1)


def test_undelivered_pushes_are_retried_then_wait_for_the_lost_push_calls(sim, clock):
    register(sim, f"http://127.0.0.1:{free_port()}/down")
    item = sim.add_item(SHOP, stock=200)
    order_sns = [sim.place_order(SHOP, item) for _ in range(120)]
    assert len(sim.sender.pending) == 120 and sim.sender.lost == [], "a failed push is retried first"
    for _ in range(5):
        clock.advance(3600)
        sim.sender.pump()
    assert sim.sender.pending == [] and len(sim.sender.lost) == 120
    first = call(sim, "GET", "/api/v2/push/get_lost_push_message").json()["response"]
    assert len(first["push_message_list"]) == 100 and first["has_next_page"] is True
    message = first["push_message_list"][0]
    assert (message["code"], message["shop_id"]) == (3, SHOP)
    assert httpx.Response(200, content=message["data"]).json()["data"]["ordersn"] == order_sns[0]
    confirm = call(
        sim,
        "POST",
        "/api/v2/push/confirm_consumed_lost_push_message",
        body={"last_message_id": first["last_message_id"]},
    )
    assert confirm.json()["error"] == ""
    second = call(sim, "GET", "/api/v2/push/get_lost_push_message").json()["response"]
    assert len(second["push_message_list"]) == 20 and second["has_next_page"] is False


def test_random_order_generator_places_orders(sim, receiver):
    register(sim, receiver.url)
    sim.add_item(SHOP, stock=50)
    sim.start_order_generator(0.02, seed=1)
    deadline = time.monotonic() + 5
    while len(sim.state.orders) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sim.state.orders) >= 3
    assert receiver.received


# --- persistence and the command-line entry --------------------------------------------------


def test_state_survives_save_and_load(sim, tokens, tmp_path, clock):
    item = sim.add_item(SHOP, name="Kept", models=[("K-1", "3.30", 4)])
    state_file = tmp_path / "shopee.json"
    sim.save(state_file)
    again = ShopeeSimulator.load(state_file, clock=clock)
    again.start()
    try:
        model_id = again.model_ids(item)[0]
        assert (again.price_of(item, model_id), again.stock_of(item, model_id)) == (Decimal("3.30"), 4)
        answer = call(again, "GET", "/api/v2/product/get_model_list", token=tokens[0], params={"item_id": item}).json()
        assert answer["error"] == "" and answer["response"]["model"][0]["model_sku"] == "K-1"
        assert again.add_item(SHOP) > item, "id counters are restored too"
    finally:
        again.stop()


def test_run_serves_until_interrupted_and_saves_its_state(tmp_path):
    port, state_file = free_port(), tmp_path / "state.json"
    code = (
        "from pathlib import Path; from connectors.shopee.simulator.server import run; "
        f"run({port}, Path({str(state_file)!r}))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/api/v2/shop/auth_partner")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.1)
        assert page.status_code == 400  # reachable; an unsigned link is refused
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert '"Demo Shop"' in state_file.read_text()
