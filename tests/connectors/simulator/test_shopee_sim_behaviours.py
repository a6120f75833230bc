# Shopee simulator as an oracle: the documented behaviours of issue 13, driven by raw signed HTTP on loopback.
"""Each behaviour the reference documents (array encodings, prefixed errors, business refusals with
`error_auth`, regions, shop and warehouse calls, sellable stock, order list and detail, pushes with
retries and lost pushes, the app's daily limit) pinned with requests signed here, not by the connector."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shopee.simulator.codes import UTC8
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import ServerThread, SimClock, free_port

PARTNER_ID = 2001887
PARTNER_KEY = "oracle-test-partner-key"
SHOP, WAREHOUSE_SHOP, ID_SHOP, CNSC_SHOP = 601, 602, 603, 604

BASE_INFO = "/api/v2/product/get_item_base_info"
ITEM_LIST = "/api/v2/product/get_item_list"
UPDATE_STOCK = "/api/v2/product/update_stock"
UPDATE_PRICE = "/api/v2/product/update_price"
ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
SHOP_INFO = "/api/v2/shop/get_shop_info"
WAREHOUSES = "/api/v2/shop/get_warehouse_detail"
PUSH_CONFIG = "/api/v2/push/set_app_push_config"
LOST = "/api/v2/push/get_lost_push_message"
CONFIRM_LOST = "/api/v2/push/confirm_consumed_lost_push_message"


def sign(base: str) -> str:
    return hmac.new(PARTNER_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()


class Api:
    """Signs and sends requests the way Shopee's guide describes, with wall-clock timestamps."""

    def __init__(self, sim: ShopeeSimulator) -> None:
        self.sim = sim
        self.tokens: dict[int, str] = {}

    def public(self, method: str, path: str, *, params=None, body=None) -> httpx.Response:
        timestamp = int(time.time())
        query = [("partner_id", PARTNER_ID), ("timestamp", timestamp), ("sign", sign(f"{PARTNER_ID}{path}{timestamp}"))]
        return httpx.request(method, self.sim.url + path, params=query + list(params or []), json=body, timeout=10)

    def shop(self, shop_id: int, method: str, path: str, *, params=None, body=None) -> httpx.Response:
        if shop_id not in self.tokens:
            self.tokens[shop_id] = self.sim.issue_tokens(shop_id)[0]
        token, timestamp = self.tokens[shop_id], int(time.time())
        query = [
            ("partner_id", PARTNER_ID),
            ("timestamp", timestamp),
            ("access_token", token),
            ("shop_id", shop_id),
            ("sign", sign(f"{PARTNER_ID}{path}{timestamp}{token}{shop_id}")),
        ]
        params = list(params.items()) if isinstance(params, dict) else list(params or [])
        return httpx.request(method, self.sim.url + path, params=query + params, json=body, timeout=10)


@pytest.fixture
def clock():
    return SimClock()


@pytest.fixture
def sim(clock):
    simulator = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, clock=clock)
    simulator.add_shop(SHOP, "Local MY shop")
    simulator.add_shop(WAREHOUSE_SHOP, "Two warehouses", locations=("MYZ01", "MYZ02"))
    simulator.add_shop(ID_SHOP, "Indonesian shop", region="ID")
    simulator.add_shop(CNSC_SHOP, "Cross-border shop", region="SG", is_cb=True, is_cnsc=True)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def api(sim):
    return Api(sim)


def error(response: httpx.Response) -> tuple[str, str]:
    payload = response.json()
    return payload["error"], payload["message"]


def stock_body(item_id: int, *rows: dict[str, Any]) -> dict[str, Any]:
    return {"item_id": item_id, "stock_list": list(rows)}


# --- query array encodings ------------------------------------------------------------------


def test_order_sn_list_is_one_comma_joined_value_and_a_repeated_key_is_error_param(sim, api):
    item = sim.add_item(SHOP, stock=5)
    first, second = sim.place_order(SHOP, item), sim.place_order(SHOP, item)
    joined = api.shop(SHOP, "GET", ORDER_DETAIL, params={"order_sn_list": f"{first},{second}"})
    assert [o["order_sn"] for o in joined.json()["response"]["order_list"]] == [first, second]
    repeated = api.shop(SHOP, "GET", ORDER_DETAIL, params=[("order_sn_list", first), ("order_sn_list", second)])
    assert repeated.status_code == 400 and error(repeated)[0] == "error_param"
    assert "order_sn_list" in error(repeated)[1]
    fields = [("order_sn_list", first), ("response_optional_fields", "item_list"), ("response_optional_fields", "note")]
    assert error(api.shop(SHOP, "GET", ORDER_DETAIL, params=fields))[0] == "error_param"
    ok = api.shop(
        SHOP, "GET", ORDER_DETAIL, params={"order_sn_list": first, "response_optional_fields": "note,item_list"}
    )
    assert "item_list" in ok.json()["response"]["order_list"][0]


def test_item_id_list_is_comma_joined_and_item_status_a_repeated_key(sim, api):
    mug, cup = sim.add_item(SHOP, name="Mug"), sim.add_item(SHOP, name="Cup", status="UNLIST")
    joined = api.shop(SHOP, "GET", BASE_INFO, params={"item_id_list": f"{mug},{cup}"})
    assert len(joined.json()["response"]["item_list"]) == 2
    repeated = api.shop(SHOP, "GET", BASE_INFO, params=[("item_id_list", mug), ("item_id_list", cup)])
    assert error(repeated)[0] == "product.error_param" and "item_id_list" in error(repeated)[1]

    statuses = [("offset", 0), ("page_size", 10), ("item_status", "NORMAL"), ("item_status", "UNLIST")]
    listed = api.shop(SHOP, "GET", ITEM_LIST, params=statuses).json()["response"]
    assert {row["item_id"] for row in listed["item"]} == {mug, cup}
    comma = api.shop(SHOP, "GET", ITEM_LIST, params={"offset": 0, "page_size": 10, "item_status": "NORMAL,UNLIST"})
    assert error(comma)[0] == "product.error_param" and "NORMAL,UNLIST" in error(comma)[1]


def test_lenient_arrays_can_be_switched_on_per_shop(sim, api):
    sim.set_shop_options(SHOP, strict_arrays=False)
    mug = sim.add_item(SHOP, stock=1)
    order_sn = sim.place_order(SHOP, mug)
    assert api.shop(SHOP, "GET", ORDER_DETAIL, params=[("order_sn_list", order_sn)] * 2).json()["error"] == ""
    comma = api.shop(SHOP, "GET", ITEM_LIST, params={"offset": 0, "page_size": 10, "item_status": "NORMAL,UNLIST"})
    assert comma.json()["response"]["total_count"] == 1


# --- error codes ----------------------------------------------------------------------------


def test_product_errors_are_module_prefixed_unless_switched_off_and_gateway_errors_stay_bare(sim, api):
    bad = api.shop(SHOP, "GET", ITEM_LIST, params={"offset": 0, "page_size": 500, "item_status": "NORMAL"})
    assert error(bad)[0] == "product.error_param"
    sim.set_shop_options(SHOP, module_prefixes=False)
    again = api.shop(SHOP, "GET", ITEM_LIST, params={"offset": 0, "page_size": 500, "item_status": "NORMAL"})
    assert error(again)[0] == "error_param"
    timestamp = int(time.time())
    unsigned = httpx.get(
        sim.url + ITEM_LIST,
        params={
            "partner_id": PARTNER_ID,
            "timestamp": timestamp,
            "sign": "0" * 64,
            "shop_id": SHOP,
            "access_token": "x",
        },
    )
    assert error(unsigned) == ("error_sign", "Wrong sign.")


# --- business refusals with error_auth ------------------------------------------------------


def test_holiday_mode_refuses_stock_and_price_writes_with_error_auth(sim, api):
    item = sim.add_item(SHOP, stock=3)
    sim.set_holiday_mode(SHOP)
    stock = api.shop(SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 9}]}))
    assert stock.status_code == 403 and error(stock)[0] == "error_auth" and "holiday mode" in error(stock)[1]
    price = api.shop(
        SHOP, "POST", UPDATE_PRICE, body={"item_id": item, "price_list": [{"model_id": 0, "original_price": 5}]}
    )
    assert error(price)[0] == "error_auth" and "holiday mode" in error(price)[1]
    assert (sim.stock_of(item), sim.price_of(item)) == (3, Decimal("10.00"))
    sim.set_holiday_mode(SHOP, on=False)
    ok = api.shop(SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 9}]}))
    assert ok.json()["error"] == "" and sim.stock_of(item) == 9


def test_a_multi_location_shop_needs_a_matching_location_id(sim, api):
    item = sim.add_item(WAREHOUSE_SHOP, stock={"MYZ01": 2, "MYZ02": 3})
    missing = api.shop(
        WAREHOUSE_SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 1}]})
    )
    assert error(missing) == ("error_auth", "Lack of location_id, please double check.")
    wrong = api.shop(
        WAREHOUSE_SHOP,
        "POST",
        UPDATE_STOCK,
        body=stock_body(item, {"model_id": 0, "seller_stock": [{"location_id": "SGZ01", "stock": 1}]}),
    )
    assert error(wrong)[0] == "error_auth" and error(wrong)[1].startswith("The location_id input is not matched")
    good = api.shop(
        WAREHOUSE_SHOP,
        "POST",
        UPDATE_STOCK,
        body=stock_body(item, {"model_id": 0, "seller_stock": [{"location_id": "MYZ02", "stock": 7}]}),
    ).json()
    assert good["response"]["success_list"] == [
        {"model_id": 0, "location_id": "MYZ01", "stock": 2},
        {"model_id": 0, "location_id": "MYZ02", "stock": 7},
    ]
    assert (sim.stock_of(item, location="MYZ01"), sim.stock_of(item, location="MYZ02")) == (2, 7)
    single = sim.add_item(SHOP, stock=1)
    foreign_location = api.shop(
        SHOP,
        "POST",
        UPDATE_STOCK,
        body=stock_body(single, {"model_id": 0, "seller_stock": [{"location_id": "MYZ01", "stock": 4}]}),
    )
    assert error(foreign_location)[0] == "error_auth" and sim.stock_of(single) == 1


def test_token_errors_are_not_business_errors(sim, api, clock):
    item = sim.add_item(SHOP, stock=1)
    api.shop(SHOP, "GET", BASE_INFO, params={"item_id_list": item})
    clock.advance(4 * 3600 + 1)
    expired = api.shop(
        SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 2}]})
    )
    assert error(expired) == ("common.error_auth", "Invalid access_token.")
    api.tokens[SHOP] = "0" * 32
    unknown = api.shop(SHOP, "GET", BASE_INFO, params={"item_id_list": item})
    assert error(unknown)[0] == "invalid_acceess_token"


# --- regions and prices ---------------------------------------------------------------------


def price_call(api: Api, shop_id: int, item_id: int, *rows: tuple[int, object]) -> httpx.Response:
    body = {"item_id": item_id, "price_list": [{"model_id": m, "original_price": p} for m, p in rows]}
    return api.shop(shop_id, "POST", UPDATE_PRICE, body=body)


def test_regions_without_decimals_take_integer_prices_only(sim, api):
    item = sim.add_item(ID_SHOP, price="15000")
    refused = price_call(api, ID_SHOP, item, (0, 15000.5))
    assert error(refused)[0] == "product.error_param" and "ID" in error(refused)[1]
    assert sim.price_of(item) == Decimal("15000")
    assert price_call(api, ID_SHOP, item, (0, 16000)).json()["error"] == ""
    assert sim.price_of(item) == Decimal("16000")
    mine = sim.add_item(SHOP)
    assert price_call(api, SHOP, mine, (0, 12.34)).json()["error"] == ""
    assert sim.price_of(mine) == Decimal("12.34")


@pytest.mark.parametrize(("region", "ratio"), [("MY", 7), ("ID", 7), ("SG", 5), ("TH", 5), ("BR", 4), ("CO", 9)])
def test_the_variation_price_ratio_of_the_region_is_enforced(sim, api, region, ratio):
    shop_id = 700 + ratio
    sim.add_shop(shop_id, f"{region} shop", region=region)
    item = sim.add_item(shop_id, models=[("S", "100", 0), ("M", "100", 0)])
    small, medium = sim.model_ids(item)
    at_limit = price_call(api, shop_id, item, (small, 100), (medium, 100 * ratio))
    assert at_limit.json()["error"] == "" and sim.price_of(item, medium) == Decimal(100 * ratio)
    beyond = price_call(api, shop_id, item, (small, 99))
    assert error(beyond)[0] == "product.error_param" and "times" in error(beyond)[1]
    assert sim.price_of(item, small) == Decimal(100)


def test_a_promotion_price_lock_refuses_update_price(sim, api):
    item = sim.add_item(SHOP, price="10.00", price_locked=True)
    locked = price_call(api, SHOP, item, (0, 12))
    assert error(locked) == (
        "error_in_item_promotion_item_price_lock",
        "Can't update price when item is under promotion.",
    )
    sim.lock_price(item, locked=False)
    assert price_call(api, SHOP, item, (0, 12)).json()["error"] == "" and sim.price_of(item) == Decimal(12)


# --- shop and warehouses --------------------------------------------------------------------


def test_shop_info_names_the_shop_as_the_seller_last_named_it(sim, api):
    assert api.shop(SHOP, "GET", SHOP_INFO).json()["shop_name"] == "Local MY shop"
    sim.set_shop_options(SHOP, name="Kedai Demo (Shopee)")
    renamed = api.shop(SHOP, "GET", SHOP_INFO).json()
    assert (renamed["error"], renamed["shop_name"]) == ("", "Kedai Demo (Shopee)")
    # Each shop answers with its own name, never another's.
    assert api.shop(CNSC_SHOP, "GET", SHOP_INFO).json()["shop_name"] == "Cross-border shop"


def test_shop_info_answers_at_top_level_with_region_and_cross_border_flags(sim, api):
    local = api.shop(SHOP, "GET", SHOP_INFO).json()
    assert "response" not in local and local["error"] == ""
    assert (local["shop_name"], local["region"], local["is_cb"], local["is_upgraded_cbsc"]) == (
        "Local MY shop",
        "MY",
        False,
        False,
    )
    assert local["expire_time"] - local["auth_time"] == 365 * 86400
    cnsc = api.shop(CNSC_SHOP, "GET", SHOP_INFO).json()
    assert (cnsc["region"], cnsc["is_cb"], cnsc["is_upgraded_cbsc"]) == ("SG", True, True)
    item = sim.add_item(CNSC_SHOP, stock=1)
    refused = api.shop(
        CNSC_SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 2}]})
    )
    assert error(refused)[0] == "error_auth" and "global_product" in error(refused)[1]


def test_warehouse_detail_lists_locations_or_says_the_shop_is_not_whitelisted(api):
    rows = api.shop(WAREHOUSE_SHOP, "GET", WAREHOUSES).json()["response"]
    assert [row["location_id"] for row in rows] == ["MYZ01", "MYZ02"]
    assert all(row["warehouse_type"] == 1 and row["region"] == "MY" for row in rows)
    single = api.shop(SHOP, "GET", WAREHOUSES)
    assert error(single) == ("warehouse.error_not_in_whitelist", "Your shop is not in multi-warehouse whitelist.")


# --- sellable stock -------------------------------------------------------------------------


def test_orders_take_sellable_stock_per_location_and_partial_cancellation_gives_units_back(sim, api):
    item = sim.add_item(WAREHOUSE_SHOP, models=[("S", "10", {"MYZ01": 2, "MYZ02": 5})])
    (model,) = sim.model_ids(item)
    order_sn = sim.place_order(WAREHOUSE_SHOP, item, model, 4)
    assert (sim.stock_of(item, model, "MYZ01"), sim.stock_of(item, model, "MYZ02")) == (0, 3)
    sim.cancel_units(order_sn, item, model, 1)
    assert sim.stock_of(item, model) == 4
    sim.set_order_status(order_sn, "SHIPPED")
    assert sim.stock_of(item, model) == 4, "shipping changes nothing"
    params = {"order_sn_list": order_sn, "response_optional_fields": "item_list"}
    (order,) = api.shop(WAREHOUSE_SHOP, "GET", ORDER_DETAIL, params=params).json()["response"]["order_list"]
    (line,) = order["item_list"]
    assert (line["model_quantity_purchased"], line["cancelled_qty"], line["active_qty"]) == (4, 1, 3)
    model_row = api.shop(WAREHOUSE_SHOP, "GET", "/api/v2/product/get_model_list", params={"item_id": item}).json()
    stock_info = model_row["response"]["model"][0]["stock_info_v2"]
    assert [(s["location_id"], s["stock"]) for s in stock_info["seller_stock"]] == [("MYZ01", 0), ("MYZ02", 4)]
    assert stock_info["summary_info"] == {"total_reserved_stock": 0, "total_available_stock": 4}


def test_a_write_sets_the_sellable_stock_and_reserved_stock_is_for_promotions_only(sim, api):
    item = sim.add_item(SHOP, stock=10, promotion_reserved=3)
    sim.place_order(SHOP, item, 0, 2)
    assert (sim.stock_of(item), sim.reserved_of(item)) == (8, 3)
    written = api.shop(
        SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 5}]})
    )
    assert written.json()["error"] == "" and sim.stock_of(item) == 5
    row = api.shop(SHOP, "GET", BASE_INFO, params={"item_id_list": item}).json()["response"]["item_list"][0]
    assert row["stock_info_v2"]["summary_info"] == {"total_reserved_stock": 3, "total_available_stock": 5}
    below = api.shop(SHOP, "POST", UPDATE_STOCK, body=stock_body(item, {"model_id": 0, "seller_stock": [{"stock": 2}]}))
    assert error(below) == ("error_auth", "Total stock must be more than reserved stock.")


# --- order list and detail ------------------------------------------------------------------


def test_order_list_by_update_time_pages_with_an_opaque_cursor_and_refuses_wide_ranges(sim, api, clock):
    item = sim.add_item(SHOP, stock=300)
    start = int(clock.now())
    order_sns = {sim.place_order(SHOP, item) for _ in range(130)}
    end = int(clock.now()) + 1
    window = {"time_range_field": "update_time", "time_from": start - 1, "time_to": end, "page_size": 100}
    first = api.shop(SHOP, "GET", ORDER_LIST, params=window).json()["response"]
    assert first["more"] is True and len(first["order_list"]) == 100 and not first["next_cursor"].isdigit()
    second = api.shop(SHOP, "GET", ORDER_LIST, params={**window, "cursor": first["next_cursor"]}).json()["response"]
    assert second["more"] is False and second["next_cursor"] == "" and len(second["order_list"]) == 30
    assert {o["order_sn"] for o in first["order_list"] + second["order_list"]} == order_sns

    too_wide = api.shop(SHOP, "GET", ORDER_LIST, params={**window, "time_from": end - 15 * 86400 - 1})
    assert error(too_wide)[0] == "order.order_list_invalid_time"
    assert error(api.shop(SHOP, "GET", ORDER_LIST, params={**window, "page_size": 101}))[0] == "error_param"

    clock.advance(3600)
    changed = sorted(order_sns)[0]
    sim.set_order_status(changed, "READY_TO_SHIP")
    later = {
        **window,
        "time_from": end + 1,
        "time_to": int(clock.now()) + 1,
        "response_optional_fields": "order_status",
    }
    rows = api.shop(SHOP, "GET", ORDER_LIST, params=later).json()["response"]["order_list"]
    assert rows == [{"order_sn": changed, "order_status": "READY_TO_SHIP"}]


def test_one_unknown_order_fails_the_detail_call_with_error_not_found(sim, api):
    order_sn = sim.place_order(SHOP, sim.add_item(SHOP, stock=1))
    unknown = api.shop(SHOP, "GET", ORDER_DETAIL, params={"order_sn_list": f"{order_sn},260101NOSUCH"})
    assert error(unknown) == ("error_not_found", "Wrong parameters, detail: the order is not found.")
    foreign = sim.place_order(WAREHOUSE_SHOP, sim.add_item(WAREHOUSE_SHOP, stock=1))
    assert error(api.shop(SHOP, "GET", ORDER_DETAIL, params={"order_sn_list": foreign}))[0] == "error_not_found"


def test_extended_descriptions_come_in_description_info(sim, api):
    item = sim.add_item(SHOP, description="Long text", extended_description=True)
    row = api.shop(SHOP, "GET", BASE_INFO, params={"item_id_list": item}).json()["response"]["item_list"][0]
    assert (row["description_type"], row["description"]) == ("extended", "")
    assert row["description_info"]["extended_description"]["field_list"] == [
        {"field_type": "text", "text": "Long text"}
    ]


# --- pushes ---------------------------------------------------------------------------------


class Receiver:
    """A callback URL whose answer the test chooses (status and body)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.status, self.body = 204, b""
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            payload = await request.body()
            with self.lock:
                self.received.append(payload)
            return Response(self.body, status_code=self.status)

        self.server = ServerThread(Starlette(routes=[Route("/push", hook, methods=["POST"])])).start()
        self.url = f"{self.server.url}/push"


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.server.stop()


def test_push_config_takes_codes_1_to_13_and_refuses_an_unknown_code_by_name(sim, api, receiver):
    ok = api.public("POST", PUSH_CONFIG, body={"callback_url": receiver.url, "set_push_config_on": [3]})
    assert ok.json()["response"] == {"result": "success"}
    refused = api.public("POST", PUSH_CONFIG, body={"set_push_config_on": [8, 22]})
    assert error(refused)[0] == "error_param" and "22" in error(refused)[1]
    assert sim.state.push_codes == [3], "a refused call changes nothing"
    assert api.public("POST", PUSH_CONFIG, body={"set_push_config_on": [12]}).json()["error"] == ""
    assert sim.state.push_codes == [3, 12] and sim.state.push_url == receiver.url


def test_only_turned_on_codes_are_pushed_and_each_push_has_a_msg_id(sim, api, receiver):
    api.public("POST", PUSH_CONFIG, body={"callback_url": receiver.url, "set_push_config_on": [2]})
    item = sim.add_item(SHOP, stock=2)
    sim.place_order(SHOP, item)
    assert receiver.received == [], "code 3 is not turned on"
    api.public("POST", PUSH_CONFIG, body={"set_push_config_on": [3]})
    order_sn = sim.place_order(SHOP, item)
    (body,) = receiver.received
    push = json.loads(body)
    assert push["code"] == 3 and push["data"]["ordersn"] == order_sn and len(push["msg_id"]) >= 16
    assert set(push["data"]) >= {"ordersn", "status", "update_time"}


def test_a_reply_with_a_body_is_a_failure_retried_with_the_same_body_then_lost_at_the_loss_time(
    sim, api, receiver, clock
):
    api.public("POST", PUSH_CONFIG, body={"callback_url": receiver.url, "set_push_config_on": [3]})
    receiver.status, receiver.body = 200, b"ok"
    placed_at = int(clock.now())
    order_sn = sim.place_order(SHOP, sim.add_item(SHOP, stock=1))
    assert sim.sender.delivered == 0 and len(sim.sender.pending) == 1
    clock.advance(61)
    assert sim.sender.pump() == 1 and len(receiver.received) == 2
    assert receiver.received[0] == receiver.received[1], "a retry sends the original body"
    for _ in range(4):
        clock.advance(3600)
        sim.sender.pump()
    lost_at = int(clock.now())
    assert sim.sender.pending == [] and len(receiver.received) == 5
    (message,) = api.public("GET", LOST).json()["response"]["push_message_list"]
    assert message["code"] == 3 and message["shop_id"] == SHOP
    assert placed_at + 3600 <= message["timestamp"] <= lost_at, "the lost push's timestamp is when it was lost"
    original = json.loads(message["data"])
    assert original["data"]["ordersn"] == order_sn and original["timestamp"] < message["timestamp"]


def test_a_retry_that_succeeds_is_delivered_once_and_never_lost(sim, api, receiver, clock):
    api.public("POST", PUSH_CONFIG, body={"callback_url": receiver.url, "set_push_config_on": [3]})
    receiver.status = 503
    sim.place_order(SHOP, sim.add_item(SHOP, stock=1))
    receiver.status = 204
    clock.advance(61)
    sim.sender.pump()
    clock.advance(5 * 3600)
    sim.sender.pump()
    assert (sim.sender.delivered, len(receiver.received), sim.sender.lost) == (1, 2, [])


def test_lost_pushes_older_than_3_days_are_not_served_and_confirming_removes_them(sim, api, clock):
    simulator_url = f"http://127.0.0.1:{free_port()}/down"
    api.public("POST", PUSH_CONFIG, body={"callback_url": simulator_url, "set_push_config_on": [3]})
    item = sim.add_item(SHOP, stock=5)
    sim.place_order(SHOP, item)
    for _ in range(5):
        clock.advance(3600)
        sim.sender.pump()
    assert len(api.public("GET", LOST).json()["response"]["push_message_list"]) == 1
    clock.advance(3 * 86400)
    sim.place_order(SHOP, item)
    for _ in range(5):
        clock.advance(3600)
        sim.sender.pump()
    page = api.public("GET", LOST).json()["response"]
    assert len(page["push_message_list"]) == 1 and page["has_next_page"] is False
    assert api.public("POST", CONFIRM_LOST, body={"last_message_id": page["last_message_id"]}).json()["error"] == ""
    assert api.public("GET", LOST).json()["response"]["push_message_list"] == []


# --- the app's daily limit ------------------------------------------------------------------


def test_the_daily_limit_is_shared_by_every_shop_and_resets_at_midnight_utc8(api):
    sim = api.sim
    midnight = datetime.fromtimestamp(sim.clock.now(), tz=UTC8).replace(hour=0, minute=0, second=0, microsecond=0)
    next_midnight = (midnight + timedelta(days=1)).timestamp()
    # Start 10 simulated minutes before midnight UTC+8.
    sim.clock.advance(next_midnight - 600 - sim.clock.now())
    sim.daily_quota = 3
    assert api.shop(SHOP, "GET", SHOP_INFO).json()["error"] == ""
    assert api.shop(WAREHOUSE_SHOP, "GET", SHOP_INFO).json()["error"] == ""
    assert api.public("GET", LOST).json()["error"] == ""
    limited = api.shop(ID_SHOP, "GET", SHOP_INFO)
    assert error(limited)[0] == "error_limit" and "UTC+08:00" in error(limited)[1]
    sim.clock.advance(601)
    assert api.shop(ID_SHOP, "GET", SHOP_INFO).json()["error"] == ""


def test_a_given_clock_is_the_simulators_clock():
    clock = SimClock(start=1_700_000_000)
    simulator = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, clock=clock)
    assert simulator.clock is clock
    simulator.add_shop(SHOP)
    order_sn = simulator.place_order(SHOP, simulator.add_item(SHOP, stock=1))
    assert simulator.state.orders[order_sn].create_time in range(1_700_000_000, 1_700_000_060)
    simulator.stop()
