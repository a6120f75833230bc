# The Lazada simulator as an oracle, over raw HTTP: gateway checks, payloads, OAuth rotation, pushes and retries.
"""Requests here are signed by the test itself from the reference (not by the connector)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from connectors.lazada.simulator.server import LazadaSimulator

KEY, SECRET, SELLER = "556677", "sim-secret-for-tests", "2000000001"


def _sign(path: str, params: dict[str, str]) -> str:
    text = path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


@pytest.fixture
def sim() -> Iterator[LazadaSimulator]:
    simulator = LazadaSimulator(app_key=KEY, app_secret=SECRET)
    simulator.add_seller(SELLER, "Oracle shop", country="sg")
    simulator.start()
    yield simulator
    simulator.stop()


def _call(
    sim: LazadaSimulator, path: str, params: dict[str, str], *, method: str = "GET", **overrides: Any
) -> dict[str, Any]:
    signed = {"app_key": KEY, "timestamp": str(int(time.time() * 1000)), "sign_method": "sha256", **params}
    signed["sign"] = _sign(path, signed)
    signed.update(overrides)
    url = f"{sim.url}/rest{path}"
    response = httpx.get(url, params=signed) if method == "GET" else httpx.post(url, data=signed)
    assert response.status_code == 200  # the gateway answers failures inside HTTP 200
    body: dict[str, Any] = response.json()
    return body


def test_the_documented_known_answer_signature_is_what_the_simulator_checks() -> None:
    params = {
        "access_token": "test",
        "app_key": "123456",
        "order_id": "1234",
        "sign_method": "sha256",
        "timestamp": "1517820392000",
    }
    text = "/order/get" + "".join(f"{k}{params[k]}" for k in sorted(params))
    expected = hmac.new(b"helloworld", text.encode(), hashlib.sha256).hexdigest().upper()
    assert expected == "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    from connectors.lazada.simulator.signing import expected_sign

    assert expected_sign("helloworld", "/order/get", {**params, "sign": "x"}) == expected


def test_gateway_refuses_bad_signatures_timestamps_and_tokens(sim: LazadaSimulator) -> None:
    access, _ = sim.token_for(SELLER)
    good = _call(sim, "/seller/get", {"access_token": access})
    assert good["code"] == "0" and good["data"]["seller_id"] == int(SELLER)
    lower = {"access_token": access, "app_key": KEY, "timestamp": str(int(time.time() * 1000)), "sign_method": "sha256"}
    lower_sign = _sign("/seller/get", lower).lower()
    assert _call(sim, "/seller/get", {"access_token": access}, sign=lower_sign)["code"] == "IncompleteSignature"
    assert _call(sim, "/seller/get", {"access_token": access}, sign="0" * 64)["code"] == "IncompleteSignature"
    seconds = str(int(time.time()))
    stale = str(int((time.time() - 7300) * 1000))
    assert _call(sim, "/seller/get", {"access_token": access, "timestamp": seconds})["code"] == "InvalidTimestamp"
    assert _call(sim, "/seller/get", {"access_token": access, "timestamp": stale})["code"] == "InvalidTimestamp"
    assert _call(sim, "/seller/get", {"access_token": access, "extra": ""})["code"] == "IncompleteSignature"
    assert _call(sim, "/seller/get", {})["code"] == "MissingParameter"
    assert _call(sim, "/seller/get", {"access_token": "nope"})["code"] == "IllegalAccessToken"
    failure = _call(sim, "/seller/get", {"access_token": "nope"})
    assert set(failure) >= {"type", "code", "message", "request_id"}
    assert _call(sim, "/product/create", {"access_token": access}, method="GET")["code"] == "UnsupportedHTTPMethod"
    # System parameters in the query, business ones as a JSON body: the union is signed.
    system = {
        "app_key": KEY,
        "timestamp": str(int(time.time() * 1000)),
        "sign_method": "sha256",
        "access_token": access,
    }
    product = sim.add_product(SELLER, "Json", [("J-1", "1", 1)])
    system["sign"] = _sign("/product/item/get", {**system, "item_id": product.item_id})
    via_json = httpx.post(f"{sim.url}/rest/product/item/get", params=system, json={"item_id": product.item_id})
    assert via_json.json()["code"] == "UnsupportedHTTPMethod"  # item/get is GET only
    system["sign"] = _sign("/product/stock/sellable/update", {**system, "payload": "<Request/>"})
    posted = httpx.post(f"{sim.url}/rest/product/stock/sellable/update", params=system, json={"payload": "<Request/>"})
    assert posted.json()["code"] == "30"  # signature accepted; the empty request refused


def test_xml_payloads_and_whole_call_refusals(sim: LazadaSimulator) -> None:
    access, _ = sim.token_for(SELLER)
    product = sim.add_product(SELLER, "Bag", [("BAG-1", "10", 5)])
    (sku,) = product.skus
    payload = (
        f"<Request><Product><Skus><Sku><ItemId>{product.item_id}</ItemId><SkuId>{sku.sku_id}</SkuId>"
        "<SellableQuantity>9</SellableQuantity></Sku></Skus></Product></Request>"
    )
    assert (
        _call(sim, "/product/stock/sellable/update", {"access_token": access, "payload": payload}, method="POST")[
            "code"
        ]
        == "0"
    )
    assert sku.total_sellable == 9
    json_payload = json.dumps({"Request": {"Product": {"Skus": {"Sku": [{"ItemId": product.item_id}]}}}})
    assert (
        _call(sim, "/product/stock/sellable/update", {"access_token": access, "payload": json_payload}, method="POST")[
            "code"
        ]
        == "5"
    )
    sim.lock_campaign_stock(product.item_id, sku.sku_id, 2)
    lowered = payload.replace(">9<", ">1<")
    refused = _call(sim, "/product/stock/sellable/update", {"access_token": access, "payload": lowered}, method="POST")
    assert refused["code"] == "4170" and refused["detail"][0]["sku_id"] == sku.sku_id
    too_many = (
        "<Request><Product><Skus>"
        + "<Sku><ItemId>1</ItemId><SkuId>1</SkuId></Sku>" * 51
        + "</Skus></Product></Request>"
    )
    assert (
        _call(sim, "/product/stock/sellable/update", {"access_token": access, "payload": too_many}, method="POST")[
            "code"
        ]
        == "204"
    )


def test_oauth_code_is_single_use_and_refresh_rotates_both_tokens(sim: LazadaSimulator) -> None:
    sim.redirect_url = "https://app.example/cb"
    page = httpx.get(
        f"{sim.url}/oauth/authorize",
        params={
            "response_type": "code",
            "force_auth": "true",
            "redirect_uri": "https://app.example/cb",
            "client_id": KEY,
            "state": "s1",
        },
    )
    assert page.status_code == 302
    query = httpx.URL(page.headers["location"]).params
    assert query["state"] == "s1"
    created = _call(sim, "/auth/token/create", {"code": query["code"]})
    assert created["code"] == "0" and "data" not in created
    assert created["country_user_info"][0]["seller_id"] == SELLER
    assert _call(sim, "/auth/token/create", {"code": query["code"]})["code"] == "InvalidCode"
    sim.clock.advance(3600)
    refreshed = _call(sim, "/auth/token/refresh", {"refresh_token": created["refresh_token"]})
    assert (
        refreshed["refresh_token"] != created["refresh_token"] and refreshed["access_token"] != created["access_token"]
    )
    assert refreshed["country_user_info_list"][0]["seller_id"] == SELLER
    assert refreshed["refresh_expires_in"] <= created["refresh_expires_in"] - 3600  # the end never moves
    assert (
        _call(sim, "/auth/token/refresh", {"refresh_token": created["refresh_token"]})["code"] == "IllegalRefreshToken"
    )


class _Receiver(BaseHTTPRequestHandler):
    answers: list[int] = []
    seen: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((body, self.headers["Authorization"]))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_pushes_are_signed_and_retried_every_30_minutes_on_the_simulated_clock(sim: LazadaSimulator) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Receiver.answers, _Receiver.seen = [500, 500], []
        sim.set_push_url(f"http://127.0.0.1:{server.server_port}/webhooks/lazada")
        product = sim.add_product(SELLER, "Hat", [("HAT", "8", 3)])
        sim.place_order(SELLER, [(product.item_id, product.skus[0].sku_id, 1)])
        sim.pump()
        assert len(_Receiver.seen) == 1
        sim.clock.advance(29 * 60)
        sim.pump()
        assert len(_Receiver.seen) == 1  # not yet due
        sim.clock.advance(60)
        sim.pump()
        assert len(_Receiver.seen) == 2
        sim.clock.advance(30 * 60)
        sim.pump()
        assert len(_Receiver.seen) == 3 and sim.sender.pending == []
        body, signature = _Receiver.seen[-1]
        assert signature == hmac.new(SECRET.encode(), KEY.encode() + body, hashlib.sha256).hexdigest()
        push = json.loads(body)
        assert push["message_type"] == 0 and push["seller_id"] == SELLER and push["site"] == "lazada_sg"
        assert push["data"]["order_status"] == "pending"
    finally:
        server.shutdown()


def test_list_limits_dates_and_filters_are_checked(sim: LazadaSimulator) -> None:
    access, _ = sim.token_for(SELLER)
    window = {"update_after": "2020-01-01T00:00:00+08:00", "access_token": access}
    assert _call(sim, "/products/get", {**window, "limit": "51"})["code"] == "19"
    assert _call(sim, "/products/get", {**window, "offset": "10001"})["code"] == "14"
    assert _call(sim, "/products/get", {**window, "update_before": "yesterday"})["code"] == "17"
    assert _call(sim, "/orders/get", {"access_token": access})["code"] == "MissingParameter"
    assert _call(sim, "/orders/get", {**window, "limit": "101"})["code"] == "19"
    assert _call(sim, "/orders/get", {**window, "status": "lost_in_space"})["code"] == "36"
    assert _call(sim, "/orders/get", {**window, "offset": "5001"})["code"] == "14"
    assert (
        _call(sim, "/orders/items/get", {"access_token": access, "order_ids": json.dumps(list(range(51)))})["code"]
        == "56"
    )
    assert _call(sim, "/no/such/api", {"access_token": access})["code"] == "InvalidApiPath"


def test_warehouse_forms_big_sales_and_the_inventory_rate_limit(sim: LazadaSimulator) -> None:
    access, _ = sim.token_for(SELLER)
    product = sim.add_product(SELLER, "Bag", [("BAG-1", "10", 5)])
    (sku,) = product.skus
    head = f"<Request><Product><Skus><Sku><ItemId>{product.item_id}</ItemId><SkuId>{sku.sku_id}</SkuId>"
    multi = head + (
        "<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>dropshipping</WarehouseCode>"
        "<SellableQuantity>3</SellableQuantity></MultiWarehouseInventory></MultiWarehouseInventories>"
        "</Sku></Skus></Product></Request>"
    )
    single = head + "<SellableQuantity>3</SellableQuantity></Sku></Skus></Product></Request>"

    def stock(text: str) -> dict[str, Any]:
        return _call(sim, "/product/stock/sellable/update", {"access_token": access, "payload": text}, method="POST")

    refused = stock(multi)  # a single-warehouse seller must not use the multi-warehouse form
    assert refused["code"] == "500" and "single-warehouse" in refused["detail"][0]["message"]
    sim.state.sellers[SELLER].warehouses = ["dropshipping", "wh-2"]
    assert stock(single)["code"] == "500"  # ... and a multi-warehouse seller must
    assert stock(multi)["code"] == "0" and sku.sellable["dropshipping"] == 3

    sim.big_sale()
    assert stock(multi)["code"] == "998"
    assert _call(sim, "/seller/get", {"access_token": access})["code"] == "0"  # reads stay on
    sim.big_sale_over()

    sim.inventory_calls_per_s = 2
    time.sleep(1.05)  # a fresh second: the calls above counted in theirs
    codes = [stock(multi)["code"] for _ in range(6)]
    assert "ApiCallLimit" in codes and codes[0] == "0"
    limited = next(answer for answer in (stock(multi) for _ in range(3)) if answer["code"] == "ApiCallLimit")
    assert "1 seconds" in limited["message"]


def test_without_auto_approval_the_seller_picks_a_shop_on_the_login_page(sim: LazadaSimulator) -> None:
    sim.auto_approve, sim.redirect_url = False, "https://app.example/cb"
    sim.add_seller("2000000002", "Second shop", country="th")
    page = httpx.get(
        f"{sim.url}/oauth/authorize",
        params={"response_type": "code", "redirect_uri": "https://app.example/cb", "client_id": KEY, "state": "s2"},
    )
    assert page.status_code == 200 and "Second shop (TH)" in page.text
    href = page.text.split('href="')[2].split('"')[0].replace("&amp;", "&")
    assert "shop_id=2000000002" in href
    approved = httpx.get(f"{sim.url}{href}")
    assert approved.status_code == 302
    code = httpx.URL(approved.headers["location"]).params["code"]
    created = _call(sim, "/auth/token/create", {"code": code})
    assert [row["seller_id"] for row in created["country_user_info"]] == ["2000000002"]
