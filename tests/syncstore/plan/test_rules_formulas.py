# Stock formulas per rule: allocation over 100 %, minimum, sell-out protection, virtual quantity, validation, storage.
from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, SyncRule
from syncstore.errors import InvalidInput
from syncstore.plan import rules
from syncstore.plan.rules import Rule, RuleActions, RuleInput, apply_rules
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
SHOPS = ("shopee-100001", "tiktokshop-7001", "lazada-9")


def frame(available: int, shops: tuple[str, ...] = SHOPS) -> pl.DataFrame:
    """One variant listed on every shop of `shops`, with `available` units."""
    return pl.DataFrame(
        {
            "platform": [key.split("-")[0] for key in shops],
            "shop_key": list(shops),
            "variant_id": [1] * len(shops),
            "sku": ["SKU-1"] * len(shops),
            "category": ["Home"] * len(shops),
            "tags": [[] for _ in shops],
            "price": [Decimal("10.00")] * len(shops),
            "available": [available] * len(shops),
        },
        schema_overrides={"price": pl.Decimal(12, 2), "tags": pl.List(pl.String)},
    )


def listed(available: int, **actions: Any) -> dict[str, int]:
    """Shop key -> the stock one rule with these actions lists there."""
    result = apply_rules(frame(available), [Rule(id=1, name="formula", actions=actions)])
    return dict(zip(result["shop_key"].to_list(), result["desired_stock"].to_list(), strict=True))


@pytest.mark.parametrize(
    ("available", "actions", "expected"),
    [
        (10, {"allocation_percent": "150"}, 15),
        (7, {"allocation_percent": "1000"}, 70),
        (10, {"buffer_stock": 2, "allocation_percent": "250"}, 20),  # buffer first, then the share
        (3, {"allocation_percent": "133.33"}, 3),  # 3.9999 rounds down
        (4, {"min_available": 5}, 0),
        (5, {"min_available": 5}, 5),  # "below N": 5 is not below 5
        (10, {"buffer_stock": 4, "min_available": 8}, 6),  # the minimum judges available, not what is left
        (7, {"buffer_stock": 4, "min_available": 8}, 0),
        (100, {"allocation_percent": "200", "max_quantity": 50}, 50),  # the maximum comes after the share
        (0, {"virtual_quantity": 25}, 25),
        (-4, {"virtual_quantity": 25}, 25),  # whatever the stock, even oversold
        (1000, {"virtual_quantity": 0}, 0),
    ],
)
def test_formula_steps_on_every_shop(available: int, actions: dict[str, Any], expected: int) -> None:
    assert set(listed(available, **actions).values()) == {expected}


def test_sell_out_protection_sends_the_last_units_to_one_shop() -> None:
    protect = {"protect_below": 3, "protect_shop_key": "tiktokshop-7001", "buffer_stock": 1}
    assert listed(3, **protect) == {"shopee-100001": 0, "tiktokshop-7001": 3, "lazada-9": 0}  # all of it, no buffer
    assert listed(0, **protect) == {"shopee-100001": 0, "tiktokshop-7001": 0, "lazada-9": 0}
    # Above the level every shop follows the rest of the formula again.
    assert listed(4, **protect) == {"shopee-100001": 3, "tiktokshop-7001": 3, "lazada-9": 3}


def test_protection_judges_each_rows_own_available() -> None:
    """Availability may differ per shop (locations): each row is judged by its own `available`."""
    data = frame(0).with_columns(available=pl.Series([10, 2, 2]))
    rule = Rule(id=1, name="p", actions={"protect_below": 2, "protect_shop_key": "tiktokshop-7001"})
    result = apply_rules(data, [rule])
    assert result["desired_stock"].to_list() == [10, 2, 0]


def test_a_rule_restricted_to_other_shops_leaves_the_others_alone() -> None:
    rule = Rule(
        id=1, name="p", conditions={"shop_keys": ["shopee-100001", "tiktokshop-7001"]},
        actions={"protect_below": 5, "protect_shop_key": "shopee-100001"},
    )  # fmt: skip
    result = apply_rules(frame(4), [rule])
    assert result["desired_stock"].to_list() == [4, 0, 4]
    assert result["stock_rule"].to_list() == ["#1 p", "#1 p", None]


@settings(deadline=None, max_examples=80)  # a shared machine: no timing in tests
@given(
    available=st.integers(-50, 10_000),
    buffer=st.none() | st.integers(0, 500),
    percent=st.none() | st.decimals(0, 1000, places=2),
    minimum=st.none() | st.integers(1, 500),
    maximum=st.none() | st.integers(0, 5000),
    protect=st.none() | st.integers(0, 500),
)
def test_the_formula_is_never_negative_and_obeys_its_bounds(
    available: int, buffer: int | None, percent: Decimal | None, minimum: int | None, maximum: int | None,
    protect: int | None,
) -> None:  # fmt: skip
    actions = {"buffer_stock": buffer, "allocation_percent": percent, "min_available": minimum,
               "max_quantity": maximum, "protect_below": protect,
               "protect_shop_key": "shopee-100001" if protect is not None else None}  # fmt: skip
    result = listed(available, **actions)
    held = max(available, 0)
    for shop, quantity in result.items():
        assert quantity >= 0
        if protect is not None and held <= protect:
            assert quantity == (held if shop == "shopee-100001" else 0)
            continue
        assert quantity <= held * (percent if percent is not None else 100) / 100
        if maximum is not None:
            assert quantity <= maximum
        if minimum is not None and held < minimum:
            assert quantity == 0


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ({"allocation_percent": "1000.01"}, "less than or equal to 1000"),
        ({"allocation_percent": "-1"}, "greater than or equal to 0"),
        ({"min_available": 0}, "greater than or equal to 1"),
        ({"virtual_quantity": -1}, "greater than or equal to 0"),
        ({"protect_below": 3}, "needs both"),
        ({"protect_shop_key": "shopee-100001"}, "needs both"),
        ({"virtual_quantity": 5, "buffer_stock": 1}, "replaces the stock formula"),
        ({"virtual_quantity": 5, "protect_below": 1, "protect_shop_key": "shopee-1"}, "replaces the stock formula"),
    ],
)
def test_bad_formulas_are_refused_with_a_reason(actions: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleActions.model_validate(actions)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"platform": "shopee", "actions": {"protect_below": 1, "protect_shop_key": "tiktokshop-7001"}},
         "not a shopee shop"),
        ({"conditions": {"shop_keys": ["shopee-1"]}, "actions": {"protect_below": 1, "protect_shop_key": "shopee-2"}},
         "one of the rule's shops"),
        ({"actions": {"protect_below": 1, "protect_shop_key": "nodash"}}, "not a shop key"),
    ],
)  # fmt: skip
def test_the_protected_shop_must_be_one_the_rule_matches(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleInput.model_validate({"name": "p", **data})


def test_the_summary_says_the_formula_in_order() -> None:
    actions = RuleActions(buffer_stock=2, allocation_percent=Decimal("150"), min_available=3, max_quantity=40,
                          protect_below=1, protect_shop_key="shopee-100001")  # fmt: skip
    assert actions.stock_summary() == (
        "keep 2 back, then list 150 % of the rest, then list 0 when under 3 available, then at most 40, "
        "then at 1 available or less, all of it to shopee-100001 only"
    )
    assert "can oversell" in RuleActions(virtual_quantity=9).stock_summary()
    assert RuleActions(price_markup_percent=Decimal("5")).stock_summary() == ""


def connect(engine: sa.Engine, platform: str, shop_id: str, status: str = "connected") -> None:
    with transaction(engine) as session:
        session.add(PlatformConnection(platform=platform, shop_id=shop_id, status=status))


def test_the_protected_shop_must_be_connected(engine: sa.Engine) -> None:
    connect(engine, "shopee", "100001")
    connect(engine, "tiktokshop", "7001", status="disconnected")
    data = {"name": "last units on Shopee", "actions": {"protect_below": 2, "protect_shop_key": "tiktokshop-7001"}}
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        rules.create_rule(EDITOR, session, data)
    assert raised.value.errors == {"actions.protect_shop_key": "tiktokshop-7001 is not a connected shop"}
    data["actions"]["protect_shop_key"] = "shopee-100001"  # type: ignore[index]
    with transaction(engine) as session:
        created = rules.create_rule(EDITOR, session, data)
    with transaction(engine) as session:
        [stored] = rules.list_rules(session)
    assert stored.actions.protect_shop_key == "shopee-100001" and stored.actions.protect_below == 2
    with pytest.raises(InvalidInput), transaction(engine) as session:  # an edit is checked the same way
        rules.update_rule(
            EDITOR,
            session,
            created.id,
            {**data, "actions": {"protect_below": 2, "protect_shop_key": "tiktokshop-7001"}},
        )
    # The protected shop is disconnected later: the rule still loads and can be moved or renamed, not re-pointed.
    with transaction(engine) as session:
        session.execute(sa.update(PlatformConnection).values(status="disconnected"))
    with transaction(engine) as session:
        moved = rules.update_rule(EDITOR, session, created.id, {**data, "priority": 5})
    assert moved.priority == 5 and moved.actions.protect_shop_key == "shopee-100001"


def test_rules_saved_before_the_formulas_still_load(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        session.add(SyncRule(name="old", actions={"buffer_stock": 1, "allocation_percent": "50.00"}, conditions={}))
    with transaction(engine) as session:
        [old] = rules.list_rules(session)
    assert (old.actions.buffer_stock, old.actions.virtual_quantity, old.actions.protect_shop_key) == (1, None, None)
    assert listed(10, **old.actions.model_dump()) == dict.fromkeys(SHOPS, 4)
