# Stored plans: the plan catalog_diff computed, kept with the versions it came from, read back while it is current.
"""Stored plans (`sync_plans`).

A plan is computed from the master catalog (products, variants, overrides, rules, category map)
and from one shop's snapshot. `PlanVersions` says which state of each: per input table its row
count and newest edit, digested into a catalog version and a snapshot version. A stored plan is
*current* while both versions are unchanged: applying it does what a fresh plan would.

When only products changed since (the rules, the category map and the shop's snapshot are as
they were, no row disappeared), `refresh` plans again only the products edited after the plan's
newest catalog edit and keeps the rest; otherwise the whole shop is planned again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.engine import transaction
from syncstore.db.models import (
    CategoryMapping,
    MasterProduct,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductAttributeValue,
    ProductVariant,
    RemoteAttributeRow,
    ShopPublishing,
    SyncPlan,
    SyncRule,
)
from syncstore.db.types import utcnow
from syncstore.plan import build, codec
from syncstore.plan import inputs as sync_inputs
from syncstore.plan.build import Baselines
from syncstore.plan.calls import estimate_calls
from syncstore.plan.changes import OPERATIONS, Json, JsonObject, PlannedChange
from syncstore.plan.conflicts import FoundConflict
from syncstore.plan.inputs import Shop
from syncstore.security import audit

# Plans kept per shop (the newest); older ones are deleted when a new one is stored.
KEEP: Final = 20
PRODUCT_TABLES: Final = ("products", "variants", "overrides")


@dataclass(frozen=True)
class PlanVersions:
    catalog: str
    snapshot: str
    catalog_stamp: datetime | None
    # table -> [rows, newest edit as ISO text or None, highest id or None]
    inputs: dict[str, list[int | str | None]]


@dataclass(frozen=True)
class Planned:
    """A shop's plan, computed now or read back: what the sync applies and the app shows."""

    shop: Shop
    changes: list[PlannedChange]
    conflicts: list[FoundConflict]
    baselines: Baselines
    summary: dict[str, int]
    plan_id: int | None = None  # the stored plan it is (or was refreshed from)
    replanned: tuple[int, ...] | None = None  # products planned again by `refresh`; None: as stored or all new


Stamped = type[MasterProduct | ProductVariant | PlatformOverride | SyncRule | CategoryMapping | ProductAttributeValue]


def _stamp(session: Session, model: Stamped) -> list[int | str | None]:
    count, newest, last_id = session.execute(
        sa.select(sa.func.count(), sa.func.max(model.updated_at), sa.func.max(model.id))
    ).one()
    return [int(count), newest.isoformat() if newest is not None else None, last_id]


def _cache_stamp(session: Session) -> list[int | str | None]:
    """The category attribute cache: a plan's create issues depend on which attributes are known."""
    count, newest = session.execute(sa.select(sa.func.count(), sa.func.max(RemoteAttributeRow.fetched_at))).one()
    return [int(count), newest.isoformat() if newest is not None else None, None]


def _digest(value: Json) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:32]


def versions(engine: sa.Engine, connection_id: int) -> PlanVersions:
    """The catalog and shop snapshot state a plan of this shop would be computed from now."""
    with transaction(engine) as session:
        inputs: dict[str, list[int | str | None]] = {
            "products": _stamp(session, MasterProduct), "variants": _stamp(session, ProductVariant),
            "overrides": _stamp(session, PlatformOverride), "rules": _stamp(session, SyncRule),
            "categories": _stamp(session, CategoryMapping), "attribute_values": _stamp(session, ProductAttributeValue),
            "category_cache": _cache_stamp(session),
        }  # fmt: skip
        connection = session.get(PlatformConnection, connection_id)
        shop_state: list[Json] = [
            connection.status if connection else None, connection.region if connection else None,
            connection.updated_at.isoformat() if connection else None,
        ]  # fmt: skip
        publishing = session.get(ShopPublishing, connection_id)
        shop_state.append(publishing.updated_at.isoformat() if publishing is not None else None)
        for model in (PlatformListing, PlatformListingSku):
            count, newest = session.execute(
                sa.select(sa.func.count(), sa.func.max(model.updated_at)).where(model.connection_id == connection_id)
            ).one()
            shop_state.append([int(count), newest.isoformat() if newest is not None else None])
    stamps = [datetime.fromisoformat(str(inputs[t][1])) for t in PRODUCT_TABLES if inputs[t][1] is not None]
    catalog: Json = {name: list(value) for name, value in inputs.items()}
    return PlanVersions(_digest(catalog), _digest(shop_state), max(stamps) if stamps else None, inputs)


def save(engine: sa.Engine, planned: Planned, at: PlanVersions, *, run_id: str | None = None) -> int:
    """Store the plan with the versions it was computed from; returns its id. Older plans of the shop go."""
    connection_id = planned.shop.connection_id
    with transaction(engine) as session:
        row = SyncPlan(
            connection_id=connection_id, catalog_version=at.catalog, snapshot_version=at.snapshot,
            catalog_stamp=at.catalog_stamp, inputs=at.inputs, status="planned",
            changes=[codec.encode(change) for change in planned.changes],
            conflicts=[audit.to_json(asdict(conflict)) for conflict in planned.conflicts],
            baselines=_encode_baselines(planned.baselines), summary=dict(planned.summary),
            api_calls=estimate_calls(planned.shop.platform, planned.changes), run_id=run_id,
        )  # fmt: skip
        session.add(row)
        session.flush()
        keep = sa.select(SyncPlan.id).where(SyncPlan.connection_id == connection_id)
        keep = keep.order_by(SyncPlan.id.desc()).limit(KEEP)
        session.execute(
            sa.delete(SyncPlan).where(
                SyncPlan.connection_id == connection_id, SyncPlan.id.not_in(keep.scalar_subquery())
            )
        )
        return row.id


@dataclass(frozen=True)
class StoredPlan:
    id: int
    planned: Planned
    versions: PlanVersions
    status: str
    api_calls: int


def latest(engine: sa.Engine, shop: Shop) -> StoredPlan | None:
    """The shop's newest stored plan, read back (typed changes, conflicts, baselines)."""
    with transaction(engine) as session:
        row = session.scalar(
            sa.select(SyncPlan).where(SyncPlan.connection_id == shop.connection_id).order_by(SyncPlan.id.desc())
        )
        if row is None:
            return None
        planned = Planned(
            shop=shop, changes=[codec.decode(change) for change in row.changes],
            conflicts=[FoundConflict(**conflict) for conflict in row.conflicts],
            baselines=_decode_baselines(row.baselines), summary=dict(row.summary), plan_id=row.id,
        )  # fmt: skip
        at = PlanVersions(row.catalog_version, row.snapshot_version, row.catalog_stamp, dict(row.inputs))
        return StoredPlan(row.id, planned, at, row.status, row.api_calls)


def current(engine: sa.Engine, shop: Shop) -> StoredPlan | None:
    """The newest stored plan if nothing it was computed from changed since; else None."""
    with transaction(engine) as session:
        row = session.execute(
            sa.select(SyncPlan.catalog_version, SyncPlan.snapshot_version)
            .where(SyncPlan.connection_id == shop.connection_id)
            .order_by(SyncPlan.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    now = versions(engine, shop.connection_id)
    if (now.catalog, now.snapshot) != (row.catalog_version, row.snapshot_version):
        return None
    stored = latest(engine, shop)
    return stored if stored is not None and stored.versions.catalog == now.catalog else None


def plan_now(
    engine: sa.Engine, shop: Shop, product_ids: Sequence[int] | None = None, *, resubmit_refused: bool = False
) -> Planned:
    """A fresh plan of the shop (or of some products in it); `resubmit_refused` sends refused listings again."""
    inputs = sync_inputs.load_inputs(engine, product_ids=product_ids, resubmit_refused=resubmit_refused)
    planning = build.plan_shop(engine, shop, inputs)
    return Planned(shop, planning.changes, planning.conflicts, build.agreed_baselines(planning.frame),
                   planning.summary)  # fmt: skip


def refresh(engine: sa.Engine, shop: Shop) -> tuple[Planned, PlanVersions]:
    """The plan to apply now and the versions it holds for: the stored one while current, else the stored
    one with the products edited since planned again (when only products changed), else a fresh one."""
    at = versions(engine, shop.connection_id)
    stored = latest(engine, shop)
    if stored is None:
        return plan_now(engine, shop), at
    if (at.catalog, at.snapshot) == (stored.versions.catalog, stored.versions.snapshot):
        return stored.planned, at
    edited = _edited_products(engine, stored.versions, at)
    if edited is None:
        return plan_now(engine, shop), at
    fresh = plan_now(engine, shop, sorted(edited)) if edited else None
    changes = [c for c in stored.planned.changes if c.product_id not in edited]
    conflicts = [c for c in stored.planned.conflicts if c.product_id not in edited]
    baselines = (dict(stored.planned.baselines[0]), dict(stored.planned.baselines[1]))
    if fresh is not None:
        changes += fresh.changes
        conflicts += fresh.conflicts
        baselines[0].update(fresh.baselines[0])
        baselines[1].update(fresh.baselines[1])
    order = {name: index for index, name in enumerate(OPERATIONS)}
    changes.sort(key=lambda c: (order[c.operation], c.product_id or 0, c.variant_id or 0))
    summary = dict(stored.planned.summary)  # the diff's counts as stored; the changes are current
    summary["changes"] = len(changes)
    planned = Planned(shop, changes, conflicts, baselines, summary, stored.id, tuple(sorted(edited)))
    return planned, at


def _edited_products(engine: sa.Engine, then: PlanVersions, now: PlanVersions) -> set[int] | None:
    """Products edited after `then`'s newest catalog edit, or None when something else changed."""
    if then.snapshot != now.snapshot or then.catalog_stamp is None:
        return None
    if any(
        then.inputs.get(table) != now.inputs.get(table)
        for table in ("rules", "categories", "attribute_values", "category_cache")
    ):
        return None
    stamp = then.catalog_stamp
    edited: set[int] = set()
    with transaction(engine) as session:
        for table, model, product in (
            ("products", MasterProduct, MasterProduct.id), ("variants", ProductVariant, ProductVariant.product_id),
            ("overrides", PlatformOverride, PlatformOverride.product_id),
        ):  # fmt: skip
            # A row that disappeared (a deleted override) cannot say which product it was: plan everything.
            rows, _newest, last_id = then.inputs[table]
            still = session.scalar(sa.select(sa.func.count()).select_from(model).where(model.id <= (last_id or 0)))
            if still != rows:
                return None
            edited.update(session.scalars(sa.select(product).where(model.updated_at > stamp).distinct()))
    return edited


def mark_applied(engine: sa.Engine, plan_id: int, run_id: str | None) -> None:
    with transaction(engine) as session:
        row = session.get(SyncPlan, plan_id)
        if row is not None:
            row.status, row.applied_run_id, row.applied_at = "applied", run_id, utcnow()


def _encode_baselines(baselines: Baselines) -> list[Json]:
    rows: list[Json] = []
    for level, per_row in zip(("sku", "listing"), baselines, strict=True):
        for row_id, values in per_row.items():
            for name, value in values.items():
                rows.append({"level": level, "id": row_id, "field": name, "value": audit.to_json(value)})
    return rows


def _decode_baselines(rows: list[JsonObject]) -> Baselines:
    skus: dict[int, dict[str, build.BaselineValue]] = {}
    listings: dict[int, dict[str, build.BaselineValue]] = {}
    for row in rows:
        name, value, row_id = str(row["field"]), row["value"], row["id"]
        assert isinstance(row_id, int)
        typed: build.BaselineValue
        if name == "price" and isinstance(value, str):
            typed = Decimal(value)
        elif isinstance(value, list):
            typed = [str(item) for item in value]
        elif isinstance(value, str | int) or value is None:
            typed = value
        else:
            raise ValueError(f"a stored baseline of {name} is not a value: {value!r}")
        (skus if row["level"] == "sku" else listings).setdefault(row_id, {})[name] = typed
    return skus, listings
