# W1-W4: signatures verified over the raw bytes with known answers, freshness on a frozen clock, constant time.
from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors import registry
from connectors.base import EventKind
from connectors.tiktokshop.webhooks import sign_webhook
from syncstore.events.webhook_verification import WebhookKeys, callback_url, check_fresh, verify, verify_and_parse
from syncstore.events.webhooks import (
    InvalidSignature,
    MalformedEvent,
    PlatformNotConfigured,
    StaleEvent,
    UnknownPlatform,
)
from tests.webhook_receiver.helpers import FROZEN, count, serve, settings, shopee, tiktok
from webhook_receiver.app import create_app

ROOT = Path(__file__).resolve().parents[2]

# Known answers, computed independently with `openssl dgst -sha256 -hmac <key>` over the exact bytes.
SHOPEE_KEY = "shopee-known-answer-key"
SHOPEE_CALLBACK = "https://receiver.example/webhooks/shopee"
SHOPEE_BODY = (
    b'{"code":3,"shop_id":14701711,"timestamp":1800000000,"data":{"ordersn":"2601150800ABC","status":"READY_TO_SHIP"}}'
)
SHOPEE_SIGNATURE = "98538906178eca5d9ce97e6ea4fd7bb7a6e7118a8bb142b4c342e661640af551"
TIKTOK_APP_KEY = "tts-known-app"
TIKTOK_SECRET = "tts-known-answer-secret"
TIKTOK_BODY = (
    b'{"type":1,"tts_notification_id":"7327113485714343722","shop_id":"7494001","timestamp":1800000000,'
    b'"data":{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT"}}'
)
TIKTOK_SIGNATURE = "0106d3f36eecb5b43d41a2101ca249b42dfd83288bf49b0a518018b1eb6688c5"


def make_keys(
    shopee_callback_url: str,
    shopee_partner_key: str | None = None,
    tiktokshop_app_key: str | None = None,
    tiktokshop_app_secret: str | None = None,
) -> WebhookKeys:
    return WebhookKeys.of(
        shopee={"callback_url": shopee_callback_url, "partner_key": shopee_partner_key},
        tiktokshop={"app_key": tiktokshop_app_key, "app_secret": tiktokshop_app_secret},
    )


KEYS = make_keys(SHOPEE_CALLBACK, SHOPEE_KEY, TIKTOK_APP_KEY, TIKTOK_SECRET)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- W1: known answers; one flipped byte of body, url or key fails ----------------------------


def test_w1_shopee_known_answer_verifies_and_parses() -> None:
    event = verify_and_parse("shopee", SHOPEE_BODY, SHOPEE_SIGNATURE, KEYS, now=1_800_000_000, tolerance_s=300)
    assert (event.kind, event.shop_id, event.order_id) == (EventKind.ORDER_STATUS, "14701711", "2601150800ABC")
    # Upper-case hex and surrounding spaces are the same signature.
    verify("shopee", SHOPEE_BODY, f"  {SHOPEE_SIGNATURE.upper()} ", KEYS)


def test_w1_tiktok_known_answer_verifies_and_parses() -> None:
    event = verify_and_parse("tiktokshop", TIKTOK_BODY, TIKTOK_SIGNATURE, KEYS, now=1_800_000_000, tolerance_s=300)
    assert (event.event_id, event.order_id) == ("7327113485714343722", "576461413038785752")


@pytest.mark.parametrize("index", [0, 17, len(SHOPEE_BODY) // 2, len(SHOPEE_BODY) - 1])
def test_w1_one_flipped_byte_of_the_shopee_body_fails(index: int) -> None:
    with pytest.raises(InvalidSignature):
        verify("shopee", flip(SHOPEE_BODY, index), SHOPEE_SIGNATURE, KEYS)


@pytest.mark.parametrize("index", [0, 8, len(SHOPEE_CALLBACK) - 1])
def test_w1_one_flipped_byte_of_the_callback_url_fails(index: int) -> None:
    keys = make_keys(flip(SHOPEE_CALLBACK.encode(), index).decode("latin-1"), SHOPEE_KEY)
    with pytest.raises(InvalidSignature):
        verify("shopee", SHOPEE_BODY, SHOPEE_SIGNATURE, keys)


@pytest.mark.parametrize("index", [0, 5, len(SHOPEE_KEY) - 1])
def test_w1_one_flipped_byte_of_the_partner_key_fails(index: int) -> None:
    keys = make_keys(SHOPEE_CALLBACK, flip(SHOPEE_KEY.encode(), index).decode())
    with pytest.raises(InvalidSignature):
        verify("shopee", SHOPEE_BODY, SHOPEE_SIGNATURE, keys)


@pytest.mark.parametrize("part", ["body", "app_key", "secret", "signature"])
def test_w1_one_flipped_byte_of_a_tiktok_input_fails(part: str) -> None:
    body, signature = TIKTOK_BODY, TIKTOK_SIGNATURE
    app_key, secret = TIKTOK_APP_KEY, TIKTOK_SECRET
    if part == "body":
        body = flip(body, 40)
    elif part == "app_key":
        app_key = flip(app_key.encode(), 2).decode()
    elif part == "secret":
        secret = flip(secret.encode(), 3).decode()
    else:
        signature = flip(signature.encode(), 10).decode()
    with pytest.raises(InvalidSignature):
        verify("tiktokshop", body, signature, make_keys(SHOPEE_CALLBACK, SHOPEE_KEY, app_key, secret))


@pytest.mark.parametrize("header", [None, "", "sha256=" + SHOPEE_SIGNATURE, SHOPEE_SIGNATURE[:-1], "\u00e9" * 64])
def test_w1_missing_or_malformed_headers_fail(header: str | None) -> None:
    with pytest.raises(InvalidSignature):
        verify("shopee", SHOPEE_BODY, header, KEYS)


def test_unknown_and_unconfigured_platforms_are_explicit_errors() -> None:
    with pytest.raises(UnknownPlatform):
        verify("nowhere", SHOPEE_BODY, SHOPEE_SIGNATURE, KEYS)
    with pytest.raises(PlatformNotConfigured):
        verify("tiktokshop", TIKTOK_BODY, TIKTOK_SIGNATURE, make_keys(SHOPEE_CALLBACK, SHOPEE_KEY))
    assert "secret" not in repr(KEYS) and TIKTOK_SECRET not in repr(KEYS) and SHOPEE_KEY not in repr(KEYS)


def test_the_callback_url_is_built_from_the_public_url() -> None:
    assert callback_url("https://receiver.example/", "shopee") == SHOPEE_CALLBACK
    assert callback_url("https://receiver.example", "shopee") == SHOPEE_CALLBACK


# --- W3: the raw bytes are verified ------------------------------------------------------------


@pytest.mark.parametrize(
    "reserialise",
    [
        lambda body: json.dumps(json.loads(body)).encode(),  # ", " and ": " separators
        lambda body: json.dumps(json.loads(body), indent=2).encode(),
        lambda body: json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode(),
        lambda body: body + b"\n",
    ],
    ids=["spaces", "indent", "sorted-keys", "trailing-newline"],
)
def test_w3_re_serialised_json_fails(reserialise) -> None:
    for platform, body, signature in (
        ("shopee", SHOPEE_BODY, SHOPEE_SIGNATURE),
        ("tiktokshop", TIKTOK_BODY, TIKTOK_SIGNATURE),
    ):
        other = reserialise(body)
        assert other != body and json.loads(other) == json.loads(body)
        with pytest.raises(InvalidSignature):
            verify(platform, other, signature, KEYS)


# --- W2: any age accepted (platform retries), only the future refused, on a frozen clock ------------

# The platforms' retry ages (TikTok Shop: 2 min, 30 min, 3 h, 12 h; Shopee lost pushes: 3 days).
RETRY_AGES = (120, 1_800, 3 * 3_600, 12 * 3_600, 3 * 86_400)


@pytest.mark.parametrize(
    ("skew", "fresh"), [*((-age, True) for age in RETRY_AGES), (-301, True), (0, True), (299, True), (301, False)]
)
def test_w2_any_age_is_accepted_and_only_the_future_is_refused(skew: int, fresh: bool) -> None:
    body = SHOPEE_BODY.replace(b"1800000000", str(1_800_000_000 + skew).encode())
    from connectors.shopee.webhooks import parse_push

    event = parse_push(body)
    if fresh:
        check_fresh(event, now=1_800_000_000, tolerance_s=300)
    else:
        with pytest.raises(StaleEvent, match="in the future"):
            check_fresh(event, now=1_800_000_000, tolerance_s=300)


def test_w2_shopee_millisecond_timestamps_are_read_as_milliseconds() -> None:
    from connectors.shopee.webhooks import parse_push

    body = SHOPEE_BODY.replace(b"1800000000", b"1800000301123")  # 301 s ahead, in milliseconds
    with pytest.raises(StaleEvent):
        check_fresh(parse_push(body), now=1_800_000_000, tolerance_s=300)


@pytest.mark.parametrize(("skew", "status"), [*((-age, 200) for age in RETRY_AGES), (299, 200), (301, 400)])
def test_w2_over_http_with_a_frozen_clock(engine: sa.Engine, db_url: str, skew: int, status: int) -> None:
    app = create_app(settings(db_url), engine, clock=lambda: FROZEN)
    with serve(app) as client:
        answers = [client.send(shopee(timestamp=FROZEN + skew)), client.send(tiktok(timestamp=FROZEN + skew))]
    assert [answer.status_code for answer in answers] == [status, status]
    if status == 400:
        assert {answer.json()["error"] for answer in answers} == {"stale"}
    assert count(engine, "webhook_logs") == (2 if status == 200 else 0)


def test_w2_a_retry_of_an_hours_old_event_is_stored_once(engine: sa.Engine, db_url: str) -> None:
    """The platform's 12 h retry of an event already stored is a duplicate: 200, no second row."""
    app = create_app(settings(db_url), engine, clock=lambda: FROZEN)
    with serve(app) as client:
        first = client.send(tiktok(notification_id="n-retried", timestamp=FROZEN - 60))
    late = create_app(settings(db_url), engine, clock=lambda: FROZEN + 12 * 3_600)
    with serve(late) as client:
        retry = client.send(tiktok(notification_id="n-retried", timestamp=FROZEN - 60))
    assert (first.status_code, retry.status_code) == (200, 200)
    assert count(engine, "webhook_logs") == 1


def test_w2_a_tiktok_webhook_without_timestamp_is_not_judged_by_time(engine: sa.Engine, db_url: str) -> None:
    app = create_app(settings(db_url), engine, clock=lambda: FROZEN)
    with serve(app) as client:
        assert client.send(tiktok(timestamp=None)).status_code == 200


def test_a_verified_event_keeps_its_received_time_from_the_clock(engine: sa.Engine, db_url: str) -> None:
    app = create_app(settings(db_url), engine, clock=lambda: FROZEN)
    with serve(app) as client:
        client.send(tiktok())
    with engine.connect() as connection:
        received = connection.execute(sa.text("SELECT received_at FROM webhook_logs")).scalar_one()
    if isinstance(received, str):
        received = datetime.fromisoformat(received)
    assert received.replace(tzinfo=UTC) == datetime.fromtimestamp(FROZEN, UTC)


def test_signed_garbage_is_malformed_not_a_crash() -> None:
    for body in (b"[1, 2]", b"{}", b'{"type": "x", "tts_notification_id": "n"}', b"[" * 100_000):
        signature = sign_webhook(TIKTOK_APP_KEY, TIKTOK_SECRET, body)
        with pytest.raises(MalformedEvent):
            verify_and_parse("tiktokshop", body, signature, KEYS, now=FROZEN, tolerance_s=300)


# --- W4: constant-time comparison ------------------------------------------------------------

SIGNATURE_WORDS = ("sign", "authori", "digest", "hmac", "mac", "expected", "presented")


def _verification_sources() -> list[tuple[str, ast.AST]]:
    """Every function of the receiver and the verification module, plus the connectors' verify functions."""
    found: list[tuple[str, ast.AST]] = []
    files = [
        *sorted((ROOT / "webhook_receiver").glob("*.py")),
        ROOT / "syncstore" / "events" / "webhook_verification.py",
    ]
    files.append(ROOT / "syncstore" / "events" / "webhooks.py")
    for path in files:
        found.append((str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))))
    for name in registry.names():
        for path in sorted((ROOT / "connectors" / name).glob("*.py")):  # the platform's package (not its simulator)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and node.name.startswith(("verify", "sign")):
                    found.append((f"{path.relative_to(ROOT)}:{node.name}", node))
    return found


def _equality_on_signatures(tree: ast.AST) -> list[str]:
    """`==` / `!=` comparisons whose operands look like signature values."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            text = ast.unparse(node)
            if any(word in text.lower() for word in SIGNATURE_WORDS):
                found.append(f"{node.lineno}: {text}")
    return found


def test_w4_the_check_itself_catches_an_equality_on_a_signature() -> None:
    bad = ast.parse("def verify(sig, expected):\n    return sig.lower() == expected\n")
    assert _equality_on_signatures(bad) == ["2: sig.lower() == expected"]


def test_w4_signatures_are_never_compared_with_equality() -> None:
    offenders = [f"{where}:{line}" for where, tree in _verification_sources() for line in _equality_on_signatures(tree)]
    assert offenders == []


def test_w4_the_connectors_compare_with_hmac_compare_digest() -> None:
    # The specs' adapters (each package's __init__) delegate to these.
    checked = [
        (where, node)
        for where, node in _verification_sources()
        if where.endswith((":verify_push", ":verify_webhook")) and "/__init__.py:" not in where
    ]
    assert len(checked) >= len(registry.names()), checked
    for where, node in checked:
        assert "hmac.compare_digest" in ast.unparse(node), where
