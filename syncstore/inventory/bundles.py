# Bundles: a variant made of components with quantities; set, read and look up the bundles containing a variant.
"""Bundles.

A bundle variant's available stock is the minimum over its components of floor(available /
quantity) (`syncstore.inventory.availability`); its own `stock` is ignored for selling. An order
for a bundle moves its components through the ledger (`syncstore.inventory.ledger.apply_order`).
Nesting is refused: a component may not itself be a bundle, a bundle may not be a component, and
a bundle may not contain itself (so no cycle can form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import BundleComponent, ProductVariant
from syncstore.errors import InvalidInput, Message, joined, msg
from syncstore.inventory import ledger
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires


@dataclass(frozen=True)
class Component:
    variant_id: int
    sku: str
    quantity: int


def components(session: Session, bundle_variant_ids: Sequence[int]) -> dict[int, list[Component]]:
    """The components of each bundle among the ids, by SKU; plain variants are absent."""
    found: dict[int, list[Component]] = {}
    if not bundle_variant_ids:
        return found
    query = (
        sa.select(BundleComponent.bundle_variant_id, ProductVariant.id, ProductVariant.sku, BundleComponent.quantity)
        .join(ProductVariant, ProductVariant.id == BundleComponent.component_variant_id)
        .where(BundleComponent.bundle_variant_id.in_(list(bundle_variant_ids)))
        .order_by(BundleComponent.bundle_variant_id, ProductVariant.sku)
    )
    for bundle_id, variant_id, sku, quantity in session.execute(query):
        found.setdefault(bundle_id, []).append(Component(variant_id, sku, quantity))
    return found


def bundles_containing(session: Session, component_variant_ids: Sequence[int]) -> dict[int, list[int]]:
    """component id -> the bundles that contain it (by id); components in no bundle are absent."""
    found: dict[int, list[int]] = {}
    if not component_variant_ids:
        return found
    query = (
        sa.select(BundleComponent.component_variant_id, BundleComponent.bundle_variant_id)
        .where(BundleComponent.component_variant_id.in_(list(component_variant_ids)))
        .order_by(BundleComponent.component_variant_id, BundleComponent.bundle_variant_id)
    )
    for component_id, bundle_id in session.execute(query):
        found.setdefault(component_id, []).append(bundle_id)
    return found


def is_bundle(session: Session, variant_id: int) -> bool:
    query = sa.select(BundleComponent.bundle_variant_id).where(BundleComponent.bundle_variant_id == variant_id)
    return session.scalar(query.limit(1)) is not None


def _is_component(session: Session, variant_id: int) -> bool:
    query = sa.select(BundleComponent.component_variant_id).where(BundleComponent.component_variant_id == variant_id)
    return session.scalar(query.limit(1)) is not None


def _resolve(session: Session, bundle: ProductVariant, wanted: Sequence[tuple[str, int]]) -> dict[int, tuple[str, int]]:
    """component id -> (SKU, quantity), or InvalidInput naming every bad entry."""
    errors: list[Message] = []
    lowered = [(str(sku or "").strip(), quantity) for sku, quantity in wanted]
    by_sku = {
        sku.lower(): (variant_id, sku)
        for variant_id, sku in session.execute(
            sa.select(ProductVariant.id, ProductVariant.sku).where(
                sa.func.lower(ProductVariant.sku).in_([sku.lower() for sku, _ in lowered])
            )
        )
    }
    parts = ledger.bundle_parts(session, [v for v, _ in by_sku.values()])
    resolved: dict[int, tuple[str, int]] = {}
    for sku, quantity in lowered:
        found = by_sku.get(sku.lower())
        if not sku:
            errors.append(msg("a component SKU is empty"))
        elif found is None:
            errors.append(msg("unknown SKU {sku!r}", sku=sku))
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            errors.append(
                msg(
                    "quantity of {sku} must be a whole number of 1 or more (got {quantity!r})",
                    sku=sku,
                    quantity=quantity,
                )
            )
        elif found[0] == bundle.id:
            errors.append(msg("{sku} cannot contain itself", sku=bundle.sku))
        elif found[0] in parts:
            errors.append(msg("{sku} is itself a bundle; bundles cannot be nested", sku=found[1]))
        elif found[0] in resolved:
            errors.append(msg("{sku} is listed twice", sku=found[1]))
        else:
            resolved[found[0]] = (found[1], quantity)
    if errors:
        raise InvalidInput({"components": joined(errors)})
    return resolved


@requires(Permission.CATALOG_WRITE)
def set_components(
    actor: Actor | None, session: Session, bundle_variant_id: int, components: Sequence[tuple[str, int]]
) -> list[Component]:
    """Replace a variant's components (SKU, case-insensitive, and quantity); [] makes it a plain variant again.

    Refused (InvalidInput {"components": ...}, nothing written) for an unknown SKU, a quantity below 1,
    the variant itself, a component that is a bundle, or a bundle variant that is a component of
    another bundle. While it has components, the variant's own `stock` is ignored for selling: its
    quantity on every channel is computed from its components. Audited; announces `inventory.changed`
    for the bundle so its quantity is pushed.
    """
    bundle = ledger.locked_variant(session, bundle_variant_id)
    if components and _is_component(session, bundle.id):
        raise InvalidInput(
            {"components": msg("{sku} is a component of another bundle; bundles cannot be nested", sku=bundle.sku)}
        )
    resolved = _resolve(session, bundle, components)
    before = [(c.sku, c.quantity) for c in _components(session, [bundle.id]).get(bundle.id, [])]
    session.execute(sa.delete(BundleComponent).where(BundleComponent.bundle_variant_id == bundle.id))
    session.add_all(
        BundleComponent(bundle_variant_id=bundle.id, component_variant_id=variant_id, quantity=quantity)
        for variant_id, (_, quantity) in sorted(resolved.items())
    )
    session.flush()
    after = _components(session, [bundle.id]).get(bundle.id, [])
    ledger.announce(session, [bundle.id], "bundle components")
    audit.record(session, actor, "bundle.set_components", "variant", bundle.id,
                 before={"components": before}, after={"components": [(c.sku, c.quantity) for c in after]})  # fmt: skip
    return after


_components = components  # `set_components` names its argument `components`
