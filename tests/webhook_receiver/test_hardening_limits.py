# S6: unsigned junk has its own per-source budget, and forwarded-for headers count only from trusted proxies.
from __future__ import annotations

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from tests.webhook_receiver.helpers import FROZEN, SOURCE_IP, count, serve, settings, tiktok
from webhook_receiver.app import create_app

PROXY_IP = "10.20.0.5"


def app_for(engine: sa.Engine, db_url: str, **overrides: object) -> Starlette:
    return create_app(settings(db_url, **overrides), engine, clock=lambda: FROZEN)


def test_a_flood_of_unsigned_requests_does_not_spend_a_genuine_senders_allowance(
    engine: sa.Engine, db_url: str
) -> None:
    app = app_for(engine, db_url, webhook_per_ip_per_minute=5, webhook_rejected_per_ip_per_minute=10)
    with serve(app) as client:
        junk = [client.post("/webhooks/tiktokshop", b'{"type":1}', {"Authorization": "forged"}) for _ in range(30)]
        genuine = [client.send(tiktok()) for _ in range(6)]
        metrics = client.get("/metrics").text
    assert [r.status_code for r in junk] == [401] * 10 + [429] * 20  # the junk's own budget runs out
    assert 1 <= int(junk[-1].headers["retry-after"]) <= 60
    assert [r.status_code for r in genuine] == [200] * 5 + [429]  # the genuine budget is whole, and still enforced
    assert count(engine, "webhook_logs") == 5
    assert 'syncstore_webhooks_rejected_total{platform="tiktokshop",reason="rejected_rate_limited"} 20' in metrics


def test_the_body_size_limit_still_comes_first(engine: sa.Engine, db_url: str) -> None:
    app = app_for(engine, db_url, webhook_max_body_bytes=1024, webhook_rejected_per_ip_per_minute=1)
    with serve(app) as client:
        big = [client.post("/webhooks/shopee", b"x" * 2000, {"Authorization": "x"}) for _ in range(2)]
        genuine = client.send(tiktok())
    assert [r.status_code for r in big] == [413, 429]  # oversized junk is junk: it spends the junk budget
    assert genuine.status_code == 200


@pytest.mark.parametrize(
    ("peer", "trusted", "spoofed_sources_are_used"),
    [
        (SOURCE_IP, "", False),  # nobody is trusted by default
        ("127.0.0.1", "", False),  # not even loopback
        (SOURCE_IP, f"{PROXY_IP}/32", False),  # a peer that is not a configured proxy
        (PROXY_IP, "10.20.0.0/16, 192.0.2.1", True),  # a configured proxy (CIDR)
    ],
)
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    engine: sa.Engine, db_url: str, peer: str, trusted: str, spoofed_sources_are_used: bool
) -> None:
    app = app_for(engine, db_url, webhook_per_ip_per_minute=2, trusted_proxies=trusted)
    with serve(app, client_ip=peer) as client:
        answers = []
        for index in range(4):
            path, body, headers = tiktok()
            forwarded = {"X-Forwarded-For": f"198.51.100.{index}, {PROXY_IP}"}
            answers.append(client.post(path, body, {**headers, **forwarded}).status_code)
    # A trusted proxy's forwarded-for names a new sender each time; otherwise every request is the peer's.
    assert answers == ([200] * 4 if spoofed_sources_are_used else [200, 200, 429, 429])


def test_the_client_behind_a_chain_of_trusted_proxies_is_the_first_untrusted_address(
    engine: sa.Engine, db_url: str
) -> None:
    app = app_for(engine, db_url, webhook_per_ip_per_minute=1, trusted_proxies="10.0.0.0/8")
    with serve(app, client_ip=PROXY_IP) as client:
        answers = []
        for spoof in ("1.1.1.1", "2.2.2.2"):  # what the client wrote itself, left of the real address
            path, body, headers = tiktok()
            chain = {"X-Forwarded-For": f"{spoof}, 198.51.100.9, 10.0.0.7"}
            answers.append(client.post(path, body, {**headers, **chain}).status_code)
    assert answers == [200, 429]  # both came from 198.51.100.9


def test_a_bad_trusted_proxies_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="SYNCSTORE_TRUSTED_PROXIES"):
        settings("sqlite://", trusted_proxies="10.0.0.0/8, not-an-ip")
