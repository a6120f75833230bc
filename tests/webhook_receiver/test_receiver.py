# The receiver over HTTP on both databases: acknowledge after commit, deduplicate, refuse what it must.
from __future__ import annotations

import json
import logging
import time

import pytest
import sqlalchemy as sa

from syncstore.events import platform_events
from tests.webhook_receiver.helpers import (
    FROZEN,
    SOURCE_IP,
    count,
    rows,
    serve,
    settings,
    shopee,
    signed_tiktok,
    tiktok,
)
from webhook_receiver.app import create_app


def app_for(engine: sa.Engine, db_url: str, **overrides: object):
    return create_app(settings(db_url, **overrides), engine, clock=lambda: FROZEN)


def test_a_shopee_push_is_committed_then_acknowledged_with_an_empty_200(engine: sa.Engine, db_url: str) -> None:
    request = shopee(order="SHP0001", shop_id=780001)
    with serve(app_for(engine, db_url)) as client:
        response = client.send(request)
    assert response.status_code == 200
    assert response.content == b""  # Shopee counts any body as a failed delivery
    [(platform, event_type, shop_id, status, raw_body, headers, signature)] = rows(
        engine, "SELECT platform, event_type, shop_id, status, raw_body, headers, signature FROM webhook_logs"
    )
    assert (platform, event_type, shop_id, status) == ("shopee", "3", "780001", "received")
    assert raw_body == request[1].decode()  # the exact bytes, not a re-serialisation
    stored_headers = headers if isinstance(headers, dict) else json.loads(headers)
    assert "authorization" not in {name.lower() for name in stored_headers}
    assert stored_headers["content-type"] == "application/json"
    assert stored_headers["content-length"] == str(len(request[1]))
    assert signature == request[2]["Authorization"]
    [(kind, order_id, event_status)] = rows(engine, "SELECT kind, order_id, status FROM platform_events")
    assert (kind, order_id, event_status) == ("order_status", "SHP0001", "pending")


def test_a_tiktok_webhook_is_stored_with_its_notification_id(engine: sa.Engine, db_url: str) -> None:
    request = tiktok(notification_id="tts-abc-1", data={"order_id": "576461413038785752"})
    with serve(app_for(engine, db_url)) as client:
        response = client.send(request)
    assert response.status_code == 200
    assert rows(engine, "SELECT platform, event_id, shop_id FROM webhook_logs") == [
        ("tiktokshop", "tts-abc-1", "7494001")
    ]
    assert rows(engine, "SELECT kind, order_id FROM platform_events") == [("order_status", "576461413038785752")]


@pytest.mark.parametrize("deliveries", [5])
def test_w6_the_same_event_delivered_n_times_is_stored_once_and_always_acknowledged(
    engine: sa.Engine, db_url: str, deliveries: int
) -> None:
    push, webhook = shopee(), tiktok()
    with serve(app_for(engine, db_url)) as client:
        one_by_one = [client.send(push).status_code for _ in range(deliveries)]
        at_once = [response.status_code for response in client.post_many([webhook] * deliveries)]
        metrics = client.get("/metrics").text
    assert one_by_one == [200] * deliveries and at_once == [200] * deliveries
    assert count(engine, "webhook_logs") == 2 and count(engine, "platform_events") == 2
    assert 'syncstore_webhooks_accepted_total{platform="shopee"} 1' in metrics
    assert f'syncstore_webhooks_duplicates_total{{platform="shopee"}} {deliveries - 1}' in metrics
    assert f'syncstore_webhooks_duplicates_total{{platform="tiktokshop"}} {deliveries - 1}' in metrics


def test_w6_duplicates_with_redis_are_answered_from_the_nonce(
    engine: sa.Engine, db_url: str, redis_url: str, redis_prefix: str
) -> None:
    push = shopee()
    app = create_app(settings(db_url, redis_url=redis_url), engine, clock=lambda: FROZEN, redis_prefix=redis_prefix)
    with serve(app) as client:
        first = client.send(push)
        # The nonce is written after the commit, in the background: wait until it is there.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "nonce_hits_total 1" not in client.get("/metrics").text:
            client.send(push)
        again = [client.send(push).status_code for _ in range(3)]
        metrics = client.get("/metrics").text
    assert first.status_code == 200 and again == [200, 200, 200]
    assert count(engine, "webhook_logs") == 1
    hits = next(line for line in metrics.splitlines() if line.startswith("syncstore_webhook_nonce_hits_total"))
    assert int(hits.split()[-1]) >= 3


def test_many_concurrent_events_are_grouped_into_few_commits(engine: sa.Engine, db_url: str) -> None:
    requests = [shopee() if index % 2 else tiktok() for index in range(200)]
    app = app_for(engine, db_url)
    with serve(app) as client:
        statuses = {response.status_code for response in client.post_many(requests)}
    assert statuses == {200}
    assert count(engine, "webhook_logs") == 200 and count(engine, "platform_events") == 200
    batches = app.state.receiver.metrics.batch_size
    assert batches.total == 200 and batches.count < 200  # group commit: one transaction, many events


def test_an_unknown_event_type_is_stored_ignored_and_acknowledged(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url)) as client:
        tiktok_response = client.send(tiktok(type_=999, data={"whatever": 1}))
        shopee_response = client.send(shopee(code=77, data={"something": "new"}))
    assert (tiktok_response.status_code, shopee_response.status_code) == (200, 200)
    assert sorted(rows(engine, "SELECT platform, status FROM webhook_logs")) == [
        ("shopee", "ignored"),
        ("tiktokshop", "ignored"),
    ]
    assert sorted(rows(engine, "SELECT kind, status FROM platform_events")) == [
        ("unknown", "ignored"),
        ("unknown", "ignored"),
    ]
    with sa.orm.Session(engine) as session:
        assert platform_events.pending(session) == []


@pytest.mark.parametrize(
    ("mutate", "status", "reason"),
    [
        (lambda r: (r[0], r[1], {}), 401, "bad_signature"),
        (lambda r: (r[0], r[1], {"Authorization": "0" * 64}), 401, "bad_signature"),
        (lambda r: (r[0], r[1], {"Authorization": b"not hex \xe9\xff at all"}), 401, "bad_signature"),
        (lambda r: (r[0], r[1] + b" ", r[2]), 401, "bad_signature"),
        (lambda r: (r[0], r[1], {**r[2], "Content-Length": "12x"}), 400, "bad_content_length"),
    ],
    ids=["missing", "wrong", "garbage", "body-changed", "bad-content-length"],
)
def test_bad_requests_are_refused_with_4xx_and_counted(
    engine: sa.Engine, db_url: str, mutate, status: int, reason: str
) -> None:
    with serve(app_for(engine, db_url)) as client:
        response = client.send(mutate(shopee()))
        metrics = client.get("/metrics").text
    assert response.status_code == status
    assert f'syncstore_webhooks_rejected_total{{platform="shopee",reason="{reason}"}} 1' in metrics
    assert count(engine, "webhook_logs") == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe\x00garbage", b"[]", b'{"code": "3"}', b'{"code": 3, "timestamp": 1}'],
    ids=["empty", "text", "non-utf8", "array", "string-code", "no-ordersn"],
)
def test_signed_but_malformed_bodies_get_400(engine: sa.Engine, db_url: str, body: bytes) -> None:
    from connectors.shopee.signing import sign_push
    from tests.webhook_receiver.helpers import PARTNER_KEY, SHOPEE_URL

    with serve(app_for(engine, db_url)) as client:
        response = client.post("/webhooks/shopee", body, {"Authorization": sign_push(SHOPEE_URL, body, PARTNER_KEY)})
    assert response.status_code == 400
    assert response.json() == {"error": "malformed"}
    assert count(engine, "webhook_logs") == 0


@pytest.mark.parametrize(
    "timestamp",
    [b"Infinity", b"-Infinity", b"1e999", b'"soon"'],
    ids=["infinity", "minus-infinity", "overflowing", "text"],
)
def test_signed_tiktok_webhook_with_a_timestamp_that_is_no_time_gets_400(
    engine: sa.Engine, db_url: str, timestamp: bytes
) -> None:
    # Python's json reads Infinity and 1e999 as floats: once, int() of one was an unhandled error (503).
    body = b'{"type":1,"tts_notification_id":"n-ts","shop_id":"7494001","timestamp":%s,"data":{"order_id":"1"}}'
    with serve(app_for(engine, db_url)) as client:
        response = client.send(signed_tiktok(body % timestamp))
    assert response.status_code == 400
    assert response.json() == {"error": "malformed"}
    assert count(engine, "webhook_logs") == 0


def test_ids_longer_than_their_columns_are_refused_not_500(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url)) as client:
        long_id = client.send(tiktok(notification_id="n" * 500))
        long_shop = client.send(tiktok(shop_id="7" * 200))
        good = client.send(tiktok())
    assert (long_id.status_code, long_shop.status_code, good.status_code) == (400, 400, 200)
    assert count(engine, "webhook_logs") == 1


def test_nul_characters_and_lone_surrogates_in_a_payload_are_stored_safely(engine: sa.Engine, db_url: str) -> None:
    request = tiktok(data={"order_id": "1", "note": "a\u0000b", "odd": "\ud800"})
    with serve(app_for(engine, db_url)) as client:
        response = client.send(request)
    assert response.status_code == 200
    [(raw_body,)] = rows(engine, "SELECT raw_body FROM webhook_logs")
    assert raw_body == request[1].decode()  # the escapes are kept verbatim in the raw body


def test_a_platform_without_keys_is_404_not_500(engine: sa.Engine, db_url: str) -> None:
    app = create_app(
        settings(db_url, tiktokshop_app_key=None, tiktokshop_app_secret=None), engine, clock=lambda: FROZEN
    )
    with serve(app) as client:
        response = client.send(tiktok())
        wrong_method = client.get("/webhooks/shopee")
    assert response.status_code == 404
    assert wrong_method.status_code == 405


def test_a_webhook_under_a_mounted_root_path_is_still_served(engine: sa.Engine, db_url: str) -> None:
    # The shortcut past Starlette's router only takes plain paths; a mounted receiver is still routed.
    from starlette.applications import Starlette
    from starlette.routing import Mount

    inner = app_for(engine, db_url)
    outer = Starlette(routes=[Mount("/hooks", app=inner)], lifespan=lambda _: inner.router.lifespan_context(inner))
    path, body, headers = shopee()
    with serve(outer) as client:
        response = client.post("/hooks" + path, body, headers)
        wrong_method = client.get("/hooks" + path)
    assert (response.status_code, response.content) == (200, b"")
    assert wrong_method.status_code == 405
    assert count(engine, "webhook_logs") == 1


def test_w5_a_body_over_the_limit_gets_413_before_it_is_all_read(engine: sa.Engine, db_url: str) -> None:
    limit = 4096
    pulled: list[int] = []

    async def endless():  # a chunked upload that never ends
        for index in range(10_000):
            pulled.append(index)
            yield b"x" * 1024

    with serve(app_for(engine, db_url, webhook_max_body_bytes=limit)) as client:
        declared = client.post("/webhooks/shopee", b"{" + b" " * (limit + 10) + b"}", {"Authorization": "x"})
        streamed = client.call(lambda: client.client.post("/webhooks/shopee", content=endless()))
        metrics = client.get("/metrics").text
    assert declared.status_code == 413 and streamed.status_code == 413
    assert len(pulled) < 10  # refused after ~limit bytes, not after 10 MB
    assert 'syncstore_webhooks_rejected_total{platform="shopee",reason="too_large"} 2' in metrics


def test_the_per_ip_limit_answers_429_with_retry_after(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url, webhook_per_ip_per_minute=3)) as client:
        statuses = [client.send(tiktok()) for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
    assert 1 <= int(statuses[-1].headers["retry-after"]) <= 60
    assert count(engine, "webhook_logs") == 3


def test_rejections_are_logged_at_a_bounded_rate(
    engine: sa.Engine, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="syncstore.events.webhooks")
    with serve(app_for(engine, db_url, webhook_rejections_logged_per_minute=5)) as client:
        for _ in range(40):
            client.post("/webhooks/shopee", b"{}", {"Authorization": "forged"})
        metrics = client.get("/metrics").text
    logged = [r for r in caplog.records if "webhook rejected" in r.getMessage()]
    assert len(logged) == 5
    assert all(SOURCE_IP in r.getMessage() and "forged" not in r.getMessage() for r in logged)
    assert 'syncstore_webhooks_rejected_total{platform="shopee",reason="bad_signature"} 40' in metrics
    assert count(engine, "webhook_logs") == 0  # a flood of forgeries writes nothing


def test_metrics_are_prometheus_text(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url)) as client:
        client.send(shopee())
        client.send(tiktok(timestamp=FROZEN + 3600))
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for line in (
        'syncstore_webhooks_received_total{platform="shopee"} 1',
        'syncstore_webhooks_received_total{platform="tiktokshop"} 1',
        'syncstore_webhooks_accepted_total{platform="shopee"} 1',
        'syncstore_webhooks_rejected_total{platform="tiktokshop",reason="stale"} 1',
        'syncstore_webhook_ack_seconds_count{platform="shopee"} 1',
        'syncstore_webhook_ack_seconds_bucket{platform="shopee",le="+Inf"} 1',
        "# TYPE syncstore_webhook_ack_seconds histogram",
    ):
        assert line in text, line


def test_healthz_says_only_ok(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # details are `syncstore doctor`'s, not the public's


def test_the_oauth_callbacks_are_mounted(engine: sa.Engine, db_url: str) -> None:
    with serve(app_for(engine, db_url)) as client:
        response = client.get("/oauth/shopee/callback")
    assert response.status_code == 303  # back to the app with an error, never a 404 or a 5xx
