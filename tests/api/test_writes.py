# Writes through the API: If-Match on versions (412, nothing changed), Idempotency-Key (first answer, one effect).
"""Optimistic locking and idempotency, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, InventoryHistory
from syncstore.inventory import locations as stock_locations
from syncstore.security.auth import Actor
from tests.api.conftest import Api


def test_list_products_pages_with_a_cursor_and_filters(api: Api) -> None:
    headers = api.as_("viewer")
    for n in range(3):
        variants = [{"sku": f"CAP-{n}", "name": "One"}]
        body = {"title": f"Cap {n}", "category": "Hats", "base_price": "10", "variants": variants}
        assert api.client.post("/v1/products", json=body, headers=api.as_("editor")).status_code == 201
    first = api.client.get("/v1/products", params={"category": "Hats", "limit": 2}, headers=headers).json()
    assert [p["title"] for p in first["items"]] == ["Cap 0", "Cap 1"] and first["next_cursor"]
    second = api.client.get(
        "/v1/products", params={"category": "Hats", "limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [p["title"] for p in second["items"]] == ["Cap 2"] and second["next_cursor"] is None
    assert first["items"][0]["base_price"] == "10.00"  # money is a decimal string
    bad = api.client.get("/v1/products", params={"cursor": "garbage"}, headers=headers)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_if_match_with_an_old_version_is_412_and_changes_nothing(api: Api) -> None:
    url, headers = f"/v1/products/{api.product_id}", api.as_("editor")
    read = api.client.get(url, headers=headers)
    etag = read.headers["etag"]
    assert etag == '"1"'
    saved = api.client.patch(url, json={"title": "Linen shirt, washed"}, headers={**headers, "If-Match": etag})
    assert saved.status_code == 200 and saved.headers["etag"] == '"2"'
    stale = api.client.patch(url, json={"title": "Overwritten"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("/version-conflict")
    assert api.client.get(url, headers=headers).json()["title"] == "Linen shirt, washed"
    missing = api.client.patch(url, json={"title": "Blind"}, headers=headers)
    assert missing.status_code == 428
    archived = api.client.delete(url, headers={**headers, "If-Match": etag})
    assert archived.status_code == 412
    assert api.client.get(url, headers=headers).status_code == 200


def test_field_errors_name_each_field(api: Api) -> None:
    body = {"title": "", "category": "Hats", "base_price": "-1", "variants": []}
    response = api.client.post("/v1/products", json=body, headers=api.as_("editor"))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.title", "body.base_price", "body.variants"} <= fields


def test_an_idempotency_key_reused_gives_the_first_answer_and_one_effect(api: Api) -> None:
    variant = api.variant_ids[0]
    url = f"/v1/stock/{variant}/adjustments"
    headers = {**api.as_("editor"), "Idempotency-Key": "adjust-0001"}
    first = api.client.post(url, json={"delta": -3, "note": "damaged"}, headers=headers)
    again = api.client.post(url, json={"delta": -3, "note": "damaged"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["on_hand"] == 7
    assert again.headers.get("idempotent-replayed") == "true"
    other = api.client.post(url, json={"delta": -4}, headers=headers)
    assert other.status_code == 422
    assert api.client.get(f"/v1/stock/{variant}", headers=headers).json()["on_hand"] == 7
    with api.engine.connect() as conn:
        moves = conn.scalar(
            sa.select(sa.func.count()).select_from(InventoryHistory).where(
                InventoryHistory.variant_id == variant, InventoryHistory.change_reason == "manual",
                InventoryHistory.new_quantity == 7,
            )
        )  # fmt: skip
        audited = conn.scalar(
            sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "inventory.adjust")
        )
        label = conn.scalar(sa.select(AuditLog.actor_label).where(AuditLog.action == "inventory.adjust"))
    assert moves == 1 and audited == 1
    assert label is not None and label.startswith("editor@example.com (key ")


def test_idempotency_keys_of_different_callers_never_meet(api: Api) -> None:
    url = f"/v1/stock/{api.variant_ids[0]}/adjustments"
    for role in ("editor", "admin"):
        response = api.client.post(url, json={"delta": 1}, headers={**api.as_(role), "Idempotency-Key": "same"})
        assert response.status_code == 200
    assert api.client.get(url.removesuffix("/adjustments"), headers=api.as_("viewer")).json()["on_hand"] == 12


def test_expected_on_hand_that_changed_is_412(api: Api) -> None:
    url = f"/v1/stock/{api.variant_ids[1]}/adjustments"
    response = api.client.post(url, json={"set_to": 9, "expected_on_hand": 4}, headers=api.as_("editor"))
    assert response.status_code == 412
    assert api.client.get(url.removesuffix("/adjustments"), headers=api.as_("viewer")).json()["on_hand"] == 5


def test_the_reasons_people_use_are_accepted_and_other_needs_a_note(api: Api) -> None:
    url = f"/v1/stock/{api.variant_ids[1]}/adjustments"
    found = api.client.post(url, json={"delta": 2, "reason": "found"}, headers=api.as_("editor"))
    assert found.status_code == 200
    unexplained = api.client.post(url, json={"delta": -1, "reason": "other"}, headers=api.as_("editor"))
    assert unexplained.status_code == 422
    assert "note" in unexplained.text
    explained = api.client.post(url, json={"delta": -1, "reason": "other", "note": "gift"}, headers=api.as_("editor"))
    assert explained.status_code == 200
    assert api.client.get(url.removesuffix("/adjustments"), headers=api.as_("viewer")).json()["on_hand"] == 6


def test_variants_overrides_and_rules(api: Api) -> None:
    editor = api.as_("editor")
    etag = api.client.get(f"/v1/products/{api.product_id}", headers=editor).headers["etag"]
    added = api.client.post(f"/v1/products/{api.product_id}/variants", json={"sku": "LIN-L", "name": "L"},
                            headers={**editor, "If-Match": etag})  # fmt: skip
    assert added.status_code == 200 and len(added.json()["variants"]) == 3
    value = {"platform": "shopee", "field": "title", "value": "Linen shirt (MY)"}
    override = api.client.put(f"/v1/products/{api.product_id}/overrides", json=value, headers=editor)
    assert override.status_code == 200
    assert api.client.delete(f"/v1/overrides/{override.json()['id']}", headers=editor).status_code == 204
    rule = api.client.post("/v1/rules", json={"name": "Buffer", "actions": {"buffer_stock": 2}}, headers=editor)
    assert rule.status_code == 201
    rule_url = f"/v1/rules/{rule.json()['id']}"
    changed = api.client.put(rule_url, json={"name": "Buffer 3", "actions": {"buffer_stock": 3}},
                             headers={**editor, "If-Match": rule.headers["etag"]})  # fmt: skip
    assert changed.status_code == 200
    stale = api.client.delete(rule_url, headers={**editor, "If-Match": rule.headers["etag"]})
    assert stale.status_code == 412
    assert api.client.delete(rule_url, headers={**editor, "If-Match": changed.headers["etag"]}).status_code == 204


def test_no_response_carries_a_key(api: Api) -> None:
    for role, key in api.keys.items():
        response = api.client.get("/v1/products", headers=api.as_(role))
        assert key not in response.text and key.split("_", 2)[2] not in response.text
    assert "ssk_" not in api.client.get("/openapi.json").text.replace("ssk_...", "")


def test_stock_per_location_and_a_transfer_between_locations(api: Api) -> None:
    editor, variant = api.as_("editor"), api.variant_ids[0]
    locations = api.client.get("/v1/locations", headers=api.as_("viewer")).json()
    main = locations[0]
    assert main["is_default"] and len(locations) == 1
    with transaction(api.engine) as session:
        back_room = stock_locations.create_location(Actor.command_line(), session, "Back room").id
    before = api.client.get(f"/v1/stock/{variant}", headers=editor).json()
    assert [(row["name"], row["on_hand"]) for row in before["locations"]] == [(main["name"], 10), ("Back room", 0)]

    url = f"/v1/stock/{variant}/transfers"
    body = {"from_location_id": main["id"], "to_location_id": back_room, "quantity": 4, "note": "shelf"}
    headers = {**editor, "Idempotency-Key": "move-0001"}
    first = api.client.post(url, json=body, headers=headers)
    again = api.client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    after = {row["name"]: row["on_hand"] for row in first.json()["locations"]}
    assert after == {main["name"]: 6, "Back room": 4} and first.json()["on_hand"] == 10

    too_many = api.client.post(url, json={**body, "quantity": 50}, headers=editor)
    assert too_many.status_code == 422 and too_many.headers["content-type"] == "application/problem+json"
    adjusted = api.client.post(
        f"/v1/stock/{variant}/adjustments",
        json={"delta": -1, "reason": "damaged", "location_id": back_room},
        headers=editor,
    )
    assert adjusted.status_code == 200 and adjusted.json()["on_hand"] == 9
    final = {
        row["name"]: row["on_hand"]
        for row in api.client.get(f"/v1/stock/{variant}", headers=editor).json()["locations"]
    }
    assert final == {main["name"]: 6, "Back room": 3}
