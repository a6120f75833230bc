# Catalog commands: validation, one outbox event and one audit row per command, optimistic locking, overrides.
from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.catalog import reads as catalog_reads
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import AuditLog, InventoryHistory, MasterProduct, OutboxEvent, PlatformOverride, ProductVariant
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied, VersionConflict
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)


def shirt(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "handle": "linen-shirt",
        "title": "Linen shirt",
        "description": "Breathable linen, relaxed fit.",
        "category": "Fashion > Tops",
        "base_price": "59.90",
        "weight_kg": "0.25",
        "length_cm": "30",
        "width_cm": "25",
        "height_cm": "3",
        "images": ["https://images.example.com/linen/1.jpg"],
        "variants": [
            {"sku": "LIN-S", "name": "S", "stock": 5, "attributes": {"size": "S"}},
            {"sku": "LIN-M", "name": "M", "stock": 7, "price": "62.90", "attributes": {"size": "M"}},
        ],
    }
    data.update(overrides)
    return data


def count(engine: sa.Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def create(engine: sa.Engine, **overrides: Any) -> MasterProduct:
    with transaction(engine) as session:
        return catalog.create_product(EDITOR, session, shirt(**overrides))


def test_create_writes_rows_one_outbox_event_and_one_audit_row(engine: sa.Engine) -> None:
    product = create(engine)
    assert (count(engine, MasterProduct), count(engine, ProductVariant)) == (1, 2)
    with transaction(engine) as session:
        event = session.scalars(sa.select(OutboxEvent)).one()
        audit_row = session.scalars(sa.select(AuditLog)).one()
        loaded = catalog_reads.get_product(session, product.id)
    assert event.event_type == "product.created"
    assert event.payload["product_id"] == product.id
    assert audit_row.action == "product.create" and audit_row.actor_label == "editor@example.com"
    assert audit_row.after["variants"][1]["price"] == "62.90"
    assert loaded.base_price == Decimal("59.90") and loaded.currency == "MYR" and loaded.version == 1
    assert [v.sku for v in loaded.variants] == ["LIN-S", "LIN-M"]
    # Initial stock is in the ledger.
    assert count(engine, InventoryHistory) == 2


def test_one_error_names_every_invalid_field(engine: sa.Engine) -> None:
    bad = shirt(
        title="x" * 256,
        base_price="1.234",
        weight_kg="0",
        height_cm=None,
        images=["not a url"],
        variants=[
            {"sku": "A 1", "name": "S", "stock": -1},
            {"sku": "OK-1", "name": "", "price": "0"},
        ],
    )
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        catalog.create_product(EDITOR, session, bad)
    fields = set(raised.value.errors)
    assert {"title", "base_price", "weight_kg", "images.0", "variants.0.sku", "variants.0.stock"} <= fields
    assert {"variants.1.name", "variants.1.price"} <= fields
    assert any("length_cm, width_cm and height_cm" in message for message in raised.value.errors.values())
    assert "2 decimal places" in raised.value.errors["base_price"]
    assert count(engine, MasterProduct) == 0 and count(engine, OutboxEvent) == 0


def test_sku_must_be_unique_across_the_catalog(engine: sa.Engine) -> None:
    first = create(engine)
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        catalog.create_product(EDITOR, session, shirt(handle="other", variants=[{"sku": "lin-s", "name": "S"}]))
    assert raised.value.errors == {"variants.0.sku": f"SKU lin-s is already used by product #{first.id}"}
    with pytest.raises(InvalidInput, match="appears twice"), transaction(engine) as session:
        catalog.create_product(
            EDITOR, session, shirt(handle="x", variants=[{"sku": "Q", "name": "a"}, {"sku": "q", "name": "b"}])
        )
    assert count(engine, MasterProduct) == 1


def test_update_changes_fields_variants_and_ledger(engine: sa.Engine) -> None:
    product = create(engine)
    small, medium = product.variants
    with transaction(engine) as session:
        updated = catalog.update_product(
            EDITOR,
            session,
            product.id,
            expected_version=1,
            changes={
                "title": "Linen shirt, relaxed",
                "base_price": "64.90",
                "variants": [
                    {"id": small.id, "stock": 2},
                    {"id": medium.id, "price": None},
                    {"sku": "LIN-L", "name": "L", "stock": 4, "attributes": {"size": "L"}},
                ],
            },
        )
        assert updated.version == 2
    with transaction(engine) as session:
        loaded = catalog_reads.get_product(session, product.id)
        events = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
        ledger = session.scalars(sa.select(InventoryHistory).order_by(InventoryHistory.id)).all()
    assert loaded.title == "Linen shirt, relaxed" and loaded.base_price == Decimal("64.90")
    assert [(v.sku, v.stock, v.price) for v in loaded.variants] == [
        ("LIN-S", 2, None),
        ("LIN-M", 7, None),
        ("LIN-L", 4, None),
    ]
    assert events[-1].event_type == "product.updated"
    assert events[-1].payload["fields"] == ["base_price", "title"]
    assert [(r.previous_quantity, r.new_quantity) for r in ledger[-2:]] == [(5, 2), (0, 4)]


def test_stale_version_is_refused_and_writes_nothing(engine: sa.Engine) -> None:
    product = create(engine)
    with transaction(engine) as session:
        catalog.update_product(EDITOR, session, product.id, expected_version=1, changes={"title": "First"})
    events, audits = count(engine, OutboxEvent), count(engine, AuditLog)
    with pytest.raises(VersionConflict) as raised, transaction(engine) as session:
        catalog.update_product(EDITOR, session, product.id, expected_version=1, changes={"title": "Second"})
    assert raised.value.current == 2 and "reload" in str(raised.value)
    with transaction(engine) as session:
        assert catalog_reads.get_product(session, product.id).title == "First"
    assert (count(engine, OutboxEvent), count(engine, AuditLog)) == (events, audits)


def test_concurrent_editors_one_wins_one_gets_a_conflict(db_url: str, engine: sa.Engine) -> None:
    product = create(engine)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def edit(title: str) -> None:
        own_engine = create_engine(db_url)
        barrier.wait()
        try:
            with transaction(own_engine) as session:
                catalog.update_product(EDITOR, session, product.id, expected_version=1, changes={"title": title})
            outcomes.append("saved")
        except VersionConflict:
            outcomes.append("conflict")
        finally:
            own_engine.dispose()

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    with transaction(engine) as session:
        assert catalog_reads.get_product(session, product.id).version == 2


def test_variant_patch_errors_name_the_variant(engine: sa.Engine) -> None:
    product = create(engine)
    other = create(engine, handle="other", variants=[{"sku": "OTHER-1", "name": "one"}])
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        catalog.update_product(
            EDITOR,
            session,
            product.id,
            expected_version=1,
            changes={
                "variants": [
                    {"id": other.variants[0].id, "stock": 1},
                    {"id": product.variants[0].id, "sku": "OTHER-1"},
                    {"id": product.variants[1].id, "stock": None},
                    {"name": "no sku"},
                ]
            },
        )
    assert set(raised.value.errors) == {"variants.0.id", "variants.1.sku", "variants.2.stock", "variants.3"}
    with transaction(engine) as session:
        assert catalog_reads.get_product(session, product.id).version == 1


def test_delete_takes_the_product_out_of_the_catalog(engine: sa.Engine) -> None:
    product = create(engine)
    with transaction(engine) as session:
        catalog.delete_product(EDITOR, session, product.id, expected_version=1)
    with transaction(engine) as session:
        with pytest.raises(NotFoundError):
            catalog_reads.get_product(session, product.id)
        assert catalog_reads.list_products(session).total == 0
        event = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
        assert event is not None and event.event_type == "product.deleted"
        variants = session.scalars(sa.select(ProductVariant)).all()
        assert all(not v.is_active for v in variants)


def test_overrides_are_validated_audited_and_announced(engine: sa.Engine) -> None:
    product = create(engine)
    product_id, variant_id = product.id, product.variants[0].id
    with transaction(engine) as session:
        catalog.set_override(EDITOR, session, product_id, platform="shopee", field="price", value="19.90",
                             variant_id=variant_id)  # fmt: skip
        catalog.set_override(EDITOR, session, product_id, platform="tiktokshop", field="title", value="TT title")
        catalog.set_override(EDITOR, session, product_id, platform="tiktokshop", field="title", value="TT title 2")
        overrides = catalog_reads.list_overrides(session, product_id)
    assert [(o.platform, o.field, o.value, o.variant_id) for o in overrides] == [
        ("tiktokshop", "title", "TT title 2", None),
        ("shopee", "price", "19.90", variant_id),
    ]
    bad = [
        ({"platform": "nowhere", "field": "price", "value": "1"}, "platform"),
        ({"platform": "shopee", "field": "stock", "value": "1"}, "field"),
        ({"platform": "shopee", "field": "title", "value": "x", "variant_id": variant_id}, "field"),
        ({"platform": "shopee", "field": "price", "value": "-1"}, "price"),
        ({"platform": "shopee", "field": "images", "value": ["not a url"]}, "images"),
    ]
    for kwargs, field in bad:
        with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
            catalog.set_override(EDITOR, session, product_id, **kwargs)  # type: ignore[arg-type]
        assert field in raised.value.errors
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        catalog.set_override(VIEWER, session, product_id, platform="shopee", field="title", value="x")
    with transaction(engine) as session:
        catalog.delete_override(EDITOR, session, overrides[0].id)
        assert len(catalog_reads.list_overrides(session, product_id)) == 1
        actions = session.scalars(sa.select(AuditLog.action).where(AuditLog.action.startswith("product.override")))
        assert sorted(actions) == ["product.override"] * 3 + ["product.override_delete"]
        events = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.event_type == "product.updated")).all()
        assert [e.payload["fields"] for e in events][-1] == ["override.tiktokshop.title"]


def test_a_failure_after_the_command_rolls_back_rows_and_event_together(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), transaction(engine) as session:
        catalog.create_product(EDITOR, session, shirt())
        raise RuntimeError("crash before commit")
    assert (count(engine, MasterProduct), count(engine, OutboxEvent), count(engine, AuditLog)) == (0, 0, 0)


def test_a_price_set_by_hand_over_an_adopted_one_is_the_merchants_again(engine: sa.Engine) -> None:
    product = create(engine)
    product_id, variant_id = product.id, product.variants[0].id
    with transaction(engine) as session:
        session.add(PlatformOverride(product_id=product_id, variant_id=variant_id, platform="shopee", field="price",
                                     value="21.00", from_platform=True, updated_by="sync"))  # fmt: skip
    with transaction(engine) as session:
        catalog.set_override(EDITOR, session, product_id, platform="shopee", field="price", value="19.90",
                             variant_id=variant_id)  # fmt: skip
        row = session.scalars(sa.select(PlatformOverride).where(PlatformOverride.product_id == product_id)).one()
    # Price rules skip adopted (marketplace) prices only: the merchant's own price is marked up again.
    assert (row.from_platform, row.value) == (False, "19.90")
