# Reads through the API: product pages show what the product itself shows; every read leaves an audit row.
"""Product pages (JSON written by PostgreSQL, or by Python on SQLite) and the read audit, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from api.read_audit import ACTION, ReadAudit
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, MasterProduct
from tests.api.conftest import Api

ODD = {
    "title": "Écharpe « laine » 羊毛\ttab",
    "category": "Scarves",
    "base_price": "1234567.5",
    "weight_kg": "0.250",
    "tags": ["winter", "ünï"],
    "variants": [
        {"sku": "SCARF-RED", "name": "Red", "stock": 3, "attributes": {"colour": "red", "size": "one"}},
        {"sku": "SCARF-BLU", "name": "Blue", "price": "1300000.05", "barcode": "0123456789012"},
    ],
}


def test_a_product_page_shows_each_product_exactly_as_its_own_answer(api: Api) -> None:
    editor = api.as_("editor")
    created = api.client.post("/v1/products", json={**ODD, "handle": "scarf"}, headers=editor).json()
    api.client.post("/v1/products", json={**ODD, "handle": "scarf-2", "variants": [{"sku": "S2", "name": "S"}]},
                    headers=editor)  # fmt: skip
    with transaction(api.engine) as session:  # a time without microseconds is written without them
        session.execute(
            sa.update(MasterProduct)
            .where(MasterProduct.id == created["id"])
            .values(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        )
    page = api.client.get("/v1/products", params={"category": "Scarves"}, headers=api.as_("viewer"))
    assert page.status_code == 200 and page.headers["content-type"] == "application/json"
    items = page.json()["items"]
    assert len(items) == 2 and page.json()["next_cursor"] is None
    for item in items:
        assert item == api.client.get(f"/v1/products/{item['id']}", headers=api.as_("viewer")).json()
    assert items[0]["created_at"] == "2026-01-02T03:04:05Z" and items[0]["base_price"] == "1234567.50"
    assert items[0]["variants"][1]["price"] == "1300000.05" and items[0]["variants"][0]["price"] is None


def test_an_empty_page_and_the_last_page_have_no_cursor(api: Api) -> None:
    empty = api.client.get("/v1/products", params={"category": "None such"}, headers=api.as_("viewer")).json()
    assert empty == {"items": [], "next_cursor": None}
    whole = api.client.get("/v1/products", params={"limit": 1}, headers=api.as_("viewer")).json()
    assert [p["id"] for p in whole["items"]] == [api.product_id] and whole["next_cursor"] is None


def read_rows(api: Api) -> list[AuditLog]:
    audit: ReadAudit = api.client.app.state.read_audit  # type: ignore[attr-defined]
    audit.flush()
    with transaction(api.engine) as session:
        return list(session.scalars(sa.select(AuditLog).where(AuditLog.action == ACTION).order_by(AuditLog.id)))


def test_every_read_is_audited_with_its_caller_and_time(api: Api) -> None:
    before = datetime.now(UTC)
    api.client.get("/v1/products", params={"category": "Apparel", "limit": 5}, headers=api.as_("viewer"))
    api.client.get(f"/v1/products/{api.product_id}", headers=api.as_("admin"))
    api.client.get("/v1/products", headers={"Authorization": "Bearer ssk_wrong_key"})  # no caller: 401
    api.client.patch(f"/v1/products/{api.product_id}", json={"title": "T"}, headers=api.as_("editor"))  # a write
    rows = read_rows(api)
    assert [(r.actor_label.split(" ")[0], r.after) for r in rows] == [
        ("viewer@example.com", {"path": "/v1/products", "query": "category=Apparel&limit=5"}),
        ("admin@example.com", {"path": f"/v1/products/{api.product_id}", "query": ""}),
    ]
    assert all(r.actor_id is not None and r.created_at >= before.replace(microsecond=0) for r in rows)
    assert len(read_rows(api)) == 2  # flushed again: nothing is written twice


def test_reads_the_database_refused_are_written_on_the_next_try(api: Api) -> None:
    from syncstore.db.engine import create_engine
    from syncstore.security.auth import Actor

    audit = ReadAudit(create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"), interval_s=3600)
    audit.add(Actor.command_line(), "/v1/alerts", "")
    assert audit.flush() == 0  # refused: kept
    audit.engine = api.engine
    assert audit.flush() == 1 and audit.flush() == 0
    audit.close()
    with transaction(api.engine) as session:
        assert session.scalar(sa.select(AuditLog.after).where(AuditLog.action == ACTION)) == {
            "path": "/v1/alerts",
            "query": "",
        }
