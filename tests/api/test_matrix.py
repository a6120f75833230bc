# Each role x each endpoint: anonymous 401, Viewer reads but gets 403 on every write, Editor and Admin write.
"""The permission matrix, over every operation in the OpenAPI schema (a new endpoint is covered by default)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

# Operations that only read: every other one is a write a Viewer may not make.
READS = {("POST", "/v1/sync/dry-run")}


def _operations(api: Api) -> list[tuple[str, str]]:
    schema = api.client.get("/openapi.json").json()
    return [(method.upper(), path) for path, ops in schema["paths"].items() for method in ops]


def _fill(api: Api, path: str) -> str:
    return (
        path.replace("{product_id}", str(api.product_id))
        .replace("{variant_id}", str(api.variant_ids[0]))
        .replace("{override_id}", "1")
        .replace("{rule_id}", "1")
        .replace("{listing_id}", "1")
        .replace("{conflict_id}", "1")
        .replace("{job_id}", "1")
        .replace("{log_id}", "1")
    )


def _call(api: Api, method: str, path: str, role: str | None):
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return api.client.request(method, _fill(api, path), json=body, headers=api.as_(role))


def test_every_operation_needs_a_key(sqlite_api: Api) -> None:
    for method, path in _operations(sqlite_api):
        response = _call(sqlite_api, method, path, None)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_wrong_key_is_401_like_no_key(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/v1/products", headers={"Authorization": "Bearer ssk_0123456789ab_nope"})
    assert response.status_code == 401
    assert "ssk_0123456789ab_nope" not in response.text


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_roles_x_endpoints(sqlite_api: Api, role: str) -> None:
    for method, path in _operations(sqlite_api):
        response = _call(sqlite_api, method, path, role)
        write = method != "GET" and (method, path) not in READS
        assert response.status_code < 500, (method, path, response.text)
        if role == "viewer" and write:
            assert response.status_code == 403, (method, path, response.text)
        else:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (method, path)
            assert response.json()["status"] == response.status_code


def test_a_viewer_write_changes_nothing(sqlite_api: Api) -> None:
    before = sqlite_api.client.get(f"/v1/stock/{sqlite_api.variant_ids[0]}", headers=sqlite_api.as_("viewer")).json()
    response = sqlite_api.client.post(
        f"/v1/stock/{sqlite_api.variant_ids[0]}/adjustments", json={"delta": 5}, headers=sqlite_api.as_("viewer")
    )
    assert response.status_code == 403
    after = sqlite_api.client.get(f"/v1/stock/{sqlite_api.variant_ids[0]}", headers=sqlite_api.as_("viewer")).json()
    assert after["on_hand"] == before["on_hand"] == 10
