# Limits: 429 with Retry-After per key (in process and on Redis), 413 for large bodies, 404/405 as problems.
"""Rate and size limits, and the framework's own errors in the one problem shape."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from syncstore.settings import Settings
from tests.api.conftest import make_keys


def _client(engine: sa.Engine, **settings: object) -> tuple[TestClient, dict[str, str]]:
    keys = make_keys(engine)
    app = create_app(engine, Settings(**settings))  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False), keys


def _spend(client: TestClient, key: str, n: int) -> list[int]:
    return [client.get("/v1/rules", headers={"Authorization": f"Bearer {key}"}).status_code for _ in range(n)]


def test_the_rate_limit_is_per_key_with_retry_after(sqlite_engine: sa.Engine) -> None:
    client, keys = _client(sqlite_engine, api_rate_limit=5, redis_url=None)
    statuses = _spend(client, keys["viewer"], 6)
    assert statuses == [200] * 5 + [429]
    limited = client.get("/v1/rules", headers={"Authorization": f"Bearer {keys['viewer']}"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
    assert _spend(client, keys["editor"], 1) == [200]  # another key has its own allowance


def test_the_rate_limit_on_redis_is_shared_by_every_app(sqlite_engine: sa.Engine, redis_url: str) -> None:
    keys = make_keys(sqlite_engine)
    settings = Settings(api_rate_limit=4, redis_url=redis_url)
    import redis

    redis.Redis.from_url(redis_url).delete(*[f"syncstore:api:rl:key:{i}" for i in range(1, 10)])
    first, second = (TestClient(create_app(sqlite_engine, settings)) for _ in range(2))
    key = keys["viewer"]
    assert _spend(first, key, 2) + _spend(second, key, 2) == [200] * 4
    assert _spend(first, key, 1) == [429] and _spend(second, key, 1) == [429]


def test_a_large_body_is_413(sqlite_engine: sa.Engine) -> None:
    client, keys = _client(sqlite_engine, api_rate_limit=0, api_max_body_bytes=2048)
    headers = {"Authorization": f"Bearer {keys['editor']}", "Content-Type": "application/json"}
    response = client.post("/v1/rules", content=b"{" + b" " * 4096 + b"}", headers=headers)
    assert response.status_code == 413 and response.json()["status"] == 413


def test_unknown_paths_and_methods_are_problems(sqlite_engine: sa.Engine) -> None:
    client, keys = _client(sqlite_engine, api_rate_limit=0)
    missing = client.get(f"/v1/{uuid.uuid4().hex}")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    wrong = client.put("/v1/products", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert wrong.status_code == 405 and wrong.json()["status"] == 405
    gone = client.get("/v1/products/999999", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert gone.status_code == 404 and gone.json()["instance"] == "/v1/products/999999"
    huge = client.get(f"/v1/products/{2**70}", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert huge.status_code == 422
