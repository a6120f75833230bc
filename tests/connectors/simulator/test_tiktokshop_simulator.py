# TikTok Shop simulator: it refuses what the platform refuses, enforces limits, injects faults, pushes signed webhooks.
"""The simulator on its own, driven with hand-built raw HTTP requests (signed with the known-answer-tested `sign`)."""

from __future__ import annotations

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

import connectors.tiktokshop as tts
from connectors.simulator.common import FaultPlan, ServerThread, free_port
from connectors.simulator.tiktokshop import TikTokShopSimulator
from connectors.tiktokshop import parse_webhook, sign, verify_webhook

APP_KEY = "sim-test-key"
APP_SECRET = "sim-test-secret-5a4b3c"
SERVICE_ID = "svc-9"
SHOP_ID = "7494000000000000077"


@pytest.fixture
def sim() -> Iterator[TikTokShopSimulator]:
    simulator = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID)
    simulator.start()
    yield simulator
    simulator.stop()


class Raw:
    """A hand-built TikTok Shop request, every part of which a test may spoil."""

    def __init__(self, sim: TikTokShopSimulator) -> None:
        self.sim = sim
        self.cipher = sim.add_shop(SHOP_ID, "Raw Shop")
        self.access, self.refresh = sim.issue_tokens(SHOP_ID)
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
        params["sign"] = sign(secret, path, params, signed_body if signed_body is not None else content)
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


# --- request verification -------------------------------------------------------------------------


def test_a_correct_request_succeeds(raw: Raw) -> None:
    response = raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"})
    assert response.status_code == 200
    assert envelope(response) == (0, "Success", {"orders": []})


@pytest.mark.parametrize(
    ("spoil", "code", "words"),
    [
        ({"drop": ("app_key",)}, 36009004, "app_key"),
        ({"drop": ("sign",)}, 36009004, "sign"),
        ({"drop": ("timestamp",)}, 36009004, "timestamp"),
        ({"skew": -301}, 36009004, "expired"),
        ({"skew": 31}, 36009004, "future"),
        ({"secret": "wrong-secret"}, 106001, "sign"),
        ({"token": None}, 36009004, "x-tts-access-token"),
        ({"token": "TTP_at_unknown"}, 105001, "invalid"),
        ({"cipher": False}, 106013, "shop_cipher"),
    ],
)
def test_refusals_carry_the_platform_codes(raw: Raw, spoil: dict[str, Any], code: int, words: str) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    got, message, _ = envelope(raw.call("GET", tts.product_path(product_id), **spoil))
    assert got == code and words in message


def test_expired_access_token(raw: Raw) -> None:
    expired, _ = raw.sim.issue_tokens(SHOP_ID, access_ttl_s=-1)
    response = raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"}, token=expired)
    assert response.status_code == 401 and envelope(response)[0] == 105002


def test_shop_cipher_must_be_absent_on_authorization_paths(raw: Raw) -> None:
    code, message, _ = envelope(raw.call("GET", tts.PATH_AUTHORIZED_SHOPS))
    assert code == 36009004 and "unexpected shop_cipher" in message
    code, _, data = envelope(raw.call("GET", tts.PATH_AUTHORIZED_SHOPS, cipher=False))
    assert code == 0 and data["shops"][0]["cipher"] == raw.cipher


def test_a_cipher_of_another_shop_is_refused(raw: Raw) -> None:
    raw.cipher = raw.sim.add_shop("7494000000000000078", "Other")
    assert envelope(raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"}))[0] == 36009004


def test_the_raw_body_bytes_are_signed(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    compact = json.dumps({"skus": [{"id": sku_id, "inventory": [{"quantity": 3}]}]}, separators=(",", ":")).encode()
    spaced = json.dumps(json.loads(compact), indent=2).encode()
    path = tts.inventory_path(product_id)
    assert envelope(raw.call("POST", path, raw_body=spaced, signed_body=compact))[0] == 106001
    assert raw.sim.product(product_id).skus[0].available == 10  # nothing applied
    assert envelope(raw.call("POST", path, raw_body=spaced))[0] == 0
    assert raw.sim.product(product_id).skus[0].available == 3


def test_body_must_be_json_with_json_content_type(raw: Raw) -> None:
    path = tts.PATH_SEARCH
    query = {"page_size": "10"}
    assert envelope(raw.call("POST", path, query=query, raw_body=b"{nope"))[0] == 36009004
    response = raw.call("POST", path, {"status": "ALL"}, query=query, headers={"content-type": "text/plain"})
    assert envelope(response)[0] == 36009004


def test_unknown_path_answers_an_envelope(raw: Raw) -> None:
    response = raw.call("GET", "/product/202309/nothing/here/at/all")
    assert response.status_code == 404 and envelope(response)[0] == 36009004


# --- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", ["0", "101", "abc"])
def test_page_size_limit(raw: Raw, page_size: str) -> None:
    code, message, _ = envelope(raw.call("POST", tts.PATH_SEARCH, {}, query={"page_size": page_size}))
    assert code == 98001004 and "'page_size'" in message


def test_search_stops_at_10000_results(raw: Raw) -> None:
    raw.sim.add_many_products(SHOP_ID, 10_050, (1_700_000_000, 1_700_003_600), seed=9)
    body = {"status": "ALL", "update_time_ge": 1_700_000_000, "update_time_le": 1_700_003_600}
    seen: list[str] = []
    token = ""
    while True:
        query = {"page_size": "100", **({"page_token": token} if token else {})}
        code, _, data = envelope(raw.call("POST", tts.PATH_SEARCH, body, query=query))
        assert code == 0 and data["total_count"] == 10_050
        seen.extend(product["id"] for product in data["products"])
        token = data["next_page_token"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == 10_000
    update_times = [raw.sim.product(product_id).update_time for product_id in seen]
    assert update_times == sorted(update_times)
    forged = tts_token(10_000)
    code, message, _ = envelope(
        raw.call("POST", tts.PATH_SEARCH, body, query={"page_size": "100", "page_token": forged})
    )
    assert code == 98001004 and "10,000" in message


def tts_token(offset: int) -> str:
    from connectors.simulator.tiktokshop import _encode_token

    return _encode_token(offset)


def test_search_filters_by_status_and_window(raw: Raw) -> None:
    active = raw.sim.add_product(SHOP_ID, update_time=1_700_000_010)
    inactive = raw.sim.add_product(SHOP_ID, update_time=1_700_000_020, status="SELLER_DEACTIVATED")
    raw.sim.add_product(SHOP_ID, update_time=1_700_000_030)
    body = {"update_time_ge": 1_700_000_010, "update_time_le": 1_700_000_020}
    query = {"page_size": "100"}
    _, _, everything = envelope(raw.call("POST", tts.PATH_SEARCH, body, query=query))
    assert [p["id"] for p in everything["products"]] == [active, inactive]
    _, _, deactivated = envelope(
        raw.call("POST", tts.PATH_SEARCH, body | {"status": "SELLER_DEACTIVATED"}, query=query)
    )
    assert [p["id"] for p in deactivated["products"]] == [inactive]
    sku = everything["products"][0]["skus"][0]
    assert sku["price"] == {"currency": "USD", "sale_price": "10.00", "tax_exclusive_price": "10.00"}


def test_at_most_20_product_ids(raw: Raw) -> None:
    ids = [raw.sim.add_product(SHOP_ID) for _ in range(21)]
    for path, method in ((tts.PATH_ACTIVATE, "POST"), (tts.PATH_DEACTIVATE, "POST"), (tts.PATH_PRODUCTS, "DELETE")):
        code, message, _ = envelope(raw.call(method, path, {"product_ids": ids}))
        assert code == 98001004 and "'product_ids'" in message
    assert envelope(raw.call("POST", tts.PATH_DEACTIVATE, {"product_ids": ids[:20]}))[0] == 0


def test_quantity_must_be_below_99999(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    path = tts.inventory_path(product_id)
    for bad in (99_999, -1, 1.5, "3", True):
        code, message, _ = envelope(
            raw.call("POST", path, {"skus": [{"id": sku_id, "inventory": [{"quantity": bad}]}]})
        )
        assert code == 12019024 and "quantity" in message
    assert raw.sim.product(product_id).skus[0].available == 10
    assert envelope(raw.call("POST", path, {"skus": [{"id": sku_id, "inventory": [{"quantity": 99_998}]}]}))[0] == 0
    assert raw.sim.write_log.entries(field_name="stock")[-1].new == 99_998


def test_price_amount_must_be_a_string_in_shop_currency(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    path = tts.prices_path(product_id)
    as_float = {"skus": [{"id": sku_id, "price": {"amount": 9.99, "currency": "USD"}}]}
    assert envelope(raw.call("POST", path, as_float))[0] == 98001004
    wrong_currency = {"skus": [{"id": sku_id, "price": {"amount": "9.99", "currency": "EUR"}}]}
    assert envelope(raw.call("POST", path, wrong_currency))[0] == 98001004
    three_places = {"skus": [{"id": sku_id, "price": {"amount": "9.999", "currency": "USD"}}]}
    code, _, data = envelope(raw.call("POST", path, three_places))
    assert code == 0 and data["errors"][0]["detail"]["sku_id"] == sku_id
    assert raw.sim.product(product_id).skus[0].price == "10.00"


def test_orders_at_most_50_ids(raw: Raw) -> None:
    ids = ",".join(str(i) for i in range(51))
    assert envelope(raw.call("GET", tts.PATH_ORDERS, query={"ids": ids}))[0] == 98001004


# --- faults and limits ----------------------------------------------------------------------------


def test_fault_throttle(raw: Raw) -> None:
    raw.sim.faults = FaultPlan(error_rate=1.0, server_error_weight=0, timeout_weight=0)
    response = raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"})
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert envelope(response)[0] == 36009002


def test_fault_server_error_applies_nothing(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    raw.sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, timeout_weight=0)
    response = raw.call(
        "POST", tts.inventory_path(product_id), {"skus": [{"id": sku_id, "inventory": [{"quantity": 1}]}]}
    )
    assert response.status_code == 500 and envelope(response)[0] == 36009003
    assert raw.sim.product(product_id).skus[0].available == 10
    assert raw.sim.write_log.entries() == []


def test_fault_timeout_applies_then_holds(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    raw.sim.faults = FaultPlan(error_rate=1.0, throttle_weight=0, server_error_weight=0, timeout_hold_s=0.6)
    body = {"skus": [{"id": sku_id, "inventory": [{"quantity": 33}]}]}
    with pytest.raises(httpx.ReadTimeout):
        raw.call("POST", tts.inventory_path(product_id), body, timeout=0.2)
    assert raw.sim.product(product_id).skus[0].available == 33
    started = time.monotonic()
    assert raw.call("POST", tts.inventory_path(product_id), body, timeout=2).status_code == 200  # held, then answered
    assert time.monotonic() - started >= 0.55


def test_latency_is_added_to_every_request(raw: Raw) -> None:
    raw.sim.faults = FaultPlan(latency_s=0.2)
    started = time.monotonic()
    raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"})
    assert time.monotonic() - started >= 0.2


def test_rate_limit_per_shop_per_minute(raw: Raw) -> None:
    raw.sim.rate_limit_per_minute = 3
    answers = [raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"}) for _ in range(7)]
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled, "7 calls with a limit of 3 per minute"
    assert envelope(throttled[0])[0] == 36009002 and 1 <= int(throttled[0].headers["retry-after"]) <= 60


def test_request_counter_per_path(raw: Raw) -> None:
    raw.sim.reset_counts()
    raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"})
    raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"}, secret="bad")
    assert raw.sim.requests(tts.PATH_ORDERS) == 2 and raw.sim.requests(tts.PATH_SEARCH) == 0


# --- authorization pages and tokens -------------------------------------------------------------


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
    assert approve.status_code == 302
    location = httpx.URL(approve.headers["location"])
    assert location.params["x"] == "1" and location.params["state"] == "s1" and location.params["code"]
    assert httpx.get(f"{sim.url}/open/authorize", params={"service_id": "nope"}).status_code == 400


def test_token_endpoints(sim: TikTokShopSimulator) -> None:
    sim.add_shop(SHOP_ID, "Token Shop")
    page = httpx.get(f"{sim.url}/open/authorize", params={"service_id": SERVICE_ID, "state": "s"})
    code = page.text.split("<code>")[1].split("</code>")[0]  # no redirect URL configured: the page shows the code
    base = {"app_key": APP_KEY, "app_secret": APP_SECRET}
    wrong = httpx.get(
        f"{sim.url}{tts.PATH_TOKEN_GET}",
        params=base | {"app_secret": "x", "auth_code": code, "grant_type": "authorized_code"},
    )
    assert wrong.json()["code"] == 36009004
    now = time.time()
    got = httpx.get(
        f"{sim.url}{tts.PATH_TOKEN_GET}", params=base | {"auth_code": code, "grant_type": "authorized_code"}
    ).json()
    assert got["code"] == 0
    data = got["data"]
    assert abs(data["access_token_expire_in"] - (now + 7 * 86_400)) < 5  # absolute timestamps
    again = httpx.get(
        f"{sim.url}{tts.PATH_TOKEN_GET}", params=base | {"auth_code": code, "grant_type": "authorized_code"}
    )
    assert again.json()["code"] == 36009004
    refreshed = httpx.get(
        f"{sim.url}{tts.PATH_TOKEN_REFRESH}",
        params=base | {"refresh_token": data["refresh_token"], "grant_type": "refresh_token"},
    ).json()
    assert refreshed["code"] == 0 and refreshed["data"]["refresh_token"] != data["refresh_token"]
    reused = httpx.get(
        f"{sim.url}{tts.PATH_TOKEN_REFRESH}",
        params=base | {"refresh_token": data["refresh_token"], "grant_type": "refresh_token"},
    ).json()
    assert reused["code"] == 36004005
    _expired_access, expired_refresh = sim.issue_tokens(SHOP_ID, refresh_ttl_s=-1)
    dead = httpx.get(
        f"{sim.url}{tts.PATH_TOKEN_REFRESH}",
        params=base | {"refresh_token": expired_refresh, "grant_type": "refresh_token"},
    ).json()
    assert dead["code"] == 36004001


# --- webhooks, orders, seller edits ---------------------------------------------------------------


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self.status = status

        async def hook(request: Request) -> Response:
            self.received.append((await request.body(), request.headers.get("authorization")))
            return Response(status_code=self.status)

        self.server = ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])).start()
        self.url = self.server.url + "/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.stop()


def test_orders_reserve_release_and_consume_stock_with_signed_pushes(raw: Raw, receiver: Receiver) -> None:
    sim = raw.sim
    for event_type in ("ORDER_STATUS_CHANGE", "PRODUCT_INFORMATION_CHANGE"):
        assert envelope(raw.call("PUT", tts.PATH_WEBHOOKS, {"address": receiver.url, "event_type": event_type}))[0] == 0
    product_id = sim.add_product(SHOP_ID, skus=[{"seller_sku": "CAP", "stock": 5}])
    sku_id = sim.sku_ids(product_id)[0]
    sku = sim.product(product_id).skus[0]

    cancelled = sim.place_order(SHOP_ID, product_id, sku_id, 2)
    assert (sku.available, sku.reserved) == (3, 2)
    sim.set_order_status(cancelled, "CANCELLED")
    assert (sku.available, sku.reserved) == (5, 0)
    shipped = sim.place_order(SHOP_ID, product_id, sku_id, 1)
    sim.set_order_status(shipped, "IN_TRANSIT")
    assert (sku.available, sku.reserved) == (4, 0)
    with pytest.raises(ValueError, match="available"):
        sim.place_order(SHOP_ID, product_id, sku_id, 5)

    before = sim.product(product_id).update_time
    time.sleep(1.01)
    sim.edit_product(product_id, title="Seller's title", prices={sku_id: "7.77"}, stock={sku_id: 50})
    assert sim.product(product_id).update_time > before and sku.price == "7.77" and sku.available == 50

    events = [parse_webhook(body) for body, _ in receiver.received]
    assert all(verify_webhook(APP_KEY, APP_SECRET, body, auth) for body, auth in receiver.received)
    assert [(e.raw_type, e.data.get("order_status")) for e in events] == [
        ("1", "AWAITING_SHIPMENT"), ("1", "CANCELLED"), ("1", "AWAITING_SHIPMENT"), ("1", "IN_TRANSIT"), ("15", None)
    ]  # fmt: skip
    assert len({e.event_id for e in events}) == 5
    assert events[-1].item_id == product_id and set(events[-1].data["changed_fields"]) == {
        "title",
        "price",
        "inventory",
    }
    _, _, listed = envelope(raw.call("GET", tts.PATH_WEBHOOKS))
    assert listed["total_count"] == 2
    _, _, orders = envelope(raw.call("GET", tts.PATH_ORDERS, query={"ids": f"{cancelled},{shipped}"}))
    assert [o["status"] for o in orders["orders"]] == ["CANCELLED", "IN_TRANSIT"]
    assert len(orders["orders"][0]["line_items"]) == 2  # one line item per unit


def test_undelivered_pushes_are_kept(raw: Raw) -> None:
    hook = Receiver(status=500)
    try:
        raw.call("PUT", tts.PATH_WEBHOOKS, {"address": hook.url, "event_type": "ORDER_STATUS_CHANGE"})
        product_id = raw.sim.add_product(SHOP_ID)
        raw.sim.place_order(SHOP_ID, product_id, raw.sim.sku_ids(product_id)[0])
        assert len(hook.received) == 1 and len(raw.sim.sender.lost) == 1
    finally:
        hook.server.stop()


def test_revoking_a_shop_kills_its_tokens_and_pushes_type_6(raw: Raw, receiver: Receiver) -> None:
    raw.call("PUT", tts.PATH_WEBHOOKS, {"address": receiver.url, "event_type": "SELLER_DEAUTHORIZATION"})
    raw.sim.revoke_shop(SHOP_ID)
    code, message, _ = envelope(raw.call("GET", tts.PATH_ORDERS, query={"ids": "1"}))
    assert code == 105001 and "deauthorized" in message
    assert parse_webhook(receiver.received[0][0]).raw_type == "6"


def test_admin_endpoints_place_and_move_orders(raw: Raw) -> None:
    product_id = raw.sim.add_product(SHOP_ID)
    sku_id = raw.sim.sku_ids(product_id)[0]
    placed = httpx.post(
        f"{raw.sim.url}/_simulator/orders",
        json={"shop_id": SHOP_ID, "product_id": product_id, "sku_id": sku_id, "quantity": 3},
    )
    order_id = placed.json()["order_id"]
    assert raw.sim.product(product_id).skus[0].reserved == 3
    httpx.post(f"{raw.sim.url}/_simulator/orders/{order_id}/status", json={"status": "CANCELLED"})
    assert raw.sim.state.orders[order_id].status == "CANCELLED"
    bad = httpx.post(f"{raw.sim.url}/_simulator/orders", json={"shop_id": SHOP_ID})
    assert bad.status_code == 400


def test_create_honours_the_idempotency_key(raw: Raw) -> None:
    body = {
        "title": "T",
        "description": "<p>d</p>",
        "category_id": "600001",
        "main_images": [{"uri": "https://img.example.com/x.jpg"}],
        "package_weight": {"value": "1", "unit": "KILOGRAM"},
        "skus": [{"seller_sku": "X", "price": {"amount": "1.00", "currency": "USD"}, "inventory": [{"quantity": 1}]}],
        "idempotency_key": "k-1",
    }
    first = envelope(raw.call("POST", tts.PATH_PRODUCTS, body))[2]
    second = envelope(raw.call("POST", tts.PATH_PRODUCTS, body))[2]
    assert first["product_id"] == second["product_id"] and len(raw.sim.state.products) == 1
    missing_title = {key: value for key, value in body.items() if key != "title"} | {"idempotency_key": "k-2"}
    code, message, _ = envelope(raw.call("POST", tts.PATH_PRODUCTS, missing_title))
    assert code == 98001004 and "'title'" in message


# --- persistence and standalone run ---------------------------------------------------------------


def test_state_survives_save_and_load(tmp_path: Path) -> None:
    first = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, service_id=SERVICE_ID)
    first.start()
    raw = Raw(first)
    product_id = first.add_product(SHOP_ID, title="Persisted")
    order_id = first.place_order(SHOP_ID, product_id, first.sku_ids(product_id)[0], 2)
    state_file = tmp_path / "tts.json"
    first.state_file = state_file
    first.stop()  # saves

    second = TikTokShopSimulator.load(state_file)
    second.start()
    try:
        raw.sim = second
        _, _, detail = envelope(raw.call("GET", tts.product_path(product_id)))
        assert detail["title"] == "Persisted" and detail["skus"][0]["inventory"][0]["quantity"] == 8
        _, _, orders = envelope(raw.call("GET", tts.PATH_ORDERS, query={"ids": order_id}))
        assert orders["orders"][0]["id"] == order_id
        assert second.add_product(SHOP_ID) not in (product_id, order_id)  # ids keep counting up
    finally:
        second.stop()


def test_run_serves_until_interrupted_and_saves_state(tmp_path: Path) -> None:
    port, state_file = free_port(), tmp_path / "state.json"
    code = (
        "from pathlib import Path; from connectors.simulator.tiktokshop import run; "
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
