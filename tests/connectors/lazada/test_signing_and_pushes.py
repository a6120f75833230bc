# Lazada signing known answers (reference section 2.3), push verification and parsing, and error mapping.
"""K1..K4 from the reference, the push known answer, and what each error code becomes."""

from __future__ import annotations

import json

import pytest

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    EventKind,
    InvalidRequest,
    ItemRefused,
    NotFound,
    RateLimited,
    Transient,
)
from connectors.lazada.errors import parse_response
from connectors.lazada.signing import EmptyParameter, sign, sign_push
from connectors.lazada.transport import api_host_for
from connectors.lazada.webhooks import WebhookPayloadError, parse_webhook, verify_webhook

SYSTEM = {"access_token": "test", "app_key": "123456", "sign_method": "sha256", "timestamp": "1517820392000"}


@pytest.mark.parametrize(
    ("secret", "path", "params", "expected"),
    [
        (
            "helloworld",
            "/order/get",
            {**SYSTEM, "order_id": "1234"},
            "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
        ),
        (
            "1234",
            "/test/api",
            {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"},
            "988085883BF9D32D251478D23122C7ECC91518CDF63BA22F792000A378F52409",
        ),
        (
            "helloworld",
            "/product/price_quantity/update",
            {
                **SYSTEM,
                "payload": (
                    "<Request><Product><Skus><Sku><ItemId>234234234</ItemId><SkuId>234</SkuId>"
                    "<SellerSku>Apple-SG-Glod-64G</SellerSku><Quantity>20</Quantity></Sku></Skus></Product></Request>"
                ),
            },
            "29158263A7CE9714DB5CC447F778E289A723D6D28730C67A1337675C2C9EB9D5",
        ),
        (
            "helloworld",
            "/auth/token/create",
            {
                "app_key": "123456",
                "code": "0_100132_2DL4DV3jcU1UOT7WGI1A4rY91",
                "sign_method": "sha256",
                "timestamp": "1517820392000",
            },
            "B1B32F5DD4CB67C8B8100B71DDAA51A65B7BCABD40CE0F6F69A33DE14089B880",
        ),
    ],
    ids=["K1", "K2", "K3", "K4"],
)
def test_known_answers(secret: str, path: str, params: dict[str, str], expected: str) -> None:
    assert sign(secret, path, params) == expected
    assert sign(secret, path, {**params, "sign": "ignored"}) == expected


def test_an_empty_parameter_is_never_signed() -> None:
    with pytest.raises(EmptyParameter):
        sign("s", "/x", {"a": ""})


PUSH_BODY = (
    b'{"seller_id":"1234567","message_type":0,"data":{"order_status":"unpaid","trade_order_id":"260422900198363",'
    b'"trade_order_line_id":"260422900298363","status_update_time":1603698638},"timestamp":1603766859530,"site":"lazada_vn"}'
)
PUSH_SIGN = "59e04e1b1f307b7180fd58126161907cd20d33ac17cbce90ec2ae19907e701e6"


def test_push_known_answer_and_verification() -> None:
    assert sign_push("123456", "3412gyo124goi3124", PUSH_BODY) == PUSH_SIGN
    assert verify_webhook("123456", "3412gyo124goi3124", PUSH_BODY, PUSH_SIGN)
    assert verify_webhook("123456", "3412gyo124goi3124", PUSH_BODY, PUSH_SIGN.upper())
    assert not verify_webhook("123456", "3412gyo124goi3124", PUSH_BODY + b" ", PUSH_SIGN)
    assert not verify_webhook("123456", "other", PUSH_BODY, PUSH_SIGN)
    assert not verify_webhook("123456", "3412gyo124goi3124", PUSH_BODY, None)
    assert not verify_webhook("123456", "3412gyo124goi3124", PUSH_BODY, "é" * 64)


def push(message_type: int, data: dict[str, object]) -> bytes:
    return json.dumps({"seller_id": "1", "message_type": message_type, "data": data, "timestamp": 1700000000}).encode()


def test_push_parsing() -> None:
    event = parse_webhook(PUSH_BODY)
    assert event.kind is EventKind.ORDER_STATUS and event.order_id == "260422900198363"
    assert event.shop_id == "1234567" and event.raw_type == "0" and event.data["country"] == "VN"
    assert event.occurred_at is not None and event.occurred_at.year == 2020
    # A retry carries the same data with another timestamp: the same event id.
    retried = json.loads(PUSH_BODY)
    retried["timestamp"] = 1603770000000
    assert parse_webhook(json.dumps(retried)).event_id == event.event_id
    qc = parse_webhook(
        json.dumps(
            {"seller_id": "1", "message_type": 1, "data": {"itemId": 77, "status": "REJECTED"}, "timestamp": 1700000000}
        )
    )
    assert qc.kind is EventKind.PRODUCT_AUDIT and qc.item_id == "77"
    product = parse_webhook(
        json.dumps(
            {
                "seller_id": "1",
                "message_type": 4,
                "data": {"item_id": 5, "action": "EDITED_UPDATED"},
                "timestamp": 1700000000,
            }
        )
    )
    assert product.kind is EventKind.PRODUCT_CHANGE and product.item_id == "5"
    expiring = parse_webhook(
        json.dumps({"seller_id": "1", "message_type": 8, "data": {"app_key": "k"}, "timestamp": 1})
    )
    assert expiring.kind is EventKind.AUTHORIZATION and expiring.raw_type == "8"
    assert parse_webhook(push(13, {"status": "close"})).kind is EventKind.AUTHORIZATION
    assert parse_webhook(push(13, {"status": "normal"})).kind is EventKind.UNKNOWN
    unknown = parse_webhook(json.dumps({"message_type": 12, "data": {"status": "x"}, "site": "lazada_sg"}))
    assert unknown.kind is EventKind.UNKNOWN and unknown.shop_id is None
    for bad in (b"not json", b"[]", b'{"data":{}}', b'{"message_type":0,"data":{}}', b'{"message_type":0,"data":[]}'):
        with pytest.raises(WebhookPayloadError):
            parse_webhook(bad)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ApiCallLimit", RateLimited),
        ("901", RateLimited),
        ("998", Transient),
        ("ServiceTimeout", Transient),
        ("IllegalAccessToken", AuthExpired),
        ("IllegalRefreshToken", AuthRevoked),
        ("InvalidCode", AuthRevoked),
        ("208", NotFound),
        ("16", NotFound),
        ("4170", ItemRefused),
        ("4148", ItemRefused),
        ("500", ItemRefused),
        ("IncompleteSignature", InvalidRequest),
        ("19", InvalidRequest),
    ],
)
def test_error_mapping(code: str, expected: type[Exception]) -> None:
    body = json.dumps({"type": "ISV", "code": code, "message": "this ban will last 2 seconds", "request_id": "r1"})
    with pytest.raises(expected) as raised:
        parse_response(200, body.encode())
    assert getattr(raised.value, "code", None) == code
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 2.0


def test_secrets_never_reach_error_messages() -> None:
    body = json.dumps({"code": "IllegalAccessToken", "message": "token tok-123 is invalid", "request_id": "r"})
    with pytest.raises(AuthExpired) as raised:
        parse_response(200, body.encode(), secrets=["tok-123"])
    assert "tok-123" not in str(raised.value)


def test_country_hosts() -> None:
    assert api_host_for("", "sg") == "https://api.lazada.sg/rest"
    assert api_host_for("", "PH") == "https://api.lazada.com.ph/rest"
    assert api_host_for("http://127.0.0.1:8103/", "sg") == "http://127.0.0.1:8103"
    with pytest.raises(InvalidRequest):
        api_host_for("", "us")
