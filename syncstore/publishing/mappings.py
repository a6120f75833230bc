# Category mappings: which platform category a master category is listed under, its default attributes and brand.
"""Per-platform category map, edited in the app and the CLI (Editors and Admins), every change audited.

A mapping sends a master category's products to one platform category, with default values of
that category's attributes and an optional brand. Where the shops' category cache (`cache`) knows
the platform's tree, the category must be in it; defaults are checked against the category's
cached attributes (unknown attribute, value not allowed, wrong type: `InvalidInput`), and a brand
against its cached brands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.db.models import CategoryMapping, MasterProduct, PlatformConnection, RemoteBrandRow, RemoteCategoryRow
from syncstore.errors import InvalidInput, Message, NotFoundError, msg
from syncstore.publishing import cache
from syncstore.publishing.attributes import (
    AttributeValue,
    AttributeValues,
    check_values,
    values_from_json,
    values_to_json,
)
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires


@dataclass(frozen=True)
class CategoryMappingView:
    id: int
    platform: str
    master_category: str
    remote_category_id: str
    defaults: dict[str, AttributeValue] = field(default_factory=dict)
    brand_id: str | None = None
    remote_category_name: str | None = None


def _view(session: Session, row: CategoryMapping) -> CategoryMappingView:
    return CategoryMappingView(
        row.id, row.platform, row.master_category, row.remote_category_id, values_from_json(row.default_attributes),
        row.brand_id, cache.category_name(session, row.platform, row.remote_category_id),
    )  # fmt: skip


def list_category_mappings(session: Session, platform: str | None = None) -> list[CategoryMappingView]:
    query = sa.select(CategoryMapping).order_by(CategoryMapping.platform, CategoryMapping.master_category)
    if platform is not None:
        query = query.where(CategoryMapping.platform == platform)
    return [_view(session, row) for row in session.scalars(query)]


def get_category_mapping(session: Session, platform: str, master_category: str) -> CategoryMappingView | None:
    row = session.scalar(
        sa.select(CategoryMapping).where(
            CategoryMapping.platform == platform, CategoryMapping.master_category == master_category.strip()
        )
    )
    return None if row is None else _view(session, row)


def _checked(platform: str, master_category: str, remote_category_id: str) -> tuple[str, str]:
    errors: dict[str, Message] = {}
    category, remote = master_category.strip(), remote_category_id.strip()
    if not registry.is_platform(platform):
        errors["platform"] = msg("one of {choices}", choices=", ".join(registry.names()))
    if not 1 <= len(category) <= 200:
        errors["master_category"] = msg("1 to 200 characters")
    if not 1 <= len(remote) <= 64:
        errors["remote_category_id"] = msg("1 to 64 characters")
    elif registry.is_platform(platform) and registry.spec(platform).rules.numeric_category and not remote.isdigit():
        errors["remote_category_id"] = msg("{platform} category ids are numbers", platform=platform)
    if errors:
        raise InvalidInput(errors)
    return category, remote


def _platform_shops(session: Session, platform: str) -> list[int]:
    return list(session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.platform == platform)))


def _check_against_cache(
    session: Session, platform: str, remote: str, defaults: Mapping[str, AttributeValue], brand_id: str | None
) -> None:
    shops = _platform_shops(session, platform)
    in_shops = sa.select(RemoteCategoryRow).where(RemoteCategoryRow.connection_id.in_(shops))
    cached_tree = session.scalar(in_shops.limit(1)) is not None
    if cached_tree and session.scalar(in_shops.where(RemoteCategoryRow.category_id == remote).limit(1)) is None:
        raise InvalidInput(
            {
                "remote_category_id": msg(
                    "{remote} is not a {platform} category of your shops (search the categories, or refresh them)",
                    remote=remote,
                    platform=platform,
                )
            }
        )
    if defaults:
        attributes = cache.platform_category_attributes(session, platform, remote)
        if attributes is None:
            missing = f"the attributes of {platform} category {remote} are not fetched yet"
            raise InvalidInput(
                {
                    "attributes": msg(
                        "{missing}: run `syncstore categories attributes {platform} {remote}`",
                        missing=missing,
                        platform=platform,
                        remote=remote,
                    )
                }
            )
        check_values(attributes, defaults, f"{platform} {remote}")
    if brand_id:
        brands = sa.select(RemoteBrandRow.brand_id).where(
            RemoteBrandRow.connection_id.in_(shops), RemoteBrandRow.category_id == remote
        )
        known = set(session.scalars(brands))
        if known and brand_id not in known:
            raise InvalidInput(
                {
                    "brand_id": msg(
                        "{brand_id} is not a brand of {platform} category {remote}",
                        brand_id=brand_id,
                        platform=platform,
                        remote=remote,
                    )
                }
            )


@requires(Permission.CATALOG_WRITE)
def set_category_mapping(
    actor: Actor | None,
    session: Session,
    platform: str,
    master_category: str,
    remote_category_id: str,
    *,
    defaults: Mapping[str, AttributeValue] | None = None,
    brand_id: str | None = None,
) -> CategoryMappingView:
    """Map a master category to a platform category (replacing an earlier mapping of it).

    `defaults` replaces the default attribute values (None keeps them while the platform category stays
    the same, and drops them when it changes); `brand_id` None or "" means the platform's "no brand".
    """
    category, remote = _checked(platform, master_category, remote_category_id)
    brand = (brand_id or "").strip() or None
    row = session.scalar(
        sa.select(CategoryMapping)
        .where(CategoryMapping.platform == platform, CategoryMapping.master_category == category)
        .with_for_update()
    )
    if defaults is None:
        kept = row is not None and row.remote_category_id == remote
        defaults = values_from_json(row.default_attributes) if row is not None and kept else {}
        to_check: Mapping[str, AttributeValue] = {}
    else:
        to_check = defaults
    _check_against_cache(session, platform, remote, to_check, brand)
    before: dict[str, Any] | None = None
    if row is not None:
        before = {"remote_category_id": row.remote_category_id, "defaults": row.default_attributes,
                  "brand_id": row.brand_id}  # fmt: skip
    if row is None:
        row = CategoryMapping(platform=platform, master_category=category, remote_category_id=remote)
        session.add(row)
    row.remote_category_id, row.default_attributes, row.brand_id = remote, values_to_json(defaults), brand
    session.flush()
    after = {"platform": platform, "master_category": category, "remote_category_id": remote,
             "defaults": row.default_attributes, "brand_id": brand}  # fmt: skip
    audit.record(session, actor, "category_mapping.set", "category_mapping", row.id, before=before, after=after)
    return _view(session, row)


@requires(Permission.CATALOG_WRITE)
def delete_category_mapping(actor: Actor | None, session: Session, mapping_id: int) -> None:
    row = session.get(CategoryMapping, mapping_id, with_for_update=True)
    if row is None:
        raise NotFoundError("category mapping {mapping_id} not found", mapping_id=mapping_id)
    before = {
        "platform": row.platform,
        "master_category": row.master_category,
        "remote_category_id": row.remote_category_id,
        "defaults": row.default_attributes,
        "brand_id": row.brand_id,
    }
    session.delete(row)
    session.flush()
    audit.record(session, actor, "category_mapping.delete", "category_mapping", mapping_id, before=before)


def attributes_for_product(session: Session, product_id: int, platform: str) -> list[cache.AttributeView] | None:
    """The cached attributes of the platform category the product's master category maps to (None: unknown)."""
    product = session.get(MasterProduct, product_id)
    if product is None:
        raise NotFoundError("product {product_id} not found", product_id=product_id)
    mapping = get_category_mapping(session, platform, product.category or "")
    if mapping is None:
        return None
    return cache.platform_category_attributes(session, platform, mapping.remote_category_id)


def mapping_defaults(session: Session) -> dict[tuple[str, str], tuple[AttributeValues, str | None]]:
    """(platform, master category) -> (default attribute values, brand id), for the plan."""
    rows = session.execute(
        sa.select(CategoryMapping.platform, CategoryMapping.master_category, CategoryMapping.default_attributes,
                  CategoryMapping.brand_id)
    ).all()  # fmt: skip
    return {(p, c): (values_from_json(d), b) for p, c, d, b in rows}
