# Category mappings: which marketplace category a master category is listed under (needed to create a listing).
"""Per-platform category map, edited in the app (Editors and Admins), every change audited."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.db.models import CategoryMapping
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires


@dataclass(frozen=True)
class CategoryMappingView:
    id: int
    platform: str
    master_category: str
    remote_category_id: str


def _view(row: CategoryMapping) -> CategoryMappingView:
    return CategoryMappingView(row.id, row.platform, row.master_category, row.remote_category_id)


def list_category_mappings(session: Session, platform: str | None = None) -> list[CategoryMappingView]:
    query = sa.select(CategoryMapping).order_by(CategoryMapping.platform, CategoryMapping.master_category)
    if platform is not None:
        query = query.where(CategoryMapping.platform == platform)
    return [_view(row) for row in session.scalars(query)]


def _checked(platform: str, master_category: str, remote_category_id: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    category, remote = master_category.strip(), remote_category_id.strip()
    if not registry.is_platform(platform):
        errors["platform"] = f"one of {', '.join(registry.names())}"
    if not 1 <= len(category) <= 200:
        errors["master_category"] = "1 to 200 characters"
    if not 1 <= len(remote) <= 64:
        errors["remote_category_id"] = "1 to 64 characters"
    elif registry.is_platform(platform) and registry.spec(platform).rules.numeric_category and not remote.isdigit():
        errors["remote_category_id"] = f"{platform} category ids are numbers"
    if errors:
        raise InvalidInput(errors)
    return category, remote


@requires(Permission.CATALOG_WRITE)
def set_category_mapping(
    actor: Actor | None, session: Session, platform: str, master_category: str, remote_category_id: str
) -> CategoryMappingView:
    """Map a master category to a platform category (replacing an earlier mapping of it)."""
    category, remote = _checked(platform, master_category, remote_category_id)
    row = session.scalar(
        sa.select(CategoryMapping)
        .where(CategoryMapping.platform == platform, CategoryMapping.master_category == category)
        .with_for_update()
    )
    before = None if row is None else {"remote_category_id": row.remote_category_id}
    if row is None:
        row = CategoryMapping(platform=platform, master_category=category, remote_category_id=remote)
        session.add(row)
    else:
        row.remote_category_id = remote
    session.flush()
    after = {"platform": platform, "master_category": category, "remote_category_id": remote}
    audit.record(session, actor, "category_mapping.set", "category_mapping", row.id, before=before, after=after)
    return _view(row)


@requires(Permission.CATALOG_WRITE)
def delete_category_mapping(actor: Actor | None, session: Session, mapping_id: int) -> None:
    row = session.get(CategoryMapping, mapping_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"category mapping {mapping_id} not found")
    before = {
        "platform": row.platform,
        "master_category": row.master_category,
        "remote_category_id": row.remote_category_id,
    }
    session.delete(row)
    session.flush()
    audit.record(session, actor, "category_mapping.delete", "category_mapping", mapping_id, before=before)
