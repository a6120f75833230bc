# Building a shop's plan from diff rows, without a database: each kind of change, its JSON view, its key, its issues.
from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import polars as pl

from syncstore.plan.build import DiffRow, build_changes, diff_rows
from syncstore.plan.calls import estimate_calls
from syncstore.plan.changes import (
    AddVariant,
    Adopt,
    Bind,
    CreateListing,
    Deactivate,
    NewSku,
    PlannedChange,
    UpdateContent,
    UpdatePrice,
    UpdateStock,
    change_key,
)
from syncstore.plan.inputs import CatalogInputs, ProductExtras, Shop
from tests.syncstore.test_reconcile import desired_row, listing_row, run_plan, sku_row

D = Decimal
SHOPEE = Shop(connection_id=1, platform="shopee", shop_id="100001", shop_name="Shopee MY", status="connected")
INPUTS = CatalogInputs(
    variants=pl.DataFrame(), overrides=pl.DataFrame(), rules=[], categories={("shopee", "Fashion"): "100017"},
    product_ids=None,
)  # fmt: skip
EXTRAS = {1: ProductExtras(weight_kg=D("0.30"), dimensions={"length_cm": "30", "width_cm": "20", "height_cm": "2"},
                           attributes={}, generation=0)}  # fmt: skip


def changes_of(
    desired: list[dict[str, Any]],
    skus: list[dict[str, Any]],
    listings: list[dict[str, Any]],
    *,
    shop: Shop = SHOPEE,
    extras: dict[int, ProductExtras] | None = None,
    **row_values: Any,
) -> tuple[list[PlannedChange], int]:
    """The changes (and the conflict count) of the diff of these literal frames."""
    rows = diff_rows(run_plan(desired, skus, listings))
    typed = [cast(DiffRow, {**row, **row_values}) for row in rows]
    changes, conflicts = build_changes(shop, INPUTS, "MYR", extras if extras is not None else EXTRAS, typed)
    return changes, len(conflicts)


def test_a_master_price_edit_is_one_typed_price_change_with_decimal_money_and_a_stable_key() -> None:
    changes, conflicts = changes_of([desired_row(desired_price=D("12.50"))], [sku_row()], [listing_row()])
    assert conflicts == 0
    [change] = changes
    assert isinstance(change, UpdatePrice) and change.price == D("12.50") and change.valid
    assert (change.listing_id, change.listing_sku_id, change.remote_item_id, change.remote_sku_id) == (
        100, 1000, "9100", "77",
    )  # fmt: skip
    # What the sync log records and the dry run shows: money as text.
    assert change.request() == {"sku_id": "77", "price": "12.50"}
    assert change.idempotency_key == change_key(1, "update_price", "sku1000", {"sku_id": "77", "price": "12.50"})
    # Planned again, the same change has the same key; another price has another.
    [again] = changes_of([desired_row(desired_price=D("12.50"))], [sku_row()], [listing_row()])[0]
    [other] = changes_of([desired_row(desired_price=D("13.00"))], [sku_row()], [listing_row()])[0]
    assert again.idempotency_key == change.idempotency_key != other.idempotency_key


def test_stock_and_content_changes_carry_only_what_changed() -> None:
    changes, _ = changes_of(
        [desired_row(desired_stock=3, desired_title="Linen shirt, blue", desired_images=["a.jpg", "b.jpg"])],
        [sku_row()], [listing_row()],
    )  # fmt: skip
    stock, content = changes
    assert isinstance(stock, UpdateStock) and stock.stock == 3 and stock.request() == {"sku_id": "77", "stock": 3}
    assert isinstance(content, UpdateContent) and content.fields == ("title", "images")
    assert content.request() == {"title": "Linen shirt, blue", "images": ["a.jpg", "b.jpg"]}
    assert content.variant_id is None and content.listing_sku_id is None  # a listing-level change


def test_a_value_the_platform_refuses_is_planned_with_its_issue() -> None:
    [change] = changes_of([desired_row(desired_stock=10_000_000)], [sku_row()], [listing_row()])[0]
    assert isinstance(change, UpdateStock) and not change.valid
    assert [issue.field for issue in change.issues] == ["stock"]
    assert estimate_calls("shopee", [change]) == 0  # an invalid change costs nothing


def test_a_new_product_is_one_listing_draft_keyed_by_the_listing_not_its_content() -> None:
    desired = [desired_row(), desired_row(variant_id=11, sku="LIN-11", desired_price=D("11.00"))]
    changes, _ = changes_of(desired, [], [], category="Fashion", currency="MYR")
    [create] = changes
    assert isinstance(create, CreateListing) and create.valid, create.issues
    assert create.category_id == "100017" and create.weight_kg == D("0.30")
    assert create.skus == (
        NewSku(variant_id=10, seller_sku="LIN-10", price=D("10.00"), stock=5),
        NewSku(variant_id=11, seller_sku="LIN-11", price=D("11.00"), stock=5),
    )
    assert create.idempotency_key == "1:create:product1:0" and create.draft_key == "ss-1-1-0"
    request = create.request()
    assert request["weight_kg"] == "0.30" and request["category_id"] == "100017"
    assert request["skus"] == [
        {"variant_id": 10, "seller_sku": "LIN-10", "price": "10.00", "stock": 5, "attributes": {}},
        {"variant_id": 11, "seller_sku": "LIN-11", "price": "11.00", "stock": 5, "attributes": {}},
    ]
    # An edited title is still the same listing: the same key, so a re-run finds it instead of adding twice.
    [edited] = changes_of(
        [desired_row(desired_title="Linen shirt, new"), desired[1]], [], [], category="Fashion", currency="MYR"
    )[0]
    assert edited.idempotency_key == create.idempotency_key
    # Shopee then asks: look the SKU up, add the item, read and add the models.
    assert estimate_calls("shopee", [create]) == 4


def test_a_draft_lacking_a_weight_or_a_mapped_category_is_refused_before_sending() -> None:
    [create] = changes_of([desired_row()], [], [], extras={}, category="Garden")[0]
    assert isinstance(create, CreateListing)
    assert {issue.field for issue in create.issues} == {"weight_kg", "category"}


def test_a_variant_of_a_product_already_listed_is_added_to_its_listing() -> None:
    desired = [desired_row(), desired_row(variant_id=11, sku="LIN-11")]
    [change] = changes_of(desired, [sku_row()], [listing_row()])[0]
    assert isinstance(change, AddVariant) and change.operation == "create" and change.valid
    assert change.variant_id == 11 and change.remote_item_id == "9100"
    assert estimate_calls("shopee", [change]) == 1
    assert change.request() == {
        "listing_id": 100, "item_id": "9100", "location_id": None,
        "sku": {"variant_id": 11, "seller_sku": "LIN-11", "price": "10.00", "stock": 5, "attributes": {}},
    }  # fmt: skip


def test_an_unbound_remote_sku_with_the_masters_seller_sku_is_bound() -> None:
    [change] = changes_of([desired_row()], [sku_row(variant_id=None, seller_sku="lin-10")], [listing_row()])[0]
    assert isinstance(change, Bind)
    assert change.request() == {"sku_id": "77", "seller_sku": "lin-10", "variant_id": 10}
    assert estimate_calls("shopee", [change]) == 0


def test_an_inactive_master_deactivates_its_listing() -> None:
    [change] = changes_of([desired_row(active=False)], [sku_row()], [listing_row()])[0]
    assert isinstance(change, Deactivate) and change.request() == {"active": False}
    assert change.idempotency_key.startswith("1:deactivate:item100:")


def test_a_marketplace_price_edit_is_a_conflict_or_adopted_when_a_rule_says_so() -> None:
    conflicted, conflicts = changes_of([desired_row()], [sku_row(remote_price=D("8.50"))], [listing_row()])
    assert (conflicted, conflicts) == ([], 1)
    [adopt] = changes_of([desired_row(adopt_fields=["price"])], [sku_row(remote_price=D("8.50"))], [listing_row()])[0]
    assert isinstance(adopt, Adopt) and adopt.value == D("8.50") and adopt.sku_level
    assert adopt.request() == {"field": "price", "value": "8.50"}
    assert adopt.idempotency_key.startswith("1:adopt:sku1000:price:")


def test_changes_come_in_the_order_they_are_sent() -> None:
    desired = [
        desired_row(desired_price=D("12.00"), desired_stock=1),
        desired_row(product_id=2, variant_id=20, sku="MUG-20"),
    ]
    changes, _ = changes_of(desired, [sku_row()], [listing_row()], category="Fashion")
    assert [c.operation for c in changes] == ["create", "update_price", "update_stock"]
