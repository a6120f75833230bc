# W1-W3 and W5 for Lazada pushes through the receiver: signed raw bytes, any age, duplicates, garbage never 5xx.
"""`POST /webhooks/lazada` with `Authorization` = lower hex HMAC-SHA256(app_secret, app_key + raw body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from tests.webhook_receiver.helpers import FROZEN, Request, count, rows, serve, settings
from webhook_receiver.app import create_app

LAZADA_KEY, LAZADA_SECRET = "123456", "3412gyo124goi3124"
# The reference's push known answer (reference/lazada.md section 6).
KAT_BODY = (
    b'{"seller_id":"1234567","message_type":0,"data":{"order_status":"unpaid","trade_order_id":"260422900198363",'
    b'"trade_order_line_id":"260422900298363","status_update_time":1603698638},"timestamp":1603766859530,"site":"lazada_vn"}'
)
KAT_SIGNATURE = "59e04e1b1f307b7180fd58126161907cd20d33ac17cbce90ec2ae19907e701e6"


def app_for(engine: sa.Engine, db_url: str) -> Any:
    configured = settings(db_url, lazada_app_key=LAZADA_KEY, lazada_app_secret=LAZADA_SECRET)
    return create_app(configured, engine, clock=lambda: FROZEN)


def signed(body: bytes) -> Request:
    signature = hmac.new(LAZADA_SECRET.encode(), LAZADA_KEY.encode() + body, hashlib.sha256).hexdigest()
    return "/webhooks/lazada", body, {"Authorization": signature, "Content-Type": "application/json"}


def order_push(*, timestamp_ms: int = int(FROZEN * 1000), line: str | None = None, status: str = "pending") -> bytes:
    data = {
        "order_status": status,
        "trade_order_id": "7001",
        "trade_order_line_id": line or uuid.uuid4().hex[:10],
        "status_update_time": int(FROZEN),
    }
    payload = {"seller_id": "1000101", "message_type": 0, "data": data, "timestamp": timestamp_ms, "site": "lazada_sg"}
    return json.dumps(payload, separators=(",", ":")).encode()


def test_w1_the_known_answer_is_accepted_and_stored_as_an_order_event(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url)) as client:
        response = client.post("/webhooks/lazada", KAT_BODY, {"Authorization": KAT_SIGNATURE})
        upper = client.post("/webhooks/lazada", KAT_BODY, {"Authorization": KAT_SIGNATURE.upper()})
    assert response.status_code == 200 and upper.status_code == 200
    assert rows(engine, "SELECT platform, event_type, shop_id FROM webhook_logs") == [("lazada", "0", "1234567")]
    assert rows(engine, "SELECT kind, order_id FROM platform_events") == [("order_status", "260422900198363")]


@pytest.mark.parametrize("header", [None, "", KAT_SIGNATURE[:-1], "0" * 64, "sha256=" + KAT_SIGNATURE])
def test_w1_missing_or_wrong_signatures_are_refused(engine: sa.Engine, db_url: str, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    with serve(app_for(engine, db_url)) as client:
        response = client.post("/webhooks/lazada", KAT_BODY, headers)
    assert 400 <= response.status_code < 500
    assert count(engine, "webhook_logs") == 0


def test_w3_a_reserialised_body_fails(engine: sa.Engine, db_url: str) -> None:
    pretty = json.dumps(json.loads(KAT_BODY), indent=1).encode()
    with serve(app_for(engine, db_url)) as client:
        response = client.post("/webhooks/lazada", pretty, {"Authorization": KAT_SIGNATURE})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(("skew_s", "status"), [(-6 * 3600, 200), (-1800, 200), (299, 200), (301, 400)])
def test_w2_any_age_is_accepted_only_the_future_refused_in_milliseconds(
    engine: sa.Engine, db_url: str, skew_s: int, status: int
) -> None:
    with serve(app_for(engine, db_url)) as client:
        response = client.send(signed(order_push(timestamp_ms=int((FROZEN + skew_s) * 1000))))
    assert response.status_code == status


def test_a_retried_push_is_stored_once(engine: sa.Engine, db_url: str) -> None:
    """Lazada retries every 30 minutes with the same data: the second delivery is a duplicate."""
    first = order_push(line="L-1")
    retry = order_push(line="L-1", timestamp_ms=int((FROZEN - 1800) * 1000))
    with serve(app_for(engine, db_url)) as client:
        answers = [client.send(signed(first)), client.send(signed(retry))]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert count(engine, "platform_events") == 1


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b"{}", b'{"message_type":"x"}', b'{"message_type":0,"data":{}}', b"\xff\xfe", b"{" * 500],
)
def test_w5_signed_garbage_never_gets_a_5xx(engine: sa.Engine, db_url: str, body: bytes) -> None:
    with serve(app_for(engine, db_url)) as client:
        response = client.send(signed(body))
    assert response.status_code < 500
