# Item 12: /healthz says only up or down; /metrics answers only with its bearer token.
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from syncstore.db.engine import create_engine
from tests.webhook_receiver.helpers import FROZEN, METRICS_TOKEN, serve, settings, shopee
from webhook_receiver.app import create_app


def test_healthz_is_ok_and_nothing_else(engine: sa.Engine, db_url: str) -> None:
    with serve(create_app(settings(db_url), engine, clock=lambda: FROZEN)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # no schema revision, no backend, no latency, no Redis detail


def test_healthz_on_an_unmigrated_database_is_503_without_detail(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = create_engine(url)
    with serve(create_app(settings(url), engine, clock=lambda: FROZEN)) as client:
        response = client.get("/healthz")
    engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token", 401),
        (f"Basic {METRICS_TOKEN}", 401),
        (f"Bearer {METRICS_TOKEN}x", 401),
        (f"Bearer {METRICS_TOKEN}", 200),
        (f"bearer {METRICS_TOKEN}", 200),
    ],
)
def test_metrics_need_the_bearer_token(engine: sa.Engine, db_url: str, authorization: str | None, status: int) -> None:
    with serve(create_app(settings(db_url), engine, clock=lambda: FROZEN)) as client:
        client.send(shopee())
        headers = {"Authorization": authorization} if authorization else {}
        response = client.call(lambda: client.client.get("/metrics", headers=headers))
    assert response.status_code == status
    if status == 200:
        assert 'syncstore_webhooks_accepted_total{platform="shopee"} 1' in response.text
    else:
        assert "syncstore_" not in response.text
        assert response.headers["www-authenticate"] == "Bearer"


def test_metrics_are_off_without_a_token(engine: sa.Engine, db_url: str) -> None:
    with serve(create_app(settings(db_url, metrics_token=None), engine, clock=lambda: FROZEN)) as client:
        anonymous = client.call(lambda: client.client.get("/metrics"))
        guessed = client.call(lambda: client.client.get("/metrics", headers={"Authorization": "Bearer "}))
    assert (anonymous.status_code, guessed.status_code) == (404, 404)
    assert "syncstore_" not in anonymous.text + guessed.text
