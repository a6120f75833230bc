# Sync rules: conditions, price and stock actions, priority order, explanations, storage and permissions.
from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog
from syncstore.errors import InvalidInput, PermissionDenied, VersionConflict
from syncstore.plan import rules
from syncstore.plan.rules import Rule, apply_rules
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)


def variants(*rows: dict[str, Any]) -> pl.DataFrame:
    defaults = {"platform": "shopee", "shop_key": "shopee-1", "sku": "SKU-1", "category": "Home", "tags": []}
    data = [{**defaults, "variant_id": i + 1, **row} for i, row in enumerate(rows)]
    for row in data:
        row["price"] = Decimal(row["price"])
    return pl.DataFrame(data, schema_overrides={"price": pl.Decimal(12, 2), "tags": pl.List(pl.String)})


def rule(rule_id: int = 1, **fields: Any) -> Rule:
    return Rule(id=rule_id, name=fields.pop("name", f"rule {rule_id}"), **fields)


def one(frame: pl.DataFrame, column: str) -> Any:
    return frame[column].to_list()[0]


@pytest.mark.parametrize(
    ("price", "actions", "expected"),
    [
        ("59.90", {"price_markup_percent": "10"}, "65.89"),  # 65.89 exactly: half-up to the cent
        ("10.00", {"price_markup_percent": "12.5"}, "11.25"),
        ("10.00", {"price_markup_fixed": "2.50"}, "12.50"),
        ("10.00", {"price_markup_percent": "10", "price_markup_fixed": "1"}, "12.00"),  # percent first
        ("12.34", {"price_rounding": "0.90"}, "12.90"),
        ("12.95", {"price_rounding": "0.90"}, "13.90"),
        ("12.90", {"price_rounding": "0.90"}, "12.90"),
        ("12.34", {"price_rounding": "0.99"}, "12.99"),
        ("12349.00", {"price_rounding": "100"}, "12300.00"),
        ("12350.00", {"price_rounding": "100"}, "12400.00"),
        ("12499.00", {"price_rounding": "1000"}, "12000.00"),
        ("5.00", {"min_price": "9.90"}, "9.90"),
        ("500.00", {"max_price": "299.00"}, "299.00"),
        ("100.00", {"price_markup_percent": "-20", "price_rounding": "0.99", "min_price": "85"}, "85.00"),
    ],
)
def test_price_actions_are_exact(price: str, actions: dict[str, str], expected: str) -> None:
    result = apply_rules(variants({"price": price, "available": 1}), [rule(actions=actions)])
    assert one(result, "desired_price") == Decimal(expected)
    assert result.schema["desired_price"] == pl.Decimal(12, 2)


@pytest.mark.parametrize(
    ("available", "actions", "expected"),
    [
        (10, {"buffer_stock": 3}, 7),
        (2, {"buffer_stock": 3}, 0),
        (10, {"allocation_percent": "50"}, 5),
        (9, {"allocation_percent": "50"}, 4),  # never more than the share: rounded down
        (100, {"max_quantity": 20}, 20),
        (50, {"buffer_stock": 10, "allocation_percent": "50", "max_quantity": 15}, 15),
        (-3, {}, 0),  # oversold: nothing to list
    ],
)
def test_stock_actions(available: int, actions: dict[str, Any], expected: int) -> None:
    result = apply_rules(variants({"price": "1.00", "available": available}), [rule(actions=actions)])
    assert one(result, "desired_stock") == expected


def test_without_rules_the_master_values_pass_through() -> None:
    result = apply_rules(variants({"price": "19.90", "available": 4}), [])
    assert one(result, "desired_price") == Decimal("19.90") and one(result, "desired_stock") == 4
    assert one(result, "excluded") is False and one(result, "adopt_fields") == []
    assert one(result, "price_rule") is None and one(result, "stock_rule") is None


def test_conditions_select_rows() -> None:
    frame = variants(
        {"price": "10.00", "available": 1, "sku": "LIN-S", "category": "Fashion > Tops", "tags": ["sale"]},
        {"price": "99.00", "available": 1, "sku": "lin-m", "category": "Fashion", "platform": "tiktokshop",
         "shop_key": "tiktokshop-9"},
        {"price": "10.00", "available": 1, "sku": "MUG-1", "category": "Fashionable"},
    )  # fmt: skip
    cases: list[tuple[dict[str, Any], list[bool]]] = [
        ({"platform": "shopee"}, [True, False, True]),
        ({"conditions": {"shop_keys": ["tiktokshop-9"]}}, [False, True, False]),
        ({"conditions": {"categories": ["Fashion"]}}, [True, True, False]),  # a parent path, not a prefix
        ({"conditions": {"sku_pattern": "LIN-*"}}, [True, True, False]),  # any case
        ({"conditions": {"min_price": "50"}}, [False, True, False]),
        ({"conditions": {"max_price": "10.00"}}, [True, False, True]),
        ({"conditions": {"tags": ["sale", "new"]}}, [True, False, False]),
        ({"platform": "shopee", "conditions": {"categories": ["Fashion"]}}, [True, False, False]),
    ]
    for fields, expected in cases:
        result = apply_rules(frame, [rule(**fields, actions={"exclude": True})])
        assert result["excluded"].to_list() == expected, fields


def test_priority_decides_and_the_winner_is_named() -> None:
    frame = variants({"price": "10.00", "available": 10})
    low = rule(1, name="everything +10%", priority=0, actions={"price_markup_percent": "10", "buffer_stock": 1})
    high = rule(2, name="clearance", priority=5, actions={"price_markup_fixed": "-1"})
    result = apply_rules(frame, [low, high])
    assert one(result, "desired_price") == Decimal("9.00") and one(result, "price_rule") == "#2 clearance"
    # The clearance rule sets no stock action, so stock comes from the next rule that does.
    assert one(result, "desired_stock") == 9 and one(result, "stock_rule") == "#1 everything +10%"
    # Same priority: the older rule (lower id) wins, whatever order the rules are given in.
    tie = rule(3, name="tie", priority=5, actions={"price_markup_fixed": "5"})
    assert one(apply_rules(frame, [tie, high, low]), "price_rule") == "#2 clearance"
    inactive = rule(4, name="off", priority=99, is_active=False, actions={"price_markup_fixed": "100"})
    assert one(apply_rules(frame, [inactive, low]), "price_rule") == "#1 everything +10%"


def test_adopted_fields_are_the_union_of_matching_rules() -> None:
    frame = variants({"price": "10.00", "available": 1, "category": "Beauty"})
    result = apply_rules(
        frame,
        [
            rule(1, actions={"adopt_fields": ["title"]}),
            rule(2, conditions={"categories": ["Beauty"]}, actions={"adopt_fields": ["price", "title"]}),
            rule(3, conditions={"categories": ["Home"]}, actions={"adopt_fields": ["images"]}),
        ],
    )
    assert one(result, "adopt_fields") == ["price", "title"]


def test_rules_are_stored_audited_and_reserved_to_editors(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        created = rules.create_rule(
            EDITOR, session,
            {"name": "Shopee markup", "platform": "shopee", "priority": 3,
             "actions": {"price_markup_percent": "8", "price_rounding": "0.90"}},
        )  # fmt: skip
    with transaction(engine) as session:
        rules.update_rule(EDITOR, session, created.id, {"name": "Shopee markup", "priority": 1, "is_active": False})
        [stored] = rules.list_rules(session)
        assert stored.priority == 1 and not stored.is_active and stored.actions.price_markup_percent is None
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        rules.create_rule(VIEWER, session, {"name": "x"})
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        rules.create_rule(
            EDITOR, session, {"name": "", "actions": {"min_price": "10", "max_price": "5", "buffer_stock": -1}}
        )
    assert {"name", "actions.buffer_stock"} <= set(raised.value.errors)
    with transaction(engine) as session:
        rules.delete_rule(EDITOR, session, created.id)
        assert rules.list_rules(session) == []
        actions = session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["rule.create", "rule.update", "rule.delete"]


def test_a_rule_is_saved_or_deleted_only_over_the_version_loaded(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        loaded = rules.create_rule(EDITOR, session, {"name": "Markup", "actions": {"price_markup_percent": "5"}})
    assert loaded.updated_at is not None
    with transaction(engine) as session:  # someone else saves it, even with the same content
        rules.update_rule(EDITOR, session, loaded.id, {"name": "Markup", "actions": {"price_markup_percent": "5"}},
                          expected_updated_at=loaded.updated_at)  # fmt: skip
    for change in (
        lambda session: rules.update_rule(
            EDITOR, session, loaded.id, {"name": "Mine"}, expected_updated_at=loaded.updated_at
        ),
        lambda session: rules.delete_rule(EDITOR, session, loaded.id, expected_updated_at=loaded.updated_at),
    ):
        with pytest.raises(VersionConflict), transaction(engine) as session:
            change(session)
    with transaction(engine) as session:
        [stored] = rules.list_rules(session)
        assert stored.name == "Markup" and stored.updated_at != loaded.updated_at
        assert "updated_at" not in stored.model_dump(), "the token is not part of the rule's content"
        rules.delete_rule(EDITOR, session, loaded.id, expected_updated_at=stored.updated_at)
