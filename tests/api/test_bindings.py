# /v1/listing-skus: the SKU-mapping read, the bind preview, bind and unbind over HTTP, on SQLite and PostgreSQL.
from __future__ import annotations

from decimal import Decimal

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from tests.api.conftest import Api
from tests.syncstore.catalog.conftest import add_listing


def orphan(api: Api) -> int:
    """A Shopee orphan SKU "OLD-S" (stock 7, 50.00); the API's product has LIN-S (stock 10, 59.90)."""
    with transaction(api.engine) as session:
        shop = PlatformConnection(platform="shopee", shop_id="1001", shop_name="My Shopee", status="connected")
        session.add(shop)
        session.flush()
        [sku] = add_listing(session, shop, "9001", "Old shirt", [("OLD-S", "50.00", 7)])
        return sku.id


def test_read_preview_bind_and_unbind(api: Api) -> None:
    sku_id = orphan(api)
    listed = api.client.get("/v1/listing-skus", params={"state": "orphan"}, headers=api.as_("viewer")).json()
    assert listed["counts"] == {"bound": 0, "orphan": 1, "excluded": 0}
    [item] = listed["items"]
    assert (item["id"], item["seller_sku"], item["version"]) == (sku_id, "OLD-S", 0)
    assert item["reason"] == "no master SKU has the key 'olds'"

    preview = api.client.get(
        f"/v1/listing-skus/{sku_id}/binding-preview", params={"master_sku": "lin-s"}, headers=api.as_("viewer")
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["text"].startswith("shop My Shopee, SKU OLD-S: stock 7 -> 10, price 50.00 -> ")
    assert Decimal(preview.json()["changes"][1]["after"]) > Decimal("50.00")

    refused = api.client.put(f"/v1/listing-skus/{sku_id}/binding", json={"master_sku": "LIN-S", "expected_version": 0},
                             headers=api.as_("viewer"))  # fmt: skip
    assert refused.status_code == 403
    bound = api.client.put(f"/v1/listing-skus/{sku_id}/binding", json={"master_sku": "LIN-S", "expected_version": 0},
                           headers=api.as_("editor"))  # fmt: skip
    assert bound.status_code == 200, bound.text
    assert (bound.json()["state"], bound.json()["master_sku"], bound.json()["version"]) == ("bound", "LIN-S", 1)
    stale = api.client.delete(f"/v1/listing-skus/{sku_id}/binding", params={"expected_version": 0},
                              headers=api.as_("editor"))  # fmt: skip
    assert stale.status_code == 412
    unbound = api.client.delete(f"/v1/listing-skus/{sku_id}/binding", params={"expected_version": 1},
                                headers=api.as_("editor"))  # fmt: skip
    assert unbound.status_code == 200 and unbound.json()["state"] == "orphan"


def test_a_refused_binding_is_422_with_the_reason(api: Api) -> None:
    sku_id = orphan(api)
    response = api.client.put(f"/v1/listing-skus/{sku_id}/binding", json={"master_sku": "NOPE", "expected_version": 0},
                              headers=api.as_("editor"))  # fmt: skip
    assert response.status_code == 422
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [("master_sku", "no master SKU 'NOPE'")]
    missing = api.client.get("/v1/listing-skus/999/binding-preview", params={"master_sku": "LIN-S"},
                             headers=api.as_("viewer"))  # fmt: skip
    assert missing.status_code == 404
