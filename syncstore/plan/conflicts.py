# Conflicts: a field edited on the marketplace AND in the master since the last sync, kept for a person to decide.
"""Conflicts.

The three-way diff reports a conflict when a listing field changed on both sides since the last
successful sync. `record` keeps ONE row per shop, listing, SKU and field (its `conflict_key`):
a conflict found again is updated, never duplicated, and a resolved one reopens if it recurs.

Resolving (Editor or Admin) writes where the chosen value must live, moves the baseline to the
marketplace's value (so the next diff reads "the master changed: push" or "in sync") and queues
the push through the outbox, all in one transaction with an audit row:

- `use_master`: the master value stands and is pushed to this shop;
- `use_platform`: the marketplace's value becomes this platform's override (other channels keep
  the master value);
- `manual`: a new value is written to the master and pushed everywhere. It is checked exactly as
  the product editor checks it (`syncstore.catalog.schema`), and it bumps the product's version,
  so an editor still holding the older version is refused.

Resolving is conditional (S2): on the conflict still being pending, and, given `expected_version`,
on the product still having the version the person loaded; otherwise nothing is written.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from syncstore.catalog import commands as catalog
from syncstore.catalog.schema import ProductPatch, VariantPatch
from syncstore.db.models import (
    MasterProduct,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductConflict,
    ProductVariant,
)
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, NotFoundError, VersionConflict, msg
from syncstore.events import outbox
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

ITEM_FIELDS = ("title", "description", "images")
SKU_FIELDS = ("price",)


class Strategy(enum.StrEnum):
    USE_MASTER = "use_master"
    USE_PLATFORM = "use_platform"
    MANUAL = "manual"


@dataclass(frozen=True)
class FoundConflict:
    """One conflicting field, as the diff reports it."""

    connection_id: int
    listing_id: int
    product_id: int | None
    variant_id: int | None
    platform: str
    field: str
    master_value: Any
    platform_value: Any
    base_value: Any

    @property
    def key(self) -> str:
        return conflict_key(self.listing_id, self.variant_id, self.field)


def conflict_key(listing_id: int, variant_id: int | None, field: str) -> str:
    return f"{listing_id}:{variant_id if variant_id is not None else '-'}:{field}"


def record(session: Session, found: Iterable[FoundConflict]) -> int:
    """Insert or refresh pending conflicts (a system action of the reconcile run); returns how many."""
    rows = list(found)
    if not rows:
        return 0
    existing = {
        c.conflict_key: c
        for c in session.scalars(
            sa.select(ProductConflict).where(ProductConflict.conflict_key.in_([r.key for r in rows]))
        )
    }
    for row in rows:
        values = {
            "master_value": audit.to_json(row.master_value),
            "platform_value": audit.to_json(row.platform_value),
            "base_value": audit.to_json(row.base_value),
        }
        conflict = existing.get(row.key)
        if conflict is None:
            session.add(
                ProductConflict(
                    conflict_key=row.key, connection_id=row.connection_id, listing_id=row.listing_id,
                    product_id=row.product_id, variant_id=row.variant_id, platform=row.platform, field=row.field,
                    status="pending", **values,
                )
            )  # fmt: skip
            continue
        if conflict.status != "pending":
            conflict.status, conflict.resolution, conflict.resolved_at, conflict.resolved_by = (
                "pending",
                None,
                None,
                None,
            )
            conflict.detected_at = utcnow()
        for name, value in values.items():
            setattr(conflict, name, value)
    session.flush()
    return len(rows)


def close_settled(
    session: Session, connection_id: int, still_conflicting: Iterable[str], *, product_ids: Iterable[int] | None = None
) -> int:
    """Close this shop's pending conflicts the latest diff no longer reports (both sides agree again).

    `product_ids`: the diff covered only these products; conflicts of other products stay open.
    """
    keep = set(still_conflicting)
    query = sa.select(ProductConflict).where(
        ProductConflict.connection_id == connection_id, ProductConflict.status == "pending"
    )
    if product_ids is not None:
        query = query.where(ProductConflict.product_id.in_(list(product_ids)))
    pending = session.scalars(query).all()
    closed = 0
    for conflict in pending:
        if conflict.conflict_key not in keep:
            conflict.status, conflict.resolved_at = "resolved", utcnow()
            conflict.resolution, conflict.resolved_by = {"strategy": "settled"}, "system:reconcile"
            closed += 1
    session.flush()
    return closed


def list_conflicts(
    session: Session,
    *,
    status: str | None = "pending",
    connection_id: int | None = None,
    product_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[ProductConflict]:
    """Conflicts, oldest first (the ones waiting longest)."""
    query = sa.select(ProductConflict).order_by(ProductConflict.detected_at, ProductConflict.id)
    if status is not None:
        query = query.where(ProductConflict.status == status)
    if connection_id is not None:
        query = query.where(ProductConflict.connection_id == connection_id)
    if product_id is not None:
        query = query.where(ProductConflict.product_id == product_id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def pending_count(session: Session, *, connection_id: int | None = None) -> int:
    """Pending conflicts, of one shop when `connection_id` is given."""
    query = sa.select(sa.func.count()).select_from(ProductConflict).where(ProductConflict.status == "pending")
    if connection_id is not None:
        query = query.where(ProductConflict.connection_id == connection_id)
    return session.scalar(query) or 0


@dataclass(frozen=True)
class Resolved:
    """A settled conflict and, when it was settled with `use_platform`, who made the override it left."""

    conflict: ProductConflict
    override_by: str | None = None


def recently_resolved(session: Session, *, connection_id: int | None = None, limit: int = 20) -> list[Resolved]:
    """The last settled conflicts, newest first; a `use_platform` one names the author of its override."""
    query = sa.select(ProductConflict).where(ProductConflict.status == "resolved")
    if connection_id is not None:
        query = query.where(ProductConflict.connection_id == connection_id)
    rows = session.scalars(
        query.order_by(ProductConflict.resolved_at.desc(), ProductConflict.id.desc()).limit(limit)
    ).all()
    found: list[Resolved] = []
    for row in rows:
        by = None
        if (row.resolution or {}).get("strategy") == Strategy.USE_PLATFORM.value and row.product_id is not None:
            variant_id = row.variant_id if row.field in SKU_FIELDS else None
            by = session.scalar(
                sa.select(PlatformOverride.updated_by).where(
                    PlatformOverride.product_id == row.product_id,
                    PlatformOverride.variant_id.is_(None)
                    if variant_id is None
                    else PlatformOverride.variant_id == variant_id,
                    PlatformOverride.platform == row.platform,
                    PlatformOverride.field == row.field,
                )
            )
        found.append(Resolved(row, by))
    return found


_EXPECTED = {
    "price": msg("a price such as 19.90"),
    "title": msg("a title of 1 to 255 characters"),
    "images": msg("a list of image URLs"),
    "description": msg("a text"),
}


def _checked_value(field: str, value: Any) -> Any:
    """A manual value checked by the same rules as the product editor's (catalog_schema), or InvalidInput."""
    if value is None or (field == "price" and isinstance(value, str) and not value.strip()):
        raise InvalidInput({"value": _EXPECTED.get(field, msg("a value"))})
    try:
        if field == "price":
            patch = VariantPatch.model_validate({"id": 0, "price": value})
            return patch.price
        if field in ITEM_FIELDS:
            checked = ProductPatch.model_validate({field: value}).changed_fields()[field]
            return [str(url) for url in checked] if field == "images" else checked
    except ValidationError as error:
        messages = "; ".join(str(item["msg"]).removeprefix("Value error, ") for item in error.errors())
        raise InvalidInput(
            {
                "value": msg(
                    "{expected}: {messages}", expected=_EXPECTED.get(field, msg("a valid value")), messages=messages
                )
            }
        ) from None
    raise InvalidInput({"field": msg("{field} cannot be set by hand", field=field)})


def _move_baseline_to_remote(session: Session, conflict: ProductConflict) -> None:
    """The marketplace's value becomes the baseline: the next diff sees only the master's side."""
    if conflict.field in ITEM_FIELDS and conflict.listing_id is not None:
        listing = session.get_one(PlatformListing, conflict.listing_id)
        setattr(listing, f"base_{conflict.field}", getattr(listing, f"remote_{conflict.field}"))
    elif conflict.field in SKU_FIELDS:
        sku = session.scalar(
            sa.select(PlatformListingSku).where(
                PlatformListingSku.listing_id == conflict.listing_id,
                PlatformListingSku.variant_id == conflict.variant_id,
            )
        )
        if sku is not None:
            sku.base_price = sku.remote_price


def _write_master(session: Session, conflict: ProductConflict, value: Any) -> None:
    """The manual value into the master (the caller has bumped the product's version)."""
    if conflict.field == "price" and conflict.variant_id is not None:
        session.get_one(ProductVariant, conflict.variant_id).price = value
    elif conflict.product_id is not None:
        product = session.get_one(MasterProduct, conflict.product_id)
        setattr(product, conflict.field, value)


def _check_version(session: Session, product_id: int, expected_version: int | None, *, bump: bool) -> int:
    """The product's version, which must be `expected_version` when given; bumped (compare-and-set) if `bump`."""
    current = session.scalar(sa.select(MasterProduct.version).where(MasterProduct.id == product_id))
    if current is None:
        raise NotFoundError("product {product_id} not found", product_id=product_id)
    expected = current if expected_version is None else expected_version
    if bump:
        catalog.claim_version(session, product_id, expected)
        return expected + 1
    if current != expected:
        raise VersionConflict("product", product_id, expected, current)
    return current


def _write_override(
    session: Session, conflict: ProductConflict, value: Any, *, author: str, from_platform: bool = True
) -> None:
    """The platform's override of the conflict's field, made (or last changed) by `author`."""
    variant_id = conflict.variant_id if conflict.field in SKU_FIELDS else None
    override = session.scalar(
        sa.select(PlatformOverride).where(
            PlatformOverride.product_id == conflict.product_id,
            PlatformOverride.variant_id.is_(None) if variant_id is None else PlatformOverride.variant_id == variant_id,
            PlatformOverride.platform == conflict.platform,
            PlatformOverride.field == conflict.field,
        )
    )
    stored = audit.to_json(value)
    if override is None:
        assert conflict.product_id is not None
        session.add(
            PlatformOverride(
                product_id=conflict.product_id, variant_id=variant_id, platform=conflict.platform,
                field=conflict.field, value=stored, from_platform=from_platform, updated_by=author,
            )
        )  # fmt: skip
    else:
        override.value, override.from_platform, override.updated_by = stored, from_platform, author


@requires(Permission.CONFLICTS_RESOLVE)
def resolve(
    actor: Actor | None,
    session: Session,
    conflict_id: int,
    strategy: Strategy | str,
    value: Any = None,
    *,
    expected_version: int | None = None,
) -> ProductConflict:
    """Settle one conflict: write the chosen value where it belongs and queue the push.

    `expected_version`: the product version the person saw; a product changed since raises
    VersionConflict and nothing is written. A conflict no longer pending is refused too.
    """
    conflict = session.get(ProductConflict, conflict_id, with_for_update=True, populate_existing=True)
    if conflict is None:
        raise NotFoundError("conflict {conflict_id} not found", conflict_id=conflict_id)
    if conflict.status != "pending":
        by = f" by {conflict.resolved_by}" if conflict.resolved_by else ""
        raise InvalidInput(
            {
                "conflict": msg(
                    "conflict {conflict_id} was already {status}{by}",
                    conflict_id=conflict_id,
                    status=conflict.status,
                    by=by,
                )
            }
        )
    try:
        chosen = Strategy(strategy)
    except ValueError:
        raise InvalidInput({"strategy": "use_master, use_platform or manual"}) from None
    manual = _checked_value(conflict.field, value) if chosen is Strategy.MANUAL else None
    version = None
    if conflict.product_id is not None:
        version = _check_version(session, conflict.product_id, expected_version, bump=chosen is Strategy.MANUAL)
    if chosen is Strategy.MANUAL:
        _write_master(session, conflict, manual)
        final: Any = manual
    elif chosen is Strategy.USE_PLATFORM:
        final = conflict.platform_value
        _write_override(session, conflict, final, author=actor.label if actor else "")
    else:
        final = conflict.master_value
    _move_baseline_to_remote(session, conflict)
    conflict.status, conflict.resolved_at = "resolved", utcnow()
    conflict.resolved_by = actor.label if actor else None
    conflict.resolution = {"strategy": chosen.value, "value": audit.to_json(final)}
    session.flush()
    outbox.publish(
        session,
        aggregate_type="product",
        aggregate_id=conflict.product_id or 0,
        event_type="conflict.resolved",
        payload={
            "product_id": conflict.product_id,
            "variant_ids": [conflict.variant_id] if conflict.variant_id else [],
            "fields": [conflict.field],
            "connection_id": conflict.connection_id,
            "strategy": chosen.value,
        },
    )
    audit.record(
        session, actor, "conflict.resolve", "product_conflict", conflict.id,
        before={"field": conflict.field, "master": conflict.master_value, "platform": conflict.platform_value,
                "base": conflict.base_value},
        after=conflict.resolution,
    )  # fmt: skip
    if chosen is Strategy.MANUAL and conflict.product_id is not None:
        # The master changed: the product's own history says so (and who, for "changed by X").
        audit.record(session, actor, "product.update", "product", conflict.product_id,
                     before={"version": version - 1 if version else None, conflict.field: conflict.master_value},
                     after={"version": version, conflict.field: audit.to_json(final),
                            "conflict": conflict.id})  # fmt: skip
    return conflict


@requires(Permission.CONFLICTS_RESOLVE)
def resolve_many(
    actor: Actor | None,
    session: Session,
    conflict_ids: Sequence[int],
    strategy: Strategy | str,
    *,
    expected_versions: Mapping[int, int] | None = None,
) -> list[ProductConflict]:
    """Bulk resolve with use_master or use_platform (a manual value is per conflict).

    `expected_versions`: conflict id -> the product version the person saw (S2), all or nothing.
    """
    if Strategy(strategy) is Strategy.MANUAL:
        raise InvalidInput({"strategy": "a manual value is chosen one conflict at a time"})
    seen = expected_versions or {}
    return [
        resolve(actor, session, conflict_id, strategy, expected_version=seen.get(conflict_id))
        for conflict_id in conflict_ids
    ]
