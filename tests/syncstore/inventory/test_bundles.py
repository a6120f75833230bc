# Bundles: components set by SKU, nesting and self-reference refused, orders move components exactly once.
from __future__ import annotations

import pytest
import sqlalchemy as sa

from connectors.base import OrderStatus
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, InventoryHistory, OutboxEvent
from syncstore.errors import InvalidInput, PermissionDenied
from syncstore.inventory import availability, bundles
from tests.syncstore.inventory.conftest import EDITOR, VIEWER, Store, apply, order, totals


def make_kit(store: Store, parts: list[tuple[str, int]] | None = None) -> list[bundles.Component]:
    with transaction(store.engine) as session:
        return bundles.set_components(EDITOR, session, store.variants["KIT"], parts or [("cup", 2), ("LID", 1)])


def test_components_are_set_by_sku_any_case_and_replace_the_list(store: Store) -> None:
    made = make_kit(store)
    assert [(c.sku, c.quantity) for c in made] == [("CUP", 2), ("LID", 1)]
    replaced = make_kit(store, [("straw", 3)])
    assert [(c.sku, c.quantity) for c in replaced] == [("STRAW", 3)]
    with transaction(store.engine) as session:
        assert bundles.is_bundle(session, store.variants["KIT"])
        assert bundles.components(session, [store.variants["KIT"]]) == {store.variants["KIT"]: replaced}
        assert bundles.bundles_containing(session, [store.variants["STRAW"], store.variants["CUP"]]) == {
            store.variants["STRAW"]: [store.variants["KIT"]]
        }
        audits = session.scalars(sa.select(AuditLog).where(AuditLog.action == "bundle.set_components")).all()
        announced = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.event_type == "inventory.changed")).all()
    assert len(audits) == 2 and audits[-1].after["components"] == [["STRAW", 3]]
    assert [e.payload["variant_ids"] for e in announced] == [[store.variants["KIT"]]] * 2


def test_an_empty_list_makes_the_bundle_a_plain_variant_again(store: Store) -> None:
    make_kit(store)
    with transaction(store.engine) as session:
        assert bundles.set_components(EDITOR, session, store.variants["KIT"], []) == []
        assert not bundles.is_bundle(session, store.variants["KIT"])
        assert availability.available_totals(session, [store.variants["KIT"]]) == {store.variants["KIT"]: 5}


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("NOPE", 1)], "unknown SKU 'NOPE'"),
        ([("CUP", 0)], "quantity of CUP must be a whole number of 1 or more"),
        ([("kit", 1)], "KIT cannot contain itself"),
        ([("CUP", 1), ("cup", 2)], "CUP is listed twice"),
    ],
)
def test_bad_components_are_refused_and_nothing_changes(
    store: Store, parts: list[tuple[str, int]], message: str
) -> None:
    make_kit(store)
    with pytest.raises(InvalidInput) as refused, transaction(store.engine) as session:
        bundles.set_components(EDITOR, session, store.variants["KIT"], parts)
    assert message in refused.value.errors["components"]
    with transaction(store.engine) as session:
        kept = bundles.components(session, [store.variants["KIT"]])[store.variants["KIT"]]
    assert [(c.sku, c.quantity) for c in kept] == [("CUP", 2), ("LID", 1)]


def test_nesting_is_refused_both_ways(store: Store) -> None:
    make_kit(store)
    with pytest.raises(InvalidInput) as inner, transaction(store.engine) as session:
        bundles.set_components(EDITOR, session, store.variants["STRAW"], [("KIT", 1)])
    assert "KIT is itself a bundle" in inner.value.errors["components"]
    with pytest.raises(InvalidInput) as outer, transaction(store.engine) as session:
        bundles.set_components(EDITOR, session, store.variants["CUP"], [("STRAW", 1)])
    assert "CUP is a component of another bundle" in outer.value.errors["components"]


def test_a_viewer_cannot_make_a_bundle(store: Store) -> None:
    with pytest.raises(PermissionDenied), transaction(store.engine) as session:
        bundles.set_components(VIEWER, session, store.variants["KIT"], [("CUP", 1)])


def test_bundle_availability_is_the_floor_minimum_over_components(store: Store) -> None:
    make_kit(store)  # 2 CUP (20 -> 10 kits) + 1 LID (9 -> 9 kits): 9 kits, the kit's own 5 ignored
    with transaction(store.engine) as session:
        assert availability.available_totals(session, [store.variants["KIT"]])[store.variants["KIT"]] == 9
    apply(store.engine, store.shopee, order("O-1", OrderStatus.PAID, ("CUP", 3)))  # CUP 17 -> 8 kits
    frame = availability.channel_available(store.engine, [store.variants["KIT"], store.variants["CUP"]],
                                           [store.shopee, store.tiktok])  # fmt: skip
    assert frame.rows() == [
        (store.shopee, store.variants["CUP"], 17), (store.shopee, store.variants["KIT"], 8),
        (store.tiktok, store.variants["CUP"], 17), (store.tiktok, store.variants["KIT"], 8),
    ]  # fmt: skip


def test_a_bundle_order_reserves_consumes_and_releases_components_once(store: Store) -> None:
    make_kit(store)
    cup, lid, kit = store.variants["CUP"], store.variants["LID"], store.variants["KIT"]
    first = apply(store.engine, store.shopee, order("B-1", OrderStatus.PAID, ("KIT", 2)))
    again = apply(store.engine, store.shopee, order("B-1", OrderStatus.PAID, ("KIT", 2)))
    assert first.applied == (f"shopee:100001:B-1:KIT:reserve:v{cup}", f"shopee:100001:B-1:KIT:reserve:v{lid}")
    assert again.applied == () and set(again.already_applied) == set(first.applied)
    assert first.variant_ids == tuple(sorted((cup, lid)))
    assert (totals(store.engine, cup), totals(store.engine, lid), totals(store.engine, kit)) == (
        (20, 4),
        (9, 2),
        (5, 0),
    )
    for _ in range(2):
        apply(store.engine, store.shopee, order("B-1", OrderStatus.SHIPPED, ("KIT", 2)))
    assert (totals(store.engine, cup), totals(store.engine, lid)) == ((16, 0), (7, 0))
    apply(store.engine, store.shopee, order("B-1", OrderStatus.CANCELLED, ("KIT", 2)))  # too late: shipped
    assert (totals(store.engine, cup), totals(store.engine, lid)) == ((16, 0), (7, 0))
    apply(store.engine, store.shopee, order("B-2", OrderStatus.PAID, ("KIT", 1), ("CUP", 1)))
    for _ in range(2):
        apply(store.engine, store.shopee, order("B-2", OrderStatus.CANCELLED, ("KIT", 1), ("CUP", 1)))
    assert (totals(store.engine, cup), totals(store.engine, lid)) == ((16, 0), (7, 0))
    with transaction(store.engine) as session:
        rows = session.scalars(sa.select(InventoryHistory).where(InventoryHistory.idempotency_key.is_not(None))).all()
    assert (
        len(rows) == len({r.idempotency_key for r in rows}) == 2 * 2 + 3 * 2
    )  # B-1: 2 components x (reserve, consume); B-2: 3 x (reserve, release)


def test_a_partial_cancel_of_a_bundle_line_releases_its_components_once(store: Store) -> None:
    make_kit(store)
    cup, lid = store.variants["CUP"], store.variants["LID"]
    apply(store.engine, store.shopee, order("P-1", OrderStatus.PAID, ("KIT", 3)))
    assert (totals(store.engine, cup)[1], totals(store.engine, lid)[1]) == (6, 3)
    for _ in range(2):
        apply(store.engine, store.shopee, order("P-1", OrderStatus.PAID, ("KIT", 3), cancelled={"KIT": 1}))
    assert (totals(store.engine, cup)[1], totals(store.engine, lid)[1]) == (4, 2)
    apply(store.engine, store.shopee, order("P-1", OrderStatus.SHIPPED, ("KIT", 3), cancelled={"KIT": 1}))
    assert (totals(store.engine, cup), totals(store.engine, lid)) == ((16, 0), (7, 0))


def test_a_plain_line_keeps_its_old_key(store: Store) -> None:
    effect = apply(store.engine, store.shopee, order("K-1", OrderStatus.PAID, ("CUP", 1)))
    assert effect.applied == ("shopee:100001:K-1:CUP:reserve",)


def test_an_editor_stock_edit_of_a_component_announces_its_bundles(store: Store) -> None:
    make_kit(store)
    with transaction(store.engine) as session:
        product_id = session.scalar(sa.text("select product_id from product_variants where sku = 'CUP'"))
        version = session.scalar(sa.text(f"select version from master_products where id = {product_id}"))
        before = session.scalar(sa.select(sa.func.max(OutboxEvent.id)))
    with transaction(store.engine) as session:
        catalog.update_product(EDITOR, session, product_id, expected_version=version,
                               changes={"variants": [{"id": store.variants["CUP"], "stock": 30}]})  # fmt: skip
    with transaction(store.engine) as session:
        events = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.id > before).order_by(OutboxEvent.id)).all()
        assert availability.available_totals(session, [store.variants["KIT"]]) == {store.variants["KIT"]: 9}
    assert [(e.event_type, e.payload.get("variant_ids")) for e in events] == [
        ("inventory.changed", [store.variants["KIT"]]),
        ("product.updated", [store.variants["CUP"]]),
    ]
