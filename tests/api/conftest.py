# Fixtures for the API tests: the app in process on a migrated database, one user and API key per role, a product.
"""API fixtures: `api` gives a TestClient, the keys of an admin, an editor and a viewer, and a product."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from syncstore.catalog import commands
from syncstore.db.engine import transaction
from syncstore.security import api_keys
from syncstore.security.auth import Actor, create_user
from syncstore.settings import Settings

PRODUCT = {
    "title": "Linen shirt",
    "category": "Apparel",
    "base_price": "59.90",
    "variants": [
        {"sku": "LIN-S", "name": "S", "stock": 10},
        {"sku": "LIN-M", "name": "M", "stock": 5, "price": "62.00"},
    ],
}


@dataclass
class Api:
    client: TestClient
    engine: sa.Engine
    keys: dict[str, str]
    product_id: int
    variant_ids: list[int]

    def as_(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}


def make_keys(engine: sa.Engine) -> dict[str, str]:
    keys = {}
    with transaction(engine) as session:
        for role in ("admin", "editor", "viewer"):
            user = create_user(Actor.command_line(), session, email=f"{role}@example.com", role=role, password=None)
            actor = Actor.from_user(user)
            keys[role] = api_keys.create_key(session, actor, name=f"{role} key").secret
    return keys


def build(engine: sa.Engine, **settings: object) -> Api:
    keys = make_keys(engine)
    with transaction(engine) as session:
        product = commands.create_product(Actor.command_line(), session, PRODUCT)
        product_id, variant_ids = product.id, [v.id for v in product.variants]
    app = create_app(engine, Settings(api_rate_limit=0, api_key_cache_seconds=0, **settings))  # type: ignore[arg-type]
    return Api(TestClient(app, raise_server_exceptions=False), engine, keys, product_id, variant_ids)


@pytest.fixture
def api(engine: sa.Engine) -> Iterator[Api]:
    """The API on SQLite, then on PostgreSQL (rate limit off; tests of the limit build their own app)."""
    built = build(engine)
    with built.client:
        yield built


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    from syncstore.db.engine import create_engine
    from tests.conftest import _wipe

    engine = create_engine(sqlite_url)
    _wipe(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_api(sqlite_engine: sa.Engine) -> Iterator[Api]:
    """The API on SQLite only (the role matrix and the schema run)."""
    built = build(sqlite_engine)
    with built.client:
        yield built
