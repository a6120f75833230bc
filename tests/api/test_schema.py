# Schemathesis runs the whole OpenAPI schema against the app in process, with a valid key for each role.
"""Property-based contract test: for generated requests to every operation, with an Admin, Editor and
Viewer key, no 5xx, every response matches the schema (status, content type, body), and every 4xx
is an RFC 9457 problem document. A bounded number of examples per operation keeps it short."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from api.app import create_app
from syncstore.settings import Settings
from tests.api.conftest import build

EXAMPLES_PER_OPERATION = 12
ROLES = ("admin", "editor", "viewer")
KEYS: dict[str, str] = {}


# The app is built at import (Schemathesis reads its schema to generate the tests); the fixture points it
# at a migrated database holding a product and one key per role before each test runs.
APP = create_app(sa.create_engine("sqlite://"), Settings(api_rate_limit=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(autouse=True)
def _database(sqlite_engine: sa.Engine) -> Iterator[None]:
    built = build(sqlite_engine)
    KEYS.clear()
    KEYS.update(built.keys)
    APP.state.engine = sqlite_engine
    yield


@schemathesis.check
def problem_documents(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> bool:
    """Every 4xx and 5xx answer is application/problem+json with the status it was sent with."""
    if response.status_code >= 400:
        assert response.headers.get("content-type", [""])[0] == "application/problem+json", response.text
        body = response.json()
        assert body["status"] == response.status_code and body["type"] and body["title"]
    return True


CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    problem_documents,
]


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case) -> None:
    for role in ROLES:
        case.call_and_validate(headers={"Authorization": f"Bearer {KEYS[role]}"}, checks=CHECKS)
