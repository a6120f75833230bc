# Applying a saved sync rule at once: which listed products and shops a rule change moves, queued as one bulk sync.
"""Rule changes apply when saved.

A rule that is created, edited, moved or deleted changes the desired price and stock of the variants
it matched before and of those it matches after. `scope` finds them the way the sync does
(`syncstore.plan.reconcile.desired_state`: each shop's overrides, then the rule's conditions), keeps
the (shop, variant) pairs already listed in a connected shop, and returns their products and shops;
`queue` turns that into one bulk sync job (`syncstore.sync.engine.start_bulk_sync`), which the worker
runs chunk by chunk with recorded progress, within seconds, through the same plan the reconcile uses.

`scope` reads with its own connection; call it BEFORE the write transaction (SQLite allows one writer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformListingSku, ProductVariant, SyncRule
from syncstore.plan import reconcile, rules
from syncstore.plan.rules import Rule, RuleInput
from syncstore.security.auth import Actor, Permission, requires
from syncstore.sync import engine as sync

AFFECTED = "_rule_affected"


@dataclass(frozen=True)
class RuleScope:
    """The listed products a rule change moves, and the connected shops they are listed in."""

    product_ids: tuple[int, ...]
    connection_ids: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return not self.product_ids or not self.connection_ids


def _input(rule: RuleInput | Mapping[str, Any] | None) -> RuleInput | None:
    if rule is None or isinstance(rule, RuleInput):
        return rule
    return rules.validated(rule)


def scope(engine: sa.Engine, *changed: RuleInput | Mapping[str, Any] | None) -> RuleScope:
    """What the rules in `changed` (the rule as it was and as it is now; None for none) match among listed pairs.

    An inactive rule matches nothing. Raises InvalidInput when a rule given as a mapping is not valid.
    """
    matching = [rule for rule in map(_input, changed) if rule is not None and rule.is_active]
    if not matching:
        return RuleScope((), ())
    shops = reconcile.load_shops(engine)
    shops = shops.filter(pl.any_horizontal([rules.shop_matches(rule) for rule in matching]))
    if shops.is_empty():
        return RuleScope((), ())
    connection_ids = shops["connection_id"].to_list()
    if any(rule.conditions.min_price is not None or rule.conditions.max_price is not None for rule in matching):
        pairs = _through_overrides(engine, shops, matching)
    else:  # no condition depends on a price override: the listed pairs' own columns decide
        # The match as a column first: a predicate that is only literals (a rule with no condition) does not broadcast.
        matched = pl.any_horizontal([rules.matches(rule) for rule in matching])
        joined = _listed(engine, connection_ids, matching).join(shops, on="connection_id")
        pairs = joined.with_columns(matched.alias(AFFECTED)).filter(pl.col(AFFECTED))
    return RuleScope(
        tuple(sorted(pairs["product_id"].unique().to_list())), tuple(sorted(pairs["connection_id"].unique().to_list()))
    )


def _listed(engine: sa.Engine, connection_ids: Sequence[int], matching: Sequence[RuleInput]) -> pl.DataFrame:
    """Every (shop, variant) pair listed in these shops, with only the variant columns the rules' conditions read."""
    columns: list[Any] = [PlatformListingSku.connection_id, ProductVariant.id.label("variant_id"),
                          ProductVariant.product_id]  # fmt: skip
    schema: dict[str, Any] = {"connection_id": pl.Int64, "variant_id": pl.Int64, "product_id": pl.Int64}
    if any(rule.conditions.sku_pattern for rule in matching):
        columns.append(ProductVariant.sku)
        schema["sku"] = pl.String
    if any(rule.conditions.categories for rule in matching):
        columns.append(MasterProduct.category)
        schema["category"] = pl.String
    tags = any(rule.conditions.tags for rule in matching)
    if tags:
        columns.append(sa.cast(MasterProduct.tags, sa.Text).label("tags"))
        schema["tags"] = pl.String
    query = (
        sa.select(*columns)
        .join(ProductVariant, ProductVariant.id == PlatformListingSku.variant_id)
        .join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
        .where(PlatformListingSku.connection_id.in_(list(connection_ids)))
    )
    with engine.connect() as connection:
        frame = pl.read_database(query, connection, schema_overrides=schema)
    if tags:
        frame = frame.with_columns(pl.col("tags").str.json_decode(reconcile.TEXT_LIST).fill_null([]))
    return frame


def _through_overrides(engine: sa.Engine, shops: pl.DataFrame, matching: Sequence[RuleInput]) -> pl.DataFrame:
    """The matched listed pairs when a condition reads the price: the price each shop's overrides make it."""
    connection_ids = shops["connection_id"].to_list()
    with engine.connect() as connection:
        listed = pl.DataFrame(
            connection.execute(
                sa.select(PlatformListingSku.connection_id, PlatformListingSku.variant_id)
                .where(PlatformListingSku.connection_id.in_(connection_ids), PlatformListingSku.variant_id.is_not(None))
                .distinct()
            ).all(),
            schema={"connection_id": pl.Int64, "variant_id": pl.Int64},
            orient="row",
        )
    variants = reconcile.load_variants(engine).filter(pl.col("variant_id").is_in(listed["variant_id"].implode()))
    overrides = reconcile.load_overrides(engine, product_ids=variants["product_id"].unique().to_list())

    def mark(frame: pl.DataFrame) -> pl.DataFrame:
        matched = pl.any_horizontal([rules.matches(rule) for rule in matching])
        return reconcile.no_rules(frame.with_columns(matched.alias(AFFECTED)))

    desired = reconcile.desired_state(variants, overrides, shops, mark)
    return desired.filter(pl.col(AFFECTED)).join(
        listed.with_columns(pl.col("connection_id").cast(desired.schema["connection_id"])),
        on=["connection_id", "variant_id"],
        how="semi",
    )


@requires(Permission.SYNC_RUN)
def queue(actor: Actor | None, session: Session, found: RuleScope) -> int | None:
    """One bulk sync job of `found` (the worker runs it within seconds); None when nothing is listed to change."""
    if found.empty:
        return None
    return sync.start_bulk_sync(actor, session, list(found.product_ids), list(found.connection_ids))


@dataclass(frozen=True)
class Applied:
    """A rule saved (None when deleted), what it moves, and the bulk sync job applying it (None: nothing to apply)."""

    rule: Rule | None
    scope: RuleScope
    job_id: int | None


def _saved(engine: sa.Engine, rule_id: int) -> Rule | None:
    with transaction(engine) as session:
        row = session.get(SyncRule, rule_id)
        return Rule.from_row(row) if row is not None else None


@requires(Permission.RULES_WRITE)
def create_and_apply(actor: Actor | None, engine: sa.Engine, data: RuleInput | Mapping[str, Any]) -> Applied:
    """Create a rule and queue its affected listings in the same transaction."""
    found = scope(engine, data)
    with transaction(engine) as session:
        rule = rules.create_rule(actor, session, data)
        return Applied(rule, found, queue(actor, session, found))


@requires(Permission.RULES_WRITE)
def update_and_apply(
    actor: Actor | None,
    engine: sa.Engine,
    rule_id: int,
    data: RuleInput | Mapping[str, Any],
    *,
    expected_updated_at: datetime | None = None,
    unchanged: Mapping[int, datetime | None] | None = None,
) -> Applied:
    """Save a rule and queue the listings it matched before or matches now, in the same transaction.

    `unchanged`: other rules (id -> updated_at as shown) the save depends on, e.g. the neighbour of a
    moved rule; any saved since raises VersionConflict and nothing is written.
    """
    found = scope(engine, _saved(engine, rule_id), data)
    with transaction(engine) as session:
        for other_id, other_seen in (unchanged or {}).items():
            rules.check_version(session, other_id, other_seen)
        rule = rules.update_rule(actor, session, rule_id, data, expected_updated_at=expected_updated_at)
        return Applied(rule, found, queue(actor, session, found))


@requires(Permission.RULES_WRITE)
def delete_and_apply(
    actor: Actor | None, engine: sa.Engine, rule_id: int, *, expected_updated_at: datetime | None = None
) -> Applied:
    """Delete a rule and queue the listings it matched (they go back to the price and stock without it)."""
    found = scope(engine, _saved(engine, rule_id))
    with transaction(engine) as session:
        rules.delete_rule(actor, session, rule_id, expected_updated_at=expected_updated_at)
        return Applied(None, found, queue(actor, session, found))
