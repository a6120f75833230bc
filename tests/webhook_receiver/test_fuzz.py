# W5: fuzzed headers and bodies (forged, signed garbage, signed odd JSON, huge) never get a 5xx.
from __future__ import annotations

import json
import math
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from connectors.lazada.signing import sign_push as sign_lazada_push
from connectors.shopee.signing import sign_push
from connectors.tiktokshop.webhooks import sign_webhook
from tests.webhook_receiver.helpers import (
    APP_KEY,
    APP_SECRET,
    FROZEN,
    PARTNER_KEY,
    SHOPEE_URL,
    Client,
    serve,
    settings,
)
from webhook_receiver.app import create_app

MAX_BODY = 4096
PATHS = ("/webhooks/shopee", "/webhooks/tiktokshop", "/webhooks/lazada")
LAZADA_KEY, LAZADA_SECRET = "fuzz-lazada-key", "fuzz-lazada-secret"

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),  # includes NUL, surrogates and any other code point
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
fresh = st.integers(min_value=int(FROZEN) - 299, max_value=int(FROZEN) + 299)
timestamps = st.one_of(
    fresh,
    fresh,
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.none(),
)
good_ids = st.one_of(st.text(min_size=1, max_size=70), st.integers(min_value=0, max_value=2**64))
ids = st.one_of(good_ids, good_ids, st.none(), st.floats(allow_nan=True), st.lists(st.integers(), max_size=2))


@st.composite
def oddities(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A mostly well-formed event with arbitrary extra JSON, and now and then a field broken or missing."""
    payload = dict(base)
    payload["data"] = {**payload["data"], **draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))}
    for key in draw(st.sets(st.sampled_from(list(payload)), max_size=1)):
        if draw(st.booleans()):
            del payload[key]
        else:
            payload[key] = draw(json_values)
    return payload


@st.composite
def shopee_like(draw: st.DrawFn) -> dict[str, Any]:
    base = {
        "code": draw(st.sampled_from([1, 2, 3, 3, 3, 8, 12, 22, 99])),
        "shop_id": draw(ids),
        "timestamp": draw(timestamps),
        "data": {"ordersn": draw(ids), "status": draw(st.text(max_size=20)), "item_id": draw(ids)},
    }
    return draw(oddities(base))


@st.composite
def tiktok_like(draw: st.DrawFn) -> dict[str, Any]:
    base = {
        "type": draw(st.sampled_from([1, 1, 5, 6, 7, 11, 15, 16, 68, 1000])),
        "tts_notification_id": draw(ids),
        "shop_id": draw(ids),
        "timestamp": draw(timestamps),
        "data": {"order_id": draw(ids), "product_id": draw(ids)},
    }
    return draw(oddities(base))


@st.composite
def lazada_like(draw: st.DrawFn) -> dict[str, Any]:
    base = {
        "seller_id": draw(ids),
        "message_type": draw(st.sampled_from([0, 0, 1, 3, 4, 5, 6, 8, 13, 99])),
        "timestamp": draw(st.one_of(timestamps, fresh.map(lambda seconds: seconds * 1000))),
        "site": draw(st.sampled_from(["lazada_vn", "lazada-sg", "LAZADA_SG", "", "x"])),
        "data": {
            "trade_order_id": draw(ids),
            "trade_order_line_id": draw(ids),
            "order_status": draw(st.text(max_size=12)),
            "item_id": draw(ids),
            "status": draw(st.sampled_from(["close", "normal", "APPROVED"])),
        },
    }
    return draw(oddities(base))


def encode(payload: Any, style: str) -> bytes:
    if style == "compact":
        return json.dumps(payload, separators=(",", ":")).encode()
    if style == "ascii":
        return json.dumps(payload).encode()
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


def sign(path: str, body: bytes) -> str:
    if path.endswith("shopee"):
        return sign_push(SHOPEE_URL, body, PARTNER_KEY)
    if path.endswith("lazada"):
        return sign_lazada_push(LAZADA_KEY, LAZADA_SECRET, body)
    return sign_webhook(APP_KEY, APP_SECRET, body)


header_values = st.one_of(
    st.none(),
    st.binary(max_size=80).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
    st.just("0" * 64),
)


def check(response_status: int, path: str, content: bytes) -> None:
    assert response_status < 500 or response_status == 503, response_status
    assert response_status != 503, "the database is up: 503 would mean a broken commit"
    if path.endswith("shopee") and 200 <= response_status < 300:
        assert content == b""


def run_fuzz(client: Client) -> None:
    @hypothesis_settings(
        max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
    )
    @given(
        path=st.sampled_from(PATHS),
        body=st.one_of(st.binary(max_size=300), st.binary(min_size=MAX_BODY + 1, max_size=MAX_BODY + 50)),
        authorization=header_values,
        content_type=header_values,
    )
    def forged(path: str, body: bytes, authorization: Any, content_type: Any) -> None:
        headers = {k: v for k, v in {"Authorization": authorization, "Content-Type": content_type}.items() if v}
        response = client.post(path, body, headers)
        check(response.status_code, path, response.content)
        assert response.status_code in (400, 401, 413), response.status_code

    @hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        which=st.sampled_from(PATHS),
        shopee_payload=shopee_like(),
        tiktok_payload=tiktok_like(),
        lazada_payload=lazada_like(),
        style=st.sampled_from(["compact", "ascii", "unicode"]),
        raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=200), st.just(b"[" * 3000)),
    )
    def signed(
        which: str, shopee_payload: Any, tiktok_payload: Any, lazada_payload: Any, style: str, raw: bytes | None
    ) -> None:
        payloads = {"shopee": shopee_payload, "tiktokshop": tiktok_payload, "lazada": lazada_payload}
        payload = payloads[which.rsplit("/", 1)[1]]
        body = raw if raw is not None else encode(payload, style)
        response = client.post(which, body, {"Authorization": sign(which, body)})
        check(response.status_code, which, response.content)

    forged()
    signed()


def test_w5_fuzzed_requests_never_get_a_5xx(engine: sa.Engine, db_url: str) -> None:
    configured = settings(
        db_url, webhook_max_body_bytes=MAX_BODY, lazada_app_key=LAZADA_KEY, lazada_app_secret=LAZADA_SECRET
    )
    app = create_app(configured, engine, clock=lambda: FROZEN)
    with serve(app) as client:
        run_fuzz(client)
        metrics = client.get("/metrics").text
    assert 'reason="internal"' not in metrics  # no unexpected exception was swallowed either
    assert 'reason="unavailable"' not in metrics


def test_the_fuzz_strategies_reach_the_database() -> None:
    # A sanity check on the generators: a well-formed signed event is among what they can produce.
    payload = {"type": 1, "tts_notification_id": "x", "shop_id": "1", "timestamp": int(FROZEN), "data": {"order_id": 1}}
    assert not math.isnan(FROZEN) and json.loads(encode(payload, "compact")) == payload


@pytest.mark.parametrize("length", ["-1", "1e3", " 12", "99999999999999999999999"])
def test_odd_content_length_headers_are_4xx(engine: sa.Engine, db_url: str, length: str) -> None:
    app = create_app(settings(db_url, webhook_max_body_bytes=MAX_BODY), engine, clock=lambda: FROZEN)
    with serve(app) as client:
        response = client.post("/webhooks/tiktokshop", b"{}", {"Content-Length": length, "Authorization": "x"})
    assert 400 <= response.status_code < 500
