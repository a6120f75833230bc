# Sync rules: per-channel price and stock transformations, exclusions and adopted fields, applied as Polars expressions.
"""Sync rules.

A rule has conditions (platform, shops, category, SKU pattern, price range, tags) and actions:

- price: markup in percent, then a fixed markup, then rounding (to .90 / .99, or to the nearest
  100 / 1,000 for currencies without cents), then a minimum and a maximum;
- stock: a formula over the row's `available` (on hand - reserved; per shop when availability
  differs per shop), in this order:

  1. `buffer_stock`: N units kept back (never below 0);
  2. `allocation_percent`: that share of what is left, 0 to 1000 % (over 100 % lists more than is
     held, for shops that sell slowly), rounded down to a whole unit;
  3. `min_available`: when the row's `available` is below N, push 0 (no listing of the last units);
  4. `max_quantity`: list at most N;
  5. sell-out protection (`protect_below` with `protect_shop_key`): when `available` is at or below
     N, the chosen shop gets all of `available` and every other shop the rule matches gets 0, so
     the last units sell on one channel only;
  6. `virtual_quantity`: push exactly N whatever the stock (made to order, dropship). It replaces
     every step above, so it cannot be combined with them, and it can oversell.

  A negative result is pushed as 0;
- `exclude`: the variant is not listed on the matching channels;
- `adopt_fields`: for these fields the marketplace's value is adopted instead of raising a conflict.

Deterministic and explainable: rules are ordered by priority (higher first), then id. The price of
a variant comes from the FIRST matching rule that has a price action, its stock from the first
matching rule with a stock action (`price_rule` and `stock_rule` name them); `exclude` from the
first matching rule that sets it; adopted fields are the union over matching rules. Prices are
computed in integer cents, so results are exact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Literal

import polars as pl
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.db.models import PlatformConnection, SyncRule
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, InvalidValue, NotFoundError, VersionConflict, field_messages, msg
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.shops.keys import ShopKey

PRICE = pl.Decimal(12, 2)
AdoptableField = Literal["title", "description", "images", "price"]
Rounding = Literal["0.90", "0.99", "100", "1000"]
MAX_ALLOCATION_PERCENT: Final = 1000
MAX_VIRTUAL_QUANTITY: Final = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleConditions(_Strict):
    """Which variants a rule applies to; every condition given must hold (empty lists match all)."""

    shop_keys: list[str] = Field(default_factory=list, description="A shop key, <platform>-<shop id>.")
    categories: list[str] = Field(default_factory=list, description="A category or its parent path.")
    sku_pattern: str | None = Field(default=None, max_length=100, description="Glob, e.g. LIN-*; any case.")
    min_price: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    max_price: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    tags: list[str] = Field(default_factory=list, description="Matches when the product has any of them.")


class RuleActions(_Strict):
    price_markup_percent: Decimal | None = Field(default=None, ge=-90, le=1000, decimal_places=2)
    price_markup_fixed: Decimal | None = Field(default=None, ge=-1_000_000, le=1_000_000, decimal_places=2)
    price_rounding: Rounding | None = None
    min_price: Decimal | None = Field(default=None, gt=0, decimal_places=2)
    max_price: Decimal | None = Field(default=None, gt=0, decimal_places=2)
    buffer_stock: int | None = Field(default=None, ge=0)
    allocation_percent: Decimal | None = Field(default=None, ge=0, le=MAX_ALLOCATION_PERCENT, decimal_places=2)
    max_quantity: int | None = Field(default=None, ge=0)
    min_available: int | None = Field(default=None, ge=1, description="Below N available, push 0.")
    protect_below: int | None = Field(
        default=None, ge=0, description="At or below N available, push it all to protect_shop_key, 0 elsewhere."
    )
    protect_shop_key: str | None = Field(default=None, max_length=120, description="A shop key, <platform>-<shop id>.")
    virtual_quantity: int | None = Field(
        default=None, ge=0, le=MAX_VIRTUAL_QUANTITY, description="Push exactly N whatever the stock (can oversell)."
    )
    exclude: bool = False
    adopt_fields: list[AdoptableField] = Field(default_factory=list)

    @model_validator(mode="after")
    def _range(self) -> RuleActions:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise InvalidValue("min_price must not be above max_price")
        if (self.protect_below is None) != (self.protect_shop_key is None):
            raise InvalidValue(
                "sell-out protection needs both a quantity (protect_below) and a shop (protect_shop_key)"
            )
        if self.virtual_quantity is not None and any(v is not None for v in self._formula_steps):
            raise InvalidValue(
                "virtual_quantity replaces the stock formula: leave buffer, allocation, minimum, maximum and "
                "sell-out protection empty"
            )
        return self

    @property
    def _formula_steps(self) -> tuple[object, ...]:
        return (self.buffer_stock, self.allocation_percent, self.min_available, self.max_quantity, self.protect_below)

    @property
    def sets_price(self) -> bool:
        return any(
            v is not None
            for v in (
                self.price_markup_percent,
                self.price_markup_fixed,
                self.price_rounding,
                self.min_price,
                self.max_price,
            )
        )

    @property
    def sets_stock(self) -> bool:
        return self.virtual_quantity is not None or any(v is not None for v in self._formula_steps)

    def stock_summary(self) -> str:
        """The stock formula in words, in the order it applies ("" when the rule sets no stock)."""
        if self.virtual_quantity is not None:
            return f"always list {self.virtual_quantity} whatever the stock (can oversell)"
        steps: list[str] = []
        if self.buffer_stock is not None:
            steps.append(f"keep {self.buffer_stock} back")
        if self.allocation_percent is not None:
            steps.append(f"list {self.allocation_percent.normalize():f} % of the rest")
        if self.min_available is not None:
            steps.append(f"list 0 when under {self.min_available} available")
        if self.max_quantity is not None:
            steps.append(f"at most {self.max_quantity}")
        if self.protect_below is not None:
            steps.append(f"at {self.protect_below} available or less, all of it to {self.protect_shop_key} only")
        return ", then ".join(steps)


class RuleInput(_Strict):
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=2000)
    platform: str | None = None  # a registered platform's name (checked below), or every platform
    priority: int = Field(default=0, ge=-1000, le=1000)
    is_active: bool = True
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    actions: RuleActions = Field(default_factory=RuleActions)

    @field_validator("platform")
    @classmethod
    def _registered(cls, platform: str | None) -> str | None:
        if platform is not None and not registry.is_platform(platform):
            raise InvalidValue("must be one of {choices}", choices=", ".join(registry.names()))
        return platform

    @model_validator(mode="after")
    def _protected_shop_matches(self) -> RuleInput:
        """The protected shop must be one the rule matches, else "push only to it" means nothing."""
        key = self.actions.protect_shop_key
        if key is None:
            return self
        try:
            shop = ShopKey.parse(key)
        except InvalidInput:
            raise InvalidValue("protect_shop_key {key!r} is not a shop key (<platform>-<shop id>)", key=key) from None
        if self.platform is not None and shop.platform != self.platform:
            raise InvalidValue(
                "protect_shop_key {key} is not a {platform} shop, the rule's platform", key=key, platform=self.platform
            )
        if self.conditions.shop_keys and key not in self.conditions.shop_keys:
            raise InvalidValue("protect_shop_key {key} must be one of the rule's shops", key=key)
        return self


class Rule(RuleInput):
    id: int
    # When the rule was last saved: the version token an edit names (S2); not part of the rule's content.
    updated_at: datetime | None = Field(default=None, exclude=True)

    @property
    def label(self) -> str:
        return f"#{self.id} {self.name}"

    @classmethod
    def from_row(cls, row: SyncRule) -> Rule:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            platform=row.platform,
            priority=row.priority,
            is_active=row.is_active,
            conditions=RuleConditions.model_validate(row.conditions or {}),
            actions=RuleActions.model_validate(row.actions or {}),
            updated_at=row.updated_at,
        )


def ordered(rules: Sequence[Rule]) -> list[Rule]:
    """Active rules in the order they are applied: higher priority first, then lower id."""
    return sorted((r for r in rules if r.is_active), key=lambda r: (-r.priority, r.id))


# --- the Polars side ------------------------------------------------------------------------


def _glob_regex(pattern: str) -> str:
    body = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return f"(?i)^{body}$"


def shop_matches(rule: RuleInput) -> pl.Expr:
    """Whether a shop row (columns platform, shop_key) is one the rule can match."""
    checks = [pl.lit(True)]
    if rule.platform:
        checks.append(pl.col("platform") == rule.platform)
    if rule.conditions.shop_keys:
        checks.append(pl.col("shop_key").is_in(rule.conditions.shop_keys))
    return pl.all_horizontal(checks)


def matches(rule: RuleInput) -> pl.Expr:
    """Whether a (shop, variant) row of `apply_rules`'s input matches the rule's platform and conditions."""
    return _matches(rule)


def _matches(rule: RuleInput) -> pl.Expr:
    conditions, checks = rule.conditions, [shop_matches(rule)]
    if conditions.categories:
        category = pl.col("category")
        checks.append(
            pl.any_horizontal([(category == c) | category.str.starts_with(f"{c} > ") for c in conditions.categories])
        )
    if conditions.sku_pattern:
        checks.append(pl.col("sku").str.contains(_glob_regex(conditions.sku_pattern)))
    if conditions.min_price is not None:
        checks.append(pl.col("price") >= pl.lit(conditions.min_price, dtype=PRICE))
    if conditions.max_price is not None:
        checks.append(pl.col("price") <= pl.lit(conditions.max_price, dtype=PRICE))
    if conditions.tags:
        checks.append(pl.col("tags").list.eval(pl.element().is_in(conditions.tags)).list.any())
    return pl.all_horizontal(checks).fill_null(False)


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _price_cents(actions: RuleActions, cents: pl.Expr) -> pl.Expr:
    if actions.price_markup_percent is not None:
        basis_points = _cents(actions.price_markup_percent)  # percent with 2 decimals, x100
        # Half-up rounding to the cent, in integers.
        cents = (cents * (10_000 + basis_points) + 5_000) // 10_000
    if actions.price_markup_fixed is not None:
        cents = cents + _cents(actions.price_markup_fixed)
    if actions.price_rounding in ("0.90", "0.99"):
        ending = 90 if actions.price_rounding == "0.90" else 99
        candidate = (cents // 100) * 100 + ending
        cents = pl.when(candidate >= cents).then(candidate).otherwise(candidate + 100)
    elif actions.price_rounding in ("100", "1000"):
        unit = 100 * int(actions.price_rounding)
        cents = ((cents + unit // 2) // unit) * unit
    if actions.min_price is not None:
        cents = pl.max_horizontal(cents, pl.lit(_cents(actions.min_price)))
    if actions.max_price is not None:
        cents = pl.min_horizontal(cents, pl.lit(_cents(actions.max_price)))
    return cents


def _stock(actions: RuleActions, available: pl.Expr) -> pl.Expr:
    """The stock formula (module docstring, steps 1 to 6) over one (shop, variant) row's `available` (>= 0)."""
    if actions.virtual_quantity is not None:
        return pl.lit(actions.virtual_quantity, dtype=pl.Int64)
    stock = available
    if actions.buffer_stock is not None:
        stock = pl.max_horizontal(stock - actions.buffer_stock, pl.lit(0))
    if actions.allocation_percent is not None:
        stock = (stock * _cents(actions.allocation_percent)) // 10_000
    if actions.min_available is not None:
        stock = pl.when(available < actions.min_available).then(pl.lit(0, dtype=pl.Int64)).otherwise(stock)
    if actions.max_quantity is not None:
        stock = pl.min_horizontal(stock, pl.lit(actions.max_quantity))
    if actions.protect_below is not None:
        protected = pl.when(pl.col("shop_key") == actions.protect_shop_key).then(available).otherwise(pl.lit(0))
        stock = pl.when(available <= actions.protect_below).then(protected).otherwise(stock)
    return pl.max_horizontal(stock, pl.lit(0))


def _first(rules: Sequence[Rule], value_of: Any, default: pl.Expr) -> pl.Expr:
    """pl.when(rule 1 matches).then(its value).when(rule 2 ...)...otherwise(default)."""
    if not rules:
        return default
    chain: Any = pl
    for rule in rules:
        chain = chain.when(pl.col(f"_match_{rule.id}")).then(value_of(rule))
    return chain.otherwise(default)  # type: ignore[no-any-return]


def apply_rules(frame: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """Desired per-channel values for every (shop, variant) row of `frame`.

    Input columns: platform, shop_key, variant_id, sku, category, tags (list[str]), price
    (Decimal(12,2): the master price after overrides), available (int: on hand - reserved).
    Adds: desired_price (Decimal(12,2)), desired_stock (Int64), excluded (bool),
    adopt_fields (list[str]), price_rule and stock_rule (the rule that set the value, or null).
    """
    active = ordered(rules)
    price_rules = [r for r in active if r.actions.sets_price]
    stock_rules = [r for r in active if r.actions.sets_stock]
    exclude_rules = [r for r in active if r.actions.exclude]
    adopt_rules = [r for r in active if r.actions.adopt_fields]
    match_columns = [_matches(rule).alias(f"_match_{rule.id}") for rule in active]

    cents = (pl.col("price") * 100).cast(pl.Int64)
    available = pl.col("available").cast(pl.Int64).clip(lower_bound=0)
    price_cents = _first(price_rules, lambda r: _price_cents(r.actions, cents), cents)
    adopted = [
        pl.when(pl.col(f"_match_{r.id}")).then(pl.lit(r.actions.adopt_fields)).otherwise(pl.lit([], pl.List(pl.String)))
        for r in adopt_rules
    ]
    adopt_fields = (
        pl.concat_list(adopted).list.unique(maintain_order=True).list.sort()
        if adopted
        else pl.lit([], pl.List(pl.String))
    )
    return (
        frame.with_columns(match_columns)
        .with_columns(
            desired_price=(price_cents.cast(pl.Decimal(16, 2)) / 100).cast(PRICE),
            desired_stock=_first(stock_rules, lambda r: _stock(r.actions, available), available).cast(pl.Int64),
            excluded=_first(exclude_rules, lambda r: pl.lit(True), pl.lit(False)),
            adopt_fields=adopt_fields,
            price_rule=_first(price_rules, lambda r: pl.lit(r.label), pl.lit(None, pl.String)),
            stock_rule=_first(stock_rules, lambda r: pl.lit(r.label), pl.lit(None, pl.String)),
        )
        .drop([f"_match_{rule.id}" for rule in active])
    )


# --- storage --------------------------------------------------------------------------------


def list_rules(session: Session) -> list[Rule]:
    """Every rule (active or not), in the order they apply."""
    rows = session.scalars(sa.select(SyncRule)).all()
    return sorted((Rule.from_row(row) for row in rows), key=lambda r: (not r.is_active, -r.priority, r.id))


def validated(data: RuleInput | Mapping[str, Any]) -> RuleInput:
    """The rule input checked; InvalidInput naming the fields when it is not valid."""
    if isinstance(data, RuleInput):
        return data
    try:
        return RuleInput.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(field_messages(error)) from None


def _check_protected_shop(session: Session, data: RuleInput) -> None:
    """InvalidInput unless the sell-out protection names a connected shop."""
    key = data.actions.protect_shop_key
    if key is None:
        return
    shop = ShopKey.parse(key)
    connected = session.scalar(
        sa.select(PlatformConnection.id).where(
            PlatformConnection.platform == shop.platform,
            PlatformConnection.shop_id == shop.shop_id,
            PlatformConnection.status == "connected",
        )
    )
    if connected is None:
        raise InvalidInput({"actions.protect_shop_key": msg("{key} is not a connected shop", key=key)})


def _store(row: SyncRule, data: RuleInput) -> None:
    row.name, row.description, row.platform = data.name, data.description, data.platform
    row.priority, row.is_active = data.priority, data.is_active
    row.conditions = data.conditions.model_dump(mode="json", exclude_defaults=True)
    row.actions = data.actions.model_dump(mode="json", exclude_defaults=True)


@requires(Permission.RULES_WRITE)
def create_rule(actor: Actor | None, session: Session, data: RuleInput | Mapping[str, Any]) -> Rule:
    """Add a sync rule (it applies from the next plan on)."""
    rule_input = validated(data)
    _check_protected_shop(session, rule_input)
    row = SyncRule()
    _store(row, rule_input)
    session.add(row)
    session.flush()
    rule = Rule.from_row(row)
    audit.record(session, actor, "rule.create", "sync_rule", row.id, after=rule.model_dump(mode="json"))
    return rule


def _micros(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1_000_000)


def _checked(row: SyncRule, expected_updated_at: datetime | None) -> None:
    """VersionConflict unless the rule is still as saved at `expected_updated_at` (None: unconditional)."""
    if expected_updated_at is not None and _micros(row.updated_at) != _micros(expected_updated_at):
        raise VersionConflict("sync_rule", row.id, _micros(expected_updated_at), _micros(row.updated_at))


def _locked(session: Session, rule_id: int) -> SyncRule:
    row = session.get(SyncRule, rule_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFoundError("rule {rule_id} not found", rule_id=rule_id)
    return row


def check_version(session: Session, rule_id: int, expected_updated_at: datetime | None) -> None:
    """Lock a rule and check it is unchanged since `expected_updated_at` (for a change that depends on it)."""
    _checked(_locked(session, rule_id), expected_updated_at)


@requires(Permission.RULES_WRITE)
def update_rule(
    actor: Actor | None,
    session: Session,
    rule_id: int,
    data: RuleInput | Mapping[str, Any],
    *,
    expected_updated_at: datetime | None = None,
) -> Rule:
    """Replace a rule's name, conditions, actions, priority or active flag.

    `expected_updated_at`: the `updated_at` of the rule as the person opened it; a rule saved since
    raises VersionConflict and nothing is written (S2).
    """
    rule_input = validated(data)
    row = _locked(session, rule_id)
    _checked(row, expected_updated_at)
    if rule_input.actions.protect_shop_key != (row.actions or {}).get("protect_shop_key"):
        # A new protected shop must be connected; one kept as saved still stands (e.g. when the rule is moved).
        _check_protected_shop(session, rule_input)
    before = Rule.from_row(row).model_dump(mode="json")
    previous = row.updated_at
    _store(row, rule_input)
    # A new token on every save, even an unchanged one, and never equal to the previous.
    now = utcnow()
    row.updated_at = now if previous is None or now > previous else previous + timedelta(microseconds=1)
    session.flush()
    rule = Rule.from_row(row)
    audit.record(session, actor, "rule.update", "sync_rule", row.id, before=before, after=rule.model_dump(mode="json"))
    return rule


@requires(Permission.RULES_WRITE)
def delete_rule(
    actor: Actor | None, session: Session, rule_id: int, *, expected_updated_at: datetime | None = None
) -> None:
    """Delete a rule, conditional on `expected_updated_at` when given (S2)."""
    row = _locked(session, rule_id)
    _checked(row, expected_updated_at)
    before = Rule.from_row(row).model_dump(mode="json")
    session.delete(row)
    session.flush()
    audit.record(session, actor, "rule.delete", "sync_rule", rule_id, before=before)
