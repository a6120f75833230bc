# The three-way diff and the sync plan: every case on small literal frames, a convergence property, the loaders.
"""Tests for syncstore.plan.reconcile.

Field cases run `classify_fields` on one-row frames; listing cases run `plan` on a desired frame
and a shop snapshot built from a few dicts. The property applies a plan the way a successful sync
would and checks that a second diff finds nothing left to do but conflicts. The loaders run on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from syncstore.db.models import (
    MasterProduct,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductVariant,
)
from syncstore.plan import reconcile
from syncstore.plan.reconcile import (
    DESIRED_SCHEMA,
    FIELD_NAMES,
    REMOTE_LISTINGS_SCHEMA,
    REMOTE_SKUS_SCHEMA,
    classify_fields,
    desired_state,
    no_rules,
    plan,
    summary,
)
from syncstore.plan.rules import Rule, RuleActions, RuleConditions, apply_rules

D = Decimal
SHOP = "shopee-100001"


# --- builders -------------------------------------------------------------------------------


def _frame(rows: list[dict[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    columns = {name for row in rows for name in row}
    return pl.DataFrame(rows, schema={name: dtype for name, dtype in schema.items() if name in columns})


def desired_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "shop_key": SHOP, "connection_id": 1, "platform": "shopee", "product_id": 1, "variant_id": 10,
        "sku": "LIN-10", "active": True, "excluded": False, "adopt_fields": [],
        "desired_price": D("10.00"), "desired_stock": 5, "desired_title": "Linen shirt",
        "desired_description": "Soft", "desired_images": ["a.jpg"],
    }  # fmt: skip
    return row | values


def listing_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "listing_id": 100, "connection_id": 1, "shop_key": SHOP, "platform": "shopee", "listing_product_id": 1,
        "remote_item_id": "9100", "remote_status": "active",
        "remote_title": "Linen shirt", "base_title": "Linen shirt",
        "remote_description": "Soft", "base_description": "Soft",
        "remote_images": ["a.jpg"], "base_images": ["a.jpg"],
    }  # fmt: skip
    return row | values


def sku_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "listing_sku_id": 1000, "listing_id": 100, "connection_id": 1, "shop_key": SHOP, "variant_id": 10,
        "remote_sku_id": "77", "seller_sku": "LIN-10",
        "remote_price": D("10.00"), "base_price": D("10.00"), "remote_stock": 5, "base_stock": 5,
    }  # fmt: skip
    return row | values


def run_plan(desired: list[dict[str, Any]], skus: list[dict[str, Any]], listings: list[dict[str, Any]]) -> pl.DataFrame:
    return plan(
        _frame(desired, DESIRED_SCHEMA) if desired else pl.DataFrame(schema=DESIRED_SCHEMA),
        _frame(skus, REMOTE_SKUS_SCHEMA) if skus else pl.DataFrame(schema=REMOTE_SKUS_SCHEMA),
        _frame(listings, REMOTE_LISTINGS_SCHEMA) if listings else pl.DataFrame(schema=REMOTE_LISTINGS_SCHEMA),
    )


def classify(field: str, desired: Any, remote: Any, base: Any, adopt: list[str] | None = None) -> str | None:
    dtype = next(f.dtype for f in reconcile.FIELDS if f.name == field)
    frame = pl.DataFrame(
        {f"desired_{field}": [desired], f"remote_{field}": [remote], f"base_{field}": [base], "adopt_fields": [adopt]},
        schema={f"desired_{field}": dtype, f"remote_{field}": dtype, f"base_{field}": dtype,
                "adopt_fields": pl.List(pl.String)},
    )  # fmt: skip
    action: str | None = classify_fields(frame)[f"{field}_action"][0]
    return action


# --- three-way classification per field -----------------------------------------------------


def test_in_sync_when_master_equals_marketplace() -> None:
    assert classify("price", D("10.00"), D("10.00"), D("10.00")) == "in_sync"
    # Whatever the baseline says: both sides agree.
    assert classify("title", "New", "New", "Old") == "in_sync"


def test_master_changed_is_pushed() -> None:
    assert classify("price", D("12.00"), D("10.00"), D("10.00")) == "push"
    assert classify("title", "New", "Old", "Old") == "push"
    assert classify("stock", 3, 5, 5) == "push"


def test_marketplace_changed_stock_is_drift_pushed() -> None:
    assert classify("stock", 5, 2, 5) == "push"


def test_marketplace_changed_title_is_a_conflict() -> None:
    assert classify("title", "Linen shirt", "LINEN SHIRT SALE", "Linen shirt") == "conflict"
    assert classify("description", "Soft", "Softest", "Soft") == "conflict"
    assert classify("images", ["a.jpg"], ["b.jpg"], ["a.jpg"]) == "conflict"


def test_marketplace_changed_price_is_a_conflict() -> None:
    assert classify("price", D("10.00"), D("8.50"), D("10.00")) == "conflict"


def test_adopted_field_changed_on_marketplace_is_adopted() -> None:
    assert classify("title", "Linen shirt", "Edited", "Linen shirt", adopt=["title"]) == "adopt"
    assert classify("price", D("10.00"), D("8.50"), D("10.00"), adopt=["price", "title"]) == "adopt"
    # Another field's adoption does not apply.
    assert classify("price", D("10.00"), D("8.50"), D("10.00"), adopt=["title"]) == "conflict"


def test_both_changed_is_a_conflict_or_adopted() -> None:
    assert classify("price", D("12.00"), D("8.50"), D("10.00")) == "conflict"
    assert classify("title", "Master", "Marketplace", "Base", adopt=["title"]) == "adopt"


def test_both_changed_stock_is_pushed_because_the_master_ledger_wins() -> None:
    assert classify("stock", 7, 8, 10) == "push"


def test_first_sync_without_baseline_master_wins() -> None:
    assert classify("price", D("12.00"), D("8.50"), None) == "push"
    assert classify("title", "Master", "Marketplace", None) == "push"
    assert classify("title", "Same", "Same", None) == "in_sync"


def test_unknown_remote_value_of_a_bound_listing_is_pushed() -> None:
    assert classify("stock", 5, None, 5) == "push"
    assert classify("title", "Linen shirt", None, "Linen shirt") == "push"


def test_null_desired_value_has_no_action() -> None:
    assert classify("description", None, "Soft", "Soft") is None


def test_price_comparison_is_exact() -> None:
    assert classify("price", D("10.1"), D("10.10"), D("9.00")) == "in_sync"
    assert classify("price", D("9999999999.99"), D("9999999999.98"), D("9999999999.98")) == "push"
    assert classify("price", D("0.30"), D("0.30"), None) == "in_sync"


def test_images_compare_as_ordered_lists() -> None:
    assert classify("images", ["a.jpg", "b.jpg"], ["b.jpg", "a.jpg"], ["b.jpg", "a.jpg"]) == "push"
    assert classify("images", [], [], None) == "in_sync"


# --- the listing plan -----------------------------------------------------------------------


def test_plan_bound_and_in_sync_is_none() -> None:
    result = run_plan([desired_row()], [sku_row()], [listing_row()])
    assert result["listing_action"].to_list() == ["none"]
    assert {result[f"{f}_action"][0] for f in FIELD_NAMES} == {"in_sync"}


def test_plan_update_carries_the_values_to_push() -> None:
    result = run_plan([desired_row(desired_price=D("12.90"))], [sku_row()], [listing_row()])
    row = result.row(0, named=True)
    assert row["listing_action"] == "update"
    assert (row["price_action"], row["desired_price"], row["remote_price"]) == ("push", D("12.90"), D("10.00"))
    assert row["stock_action"] == "in_sync"


def test_plan_conflict_only_is_not_an_update() -> None:
    result = run_plan([desired_row()], [sku_row()], [listing_row(remote_title="Edited on Shopee")])
    assert result.row(0, named=True)["listing_action"] == "none"
    assert result["title_action"][0] == "conflict"


def test_plan_create_for_a_variant_without_remote_sku() -> None:
    result = run_plan([desired_row()], [], [])
    row = result.row(0, named=True)
    assert row["listing_action"] == "create" and row["listing_id"] is None
    assert {row[f"{f}_action"] for f in FIELD_NAMES} == {"push"}


def test_plan_create_adds_to_the_products_existing_listing() -> None:
    result = run_plan([desired_row(), desired_row(variant_id=11, sku="LIN-11")], [sku_row()], [listing_row()])
    created = result.filter(pl.col("variant_id") == 11).row(0, named=True)
    assert created["listing_action"] == "create" and created["listing_id"] == 100
    assert created["listing_sku_id"] is None


def test_plan_binds_by_seller_sku_case_insensitive() -> None:
    unbound = sku_row(variant_id=None, seller_sku=" lin-10 ", remote_price=D("11.00"), base_price=None, base_stock=None)
    result = run_plan([desired_row()], [unbound], [listing_row(listing_product_id=None)])
    row = result.row(0, named=True)
    assert row["listing_action"] == "bind" and row["auto_bound"]
    assert (row["variant_id"], row["listing_sku_id"], row["remote_sku_id"]) == (10, 1000, "77")
    # No baseline yet: a first sync, the master wins.
    assert row["price_action"] == "push" and row["stock_action"] == "in_sync"
    assert result.height == 1  # no create, no orphan


def test_plan_binds_none_of_duplicate_seller_skus_they_stay_ambiguous_orphans() -> None:
    skus = [
        sku_row(listing_sku_id=1001, listing_id=101, variant_id=None, seller_sku="LIN-10"),
        sku_row(listing_sku_id=1000, listing_id=100, variant_id=None, seller_sku="Lin-10"),
    ]
    listings = [listing_row(listing_product_id=None), listing_row(listing_id=101, remote_item_id="9101")]
    result = run_plan([desired_row()], skus, listings)
    orphans = result.filter(pl.col("listing_action") == "orphan")
    assert sorted(orphans["listing_sku_id"].to_list()) == [1000, 1001]
    assert set(orphans["orphan_reason"].to_list()) == {"ambiguous: 2 SKUs of this shop share the key 'lin10'"}


def test_plan_does_not_bind_a_variant_that_is_already_bound() -> None:
    skus = [sku_row(), sku_row(listing_sku_id=1001, listing_id=101, variant_id=None, remote_sku_id="78")]
    listings = [listing_row(), listing_row(listing_id=101, remote_item_id="9101", listing_product_id=None)]
    result = run_plan([desired_row()], skus, listings)
    assert result.select("listing_action", "listing_sku_id").rows() == [("none", 1000), ("orphan", 1001)]


def test_plan_orphan_for_a_remote_sku_without_master() -> None:
    result = run_plan([], [sku_row(variant_id=None, seller_sku="UNKNOWN")], [listing_row(listing_product_id=None)])
    row = result.row(0, named=True)
    assert row["listing_action"] == "orphan" and row["variant_id"] is None
    assert row["remote_sku_id"] == "77" and row["platform"] == "shopee" and row["connection_id"] == 1
    assert all(row[f"{f}_action"] is None for f in FIELD_NAMES)


def test_plan_deactivate_when_master_is_inactive() -> None:
    result = run_plan([desired_row(active=False, desired_price=D("99.00"))], [sku_row()], [listing_row()])
    row = result.row(0, named=True)
    assert row["listing_action"] == "deactivate"
    assert row["price_action"] is None  # nothing is pushed to a listing being taken down


def test_plan_inactive_master_already_inactive_remote_is_none() -> None:
    result = run_plan([desired_row(active=False)], [sku_row()], [listing_row(remote_status="inactive")])
    assert result["listing_action"].to_list() == ["none"]


def test_plan_inactive_master_never_listed_has_no_row() -> None:
    assert run_plan([desired_row(active=False)], [], []).is_empty()


def test_plan_excluded_channel_listed_is_deactivated() -> None:
    result = run_plan([desired_row(excluded=True)], [sku_row()], [listing_row()])
    assert result["listing_action"].to_list() == ["deactivate"]


def test_plan_excluded_channel_not_listed_has_no_row() -> None:
    assert run_plan([desired_row(excluded=True)], [], []).is_empty()


def test_plan_activate_an_inactive_listing_the_master_wants() -> None:
    result = run_plan([desired_row()], [sku_row()], [listing_row(remote_status="inactive")])
    assert result["listing_action"].to_list() == ["activate"]


def test_plan_deleted_remote_listing_counts_as_absent() -> None:
    result = run_plan([desired_row()], [sku_row()], [listing_row(remote_status="deleted")])
    assert result.select("listing_action", "listing_id").rows() == [("create", None)]


def test_plan_bound_variant_outside_desired_is_not_an_orphan() -> None:
    assert run_plan([], [sku_row()], [listing_row()]).is_empty()


def test_plan_keeps_shops_apart() -> None:
    other = "tiktokshop-7"
    desired = [desired_row(), desired_row(shop_key=other, connection_id=2, platform="tiktokshop")]
    result = run_plan(desired, [sku_row(variant_id=None)], [listing_row(listing_product_id=None)])
    assert result.select("shop_key", "listing_action").rows() == [(SHOP, "bind"), (other, "create")]


def test_summary_counts_listing_and_field_actions() -> None:
    desired = [
        desired_row(desired_price=D("12.00")),
        desired_row(variant_id=11, sku="LIN-11", desired_price=D("12.00")),
        desired_row(variant_id=12, sku="LIN-12"),
    ]
    skus = [sku_row(), sku_row(listing_sku_id=1001, variant_id=11, remote_sku_id="78")]
    listings = [listing_row(remote_title="Edited")]
    counts = summary(run_plan(desired, skus, listings))
    assert counts["update"] == 2 and counts["create"] == 1 and counts["orphan"] == 0
    assert counts["price_push"] == 2
    # An item field counts once per listing, not once per SKU.
    assert counts["title_conflict"] == 1 and counts["images_in_sync"] == 1
    assert set(counts) >= {f"{f}_{a}" for f in FIELD_NAMES for a in reconcile.FIELD_ACTIONS}


# --- desired state --------------------------------------------------------------------------


def _variants() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"product_id": 1, "variant_id": 10, "sku": "LIN-10", "product_status": "active", "variant_active": True,
             "title": "Linen shirt", "description": "Soft", "category": "Fashion", "tags": ["summer"],
             "images": ["a.jpg"], "currency": "MYR", "price": D("10.00"), "stock": 8, "reserved": 3, "available": 5},
            {"product_id": 1, "variant_id": 11, "sku": "LIN-11", "product_status": "active", "variant_active": False,
             "title": "Linen shirt", "description": "Soft", "category": "Fashion", "tags": ["summer"],
             "images": ["a.jpg"], "currency": "MYR", "price": D("12.00"), "stock": 0, "reserved": 0, "available": 0},
        ],
        schema=reconcile.VARIANTS_SCHEMA,
    )  # fmt: skip


def _shops() -> pl.DataFrame:
    return pl.DataFrame(
        {"connection_id": [1, 2], "platform": ["shopee", "tiktokshop"], "shop_id": ["100001", "7"],
         "shop_key": [SHOP, "tiktokshop-7"]},
        schema=reconcile.SHOPS_SCHEMA,
    )  # fmt: skip


def _overrides(*rows: tuple[int, int | None, str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["product_id", "variant_id", "platform", "field", "value"], orient="row"
    ).with_columns(pl.col("product_id", "variant_id").cast(pl.Int64))


def test_desired_state_crosses_variants_with_shops_and_applies_overrides() -> None:
    overrides = _overrides(
        (1, None, "shopee", "title", '"Linen shirt (Shopee)"'),
        (1, None, "shopee", "price", '"9.50"'),
        (1, 10, "shopee", "price", '"8.90"'),
        (1, None, "tiktokshop", "images", '["t.jpg", "a.jpg"]'),
    )
    desired = desired_state(_variants(), overrides, _shops(), no_rules)
    assert desired.columns[: len(DESIRED_SCHEMA)] == list(DESIRED_SCHEMA)
    rows = {(r["shop_key"], r["variant_id"]): r for r in desired.iter_rows(named=True)}
    assert len(rows) == 4
    shopee_10, shopee_11, tiktok_10 = rows[SHOP, 10], rows[SHOP, 11], rows["tiktokshop-7", 10]
    assert shopee_10["desired_price"] == D("8.90")  # the variant-level override beats the product-level one
    assert shopee_11["desired_price"] == D("9.50")
    assert shopee_10["desired_title"] == "Linen shirt (Shopee)" and tiktok_10["desired_title"] == "Linen shirt"
    assert tiktok_10["desired_price"] == D("10.00") and tiktok_10["desired_images"] == ["t.jpg", "a.jpg"]
    assert shopee_10["desired_stock"] == 5 and shopee_10["active"] and not shopee_11["active"]
    assert shopee_10["adopt_fields"] == [] and shopee_10["excluded"] is False


def test_desired_state_applies_sync_rules() -> None:
    rules = [
        Rule(id=1, name="Shopee markup", platform="shopee",
             actions=RuleActions(price_markup_percent=D("10"), buffer_stock=2, adopt_fields=["title"])),
        Rule(id=2, name="No TikTok for LIN-11", conditions=RuleConditions(sku_pattern="lin-11"),
             actions=RuleActions(exclude=True)),
    ]  # fmt: skip
    desired = desired_state(_variants(), _overrides(), _shops(), functools.partial(apply_rules, rules=rules))
    rows = {(r["shop_key"], r["variant_id"]): r for r in desired.iter_rows(named=True)}
    assert rows[SHOP, 10]["desired_price"] == D("11.00") and rows[SHOP, 10]["desired_stock"] == 3
    assert rows[SHOP, 10]["price_rule"] == "#1 Shopee markup" and rows[SHOP, 10]["adopt_fields"] == ["title"]
    assert rows["tiktokshop-7", 10]["desired_price"] == D("10.00") and rows["tiktokshop-7", 10]["price_rule"] is None
    assert rows["tiktokshop-7", 11]["excluded"] and not rows["tiktokshop-7", 10]["excluded"]


def test_desired_state_requires_the_rules_columns() -> None:
    with pytest.raises(ValueError, match="rules_fn did not add"):
        desired_state(_variants(), _overrides(), _shops(), lambda frame: frame)


# --- convergence property -------------------------------------------------------------------

PRICES = st.one_of(st.sampled_from([D("9.90"), D("10.00")]), st.decimals(D("0.01"), D("99999.99"), places=2))
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "price": PRICES,
    "stock": st.integers(0, 4),
    "title": st.sampled_from(["Shirt", "Linen shirt", "SHIRT"]),
    "description": st.sampled_from(["", "Soft", "Softer"]),
    "images": st.sampled_from([[], ["a.jpg"], ["a.jpg", "b.jpg"], ["b.jpg", "a.jpg"]]),
}
ADOPTABLE = ["price", "title", "description", "images"]


@st.composite
def shop_states(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Random master, baseline and remote states for one shop: bound, bindable, unbound and orphan SKUs."""
    desired, skus, listings = [], [], []
    for n in range(draw(st.integers(1, 6))):
        variant_id, sku = 10 + n, f"LIN-{n}"
        values = {f: draw(VALUES[f]) for f in FIELD_NAMES}
        desired.append(
            desired_row(
                variant_id=variant_id, product_id=variant_id, sku=sku,
                active=draw(st.sampled_from([True, True, True, False])),
                excluded=draw(st.sampled_from([False] * 5 + [True])),
                adopt_fields=draw(st.lists(st.sampled_from(ADOPTABLE), unique=True)),
                **{f"desired_{f}": v for f, v in values.items()},
            )
        )  # fmt: skip
        binding = draw(st.sampled_from(["bound", "bound", "seller_sku", "none"]))
        if binding == "none":
            continue
        listing_id, sku_id = 100 + n, 1000 + n

        def state(field: str, master: Any) -> Any:
            return draw(st.one_of(st.none(), st.just(master), VALUES[field]))

        remote = {f: state(f, values[f]) for f in FIELD_NAMES}
        base = {f: state(f, draw(st.sampled_from([values[f], remote[f]]))) for f in FIELD_NAMES}
        listings.append(
            listing_row(
                listing_id=listing_id, remote_item_id=str(9000 + n),
                listing_product_id=variant_id if binding == "bound" else None,
                remote_status=draw(st.sampled_from(["active", "active", "inactive", "other"])),
                **{f"remote_{f}": remote[f] for f in ("title", "description", "images")},
                **{f"base_{f}": base[f] for f in ("title", "description", "images")},
            )
        )  # fmt: skip
        seller_sku = sku if binding == "bound" else draw(st.sampled_from([sku.lower(), sku.upper(), f" {sku} "]))
        skus.append(
            sku_row(
                listing_sku_id=sku_id, listing_id=listing_id, remote_sku_id=str(sku_id),
                variant_id=variant_id if binding == "bound" else None, seller_sku=seller_sku,
                remote_price=remote["price"], base_price=base["price"],
                remote_stock=remote["stock"], base_stock=base["stock"],
            )
        )  # fmt: skip
    for n in range(draw(st.integers(0, 2))):
        listings.append(listing_row(listing_id=500 + n, remote_item_id=str(9500 + n), listing_product_id=None))
        skus.append(sku_row(listing_sku_id=5000 + n, listing_id=500 + n, variant_id=None, seller_sku=f"OTHER-{n}"))
    return desired, skus, listings


def apply_plan(
    result: pl.DataFrame, desired: list[dict[str, Any]], skus: list[dict[str, Any]], listings: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """What a fully successful sync of `result` leaves behind (a test model of syncstore.sync.engine).

    Pushed and created fields: remote := desired and base := desired. Adopted fields: the
    marketplace value becomes the platform override (desired := remote, as conflicts.resolve with
    use_platform does) and the baseline (base := remote). `auto_bound` binds the SKU; deactivate
    and activate set the listing status; conflicts stay as they are.
    """
    desired_by_variant = {row["variant_id"]: dict(row) for row in desired}
    skus_by_id = {row["listing_sku_id"]: dict(row) for row in skus}
    listings_by_id = {row["listing_id"]: dict(row) for row in listings}
    next_id = 10_000
    for row in result.iter_rows(named=True):
        action = row["listing_action"]
        if action == "orphan":
            continue
        wish = desired_by_variant[row["variant_id"]]
        if action == "create":
            next_id += 1
            listings_by_id[next_id] = listing_row(
                listing_id=next_id, remote_item_id=f"new-{next_id}", listing_product_id=row["product_id"],
                **{f"{side}_{f}": row[f"desired_{f}"] for side in ("remote", "base")
                   for f in ("title", "description", "images")},
            )  # fmt: skip
            skus_by_id[next_id] = sku_row(
                listing_sku_id=next_id, listing_id=next_id, variant_id=row["variant_id"], remote_sku_id=str(next_id),
                seller_sku=row["sku"], remote_price=row["desired_price"], base_price=row["desired_price"],
                remote_stock=row["desired_stock"], base_stock=row["desired_stock"],
            )  # fmt: skip
            continue
        sku, listing = skus_by_id[row["listing_sku_id"]], listings_by_id[row["listing_id"]]
        if row["auto_bound"]:  # `bind`, or `deactivate` of a SKU matched by seller SKU
            sku["variant_id"] = row["variant_id"]
        if action == "deactivate":
            listing["remote_status"] = "inactive"
        if action == "activate":
            listing["remote_status"] = "active"
        for f in FIELD_NAMES:
            holder = sku if f in ("price", "stock") else listing
            if row[f"{f}_action"] == "push":
                holder[f"remote_{f}"] = holder[f"base_{f}"] = row[f"desired_{f}"]
            elif row[f"{f}_action"] == "adopt":
                holder[f"base_{f}"] = wish[f"desired_{f}"] = row[f"remote_{f}"]
    return list(desired_by_variant.values()), list(skus_by_id.values()), list(listings_by_id.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shop_states())
def test_applying_the_plan_leaves_only_in_sync_or_conflict(
    state: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    desired, skus, listings = state
    first = run_plan(desired, skus, listings)
    second = run_plan(*apply_plan(first, desired, skus, listings))
    assert set(second["listing_action"].to_list()) <= {"none", "orphan"}
    for f in FIELD_NAMES:
        assert set(second[f"{f}_action"].drop_nulls().to_list()) <= {"in_sync", "conflict"}, f
    # Conflicts are left for a person: the same ones are reported again, no new ones appear.
    for f in FIELD_NAMES:
        before = first.filter(pl.col(f"{f}_action") == "conflict")["variant_id"].to_list()
        after = second.filter(pl.col(f"{f}_action") == "conflict")["variant_id"].to_list()
        assert sorted(after) == sorted(before), f


# --- loaders (SQLite and PostgreSQL) --------------------------------------------------------


def _seed(engine: sa.Engine) -> dict[str, int]:
    with Session(engine) as session, session.begin():
        product = MasterProduct(
            handle="linen", title="Linen shirt", description="Soft", category="Fashion", base_price=D("10.00"),
            currency="MYR", images=["a.jpg", "b.jpg"], tags=["summer"],
        )  # fmt: skip
        gone = MasterProduct(handle="old", title="Old", category="Fashion", base_price=D("5.00"), currency="MYR",
                             status="deleted")  # fmt: skip
        product.variants = [
            ProductVariant(sku="LIN-S", name="S", price=D("12.34"), stock=8, reserved=3),
            ProductVariant(sku="LIN-M", name="M", stock=2),
        ]
        gone.variants = [ProductVariant(sku="OLD-1", name="One", stock=1)]
        shop = PlatformConnection(platform="shopee", shop_id="100001")
        other = PlatformConnection(platform="tiktokshop", shop_id="7", status="disconnected")
        session.add_all([product, gone, shop, other])
        session.flush()
        session.add(PlatformOverride(product_id=product.id, platform="shopee", field="price", value="11.50"))
        listing = PlatformListing(
            connection_id=shop.id, product_id=product.id, platform="shopee", remote_item_id="9100",
            remote_status="active", remote_title="Linen shirt!", base_title="Linen shirt", remote_description="Soft",
            base_description="Soft", remote_images=["a.jpg", "b.jpg"], base_images=None,
        )  # fmt: skip
        stray = PlatformListing(connection_id=shop.id, platform="shopee", remote_item_id="9200", remote_status="active")
        session.add_all([listing, stray])
        session.flush()
        session.add_all(
            [
                PlatformListingSku(listing_id=listing.id, connection_id=shop.id, variant_id=product.variants[0].id,
                                   remote_sku_id="77", seller_sku="LIN-S", remote_price=D("11.50"),
                                   base_price=D("11.50"), remote_stock=5, base_stock=5),
                PlatformListingSku(listing_id=stray.id, connection_id=shop.id, remote_sku_id="0", seller_sku="lin-m",
                                   remote_price=D("9.99"), remote_stock=None),
            ]
        )  # fmt: skip
        return {"shop": shop.id, "product": product.id, "s": product.variants[0].id, "m": product.variants[1].id}


def test_loaders_read_the_database_into_typed_frames(engine: sa.Engine) -> None:
    ids = _seed(engine)
    variants = reconcile.load_variants(engine)
    assert variants.schema == pl.Schema(reconcile.VARIANTS_SCHEMA)
    rows = {r["sku"]: r for r in variants.iter_rows(named=True)}
    assert rows["LIN-S"]["price"] == D("12.34") and rows["LIN-S"]["available"] == 5
    assert rows["LIN-M"]["price"] == D("10.00") and rows["LIN-M"]["images"] == ["a.jpg", "b.jpg"]
    assert rows["OLD-1"]["product_status"] == "deleted" and rows["LIN-S"]["tags"] == ["summer"]

    shops = reconcile.load_shops(engine)
    assert shops.schema == pl.Schema(reconcile.SHOPS_SCHEMA)
    assert shops.select("connection_id", "shop_key").rows() == [(ids["shop"], SHOP)]

    overrides = reconcile.load_overrides(engine)
    assert overrides.schema == pl.Schema(reconcile.OVERRIDES_SCHEMA)
    assert overrides.select("field", "variant_id").rows() == [("price", None)]

    skus, listings = reconcile.load_remote(engine, ids["shop"])
    assert skus.schema == pl.Schema(REMOTE_SKUS_SCHEMA) and listings.schema == pl.Schema(REMOTE_LISTINGS_SCHEMA)
    assert skus.select("variant_id", "remote_price", "base_stock").rows() == [
        (ids["s"], D("11.50"), 5),
        (None, D("9.99"), None),
    ]
    assert listings.filter(pl.col("remote_item_id") == "9100").select("remote_images", "base_images").rows() == [
        (["a.jpg", "b.jpg"], None)
    ]

    result = plan(desired_state(variants, overrides, shops, no_rules), skus, listings)
    actions = {r["sku"]: r for r in result.iter_rows(named=True)}
    assert actions["LIN-S"]["listing_action"] == "none"
    assert actions["LIN-S"]["price_action"] == "in_sync"  # the override: 11.50 everywhere
    assert actions["LIN-S"]["title_action"] == "conflict" and actions["LIN-S"]["images_action"] == "in_sync"
    assert actions["LIN-S"]["stock_action"] == "in_sync"
    assert actions["LIN-M"]["listing_action"] == "bind" and actions["LIN-M"]["stock_action"] == "push"
    assert "OLD-1" not in actions  # deleted and never listed


def test_loaders_return_typed_empty_frames(engine: sa.Engine) -> None:
    assert reconcile.load_variants(engine).schema == pl.Schema(reconcile.VARIANTS_SCHEMA)
    skus, listings = reconcile.load_remote(engine, 1)
    assert skus.is_empty() and skus.schema == pl.Schema(REMOTE_SKUS_SCHEMA)
    assert listings.schema == pl.Schema(REMOTE_LISTINGS_SCHEMA)
    result = plan(desired_state(reconcile.load_variants(engine), reconcile.load_overrides(engine),
                                reconcile.load_shops(engine), no_rules), skus, listings)  # fmt: skip
    assert result.is_empty() and summary(result)["create"] == 0
