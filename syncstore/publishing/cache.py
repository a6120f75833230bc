# The per-shop cache of a platform's categories, category attributes and brands, refreshed daily and on demand.
"""Category cache.

`refresh_categories` fetches a shop's category tree and replaces the cached one (attributes and brands
of categories that vanished go with them). Attributes and brands are fetched lazily, per category
used (`ensure_category_details`), and again once older than `MAX_AGE`. Reads (`list_remote_categories`,
`category_attributes`, `category_brands`) serve the app, the CLI and the validation of mappings.
`refresh_every_shop` is the daily refresh (`pipelines.categories`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.base import Connector, ConnectorError, RemoteAttribute, RemoteBrand
from syncstore.db.engine import transaction
from syncstore.db.models import (
    PlatformConnection,
    RemoteAttributeRow,
    RemoteBrandRow,
    RemoteCategoryRow,
)
from syncstore.db.types import utcnow
from syncstore.errors import NotFoundError, SyncStoreError
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

# Cached attributes older than this are fetched again when their category is used.
MAX_AGE: Final = timedelta(days=1)


@dataclass(frozen=True)
class CategoryView:
    connection_id: int
    category_id: str
    name: str
    parent_id: str | None
    is_leaf: bool
    fetched_at: datetime


@dataclass(frozen=True)
class AttributeView:
    attribute_id: str
    name: str
    mandatory: bool
    input_type: str  # text, number, date, single_select, multi_select
    values: tuple[tuple[str, str], ...]  # (value_id, name)
    custom_allowed: bool

    def value_name(self, value_id: str) -> str:
        return next((name for vid, name in self.values if vid == value_id), value_id)


@dataclass(frozen=True)
class BrandView:
    brand_id: str
    name: str


@dataclass(frozen=True)
class RefreshReport:
    connection_id: int
    categories: int
    attributes: int  # attributes fetched again for categories already used
    fetched_at: datetime


def _connection(session: Session, connection_id: int) -> PlatformConnection:
    connection = session.get(PlatformConnection, connection_id)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    return connection


@requires(Permission.CATALOG_WRITE)
def refresh_categories(
    actor: Actor | None, engine: sa.Engine, connection_id: int, connector: Connector
) -> RefreshReport:
    """Fetch the shop's category tree (and the attributes of categories already used) into the cache."""
    return _refresh(engine, connection_id, connector, actor)


@dataclass(frozen=True)
class DailyRefresh:
    refreshed: tuple[RefreshReport, ...]
    failed: tuple[tuple[int, str], ...]  # (connection id, reason)


def refresh_every_shop(engine: sa.Engine, connectors: Callable[[int], Connector]) -> DailyRefresh:
    """The daily refresh (a Dagster schedule): every connected shop's tree; one shop's failure stops no other."""
    with transaction(engine) as session:
        query = sa.select(PlatformConnection.id).where(PlatformConnection.status == "connected")
        shop_ids = list(session.scalars(query.order_by(PlatformConnection.id)))
    refreshed, failed = [], []
    for connection_id in shop_ids:
        try:
            refreshed.append(_refresh(engine, connection_id, connectors(connection_id), None))
        except (ConnectorError, SyncStoreError) as error:
            failed.append((connection_id, f"{type(error).__name__}: {error}"))
    return DailyRefresh(tuple(refreshed), tuple(failed))


def ensure_tree(engine: sa.Engine, connection_id: int, connector: Connector) -> bool:
    """Fetch the shop's tree when none is cached yet (a publish to a shop never refreshed); True if it fetched."""
    with transaction(engine) as session:
        query = sa.select(RemoteCategoryRow.id).where(RemoteCategoryRow.connection_id == connection_id).limit(1)
        if session.scalar(query) is not None:
            return False
    _refresh(engine, connection_id, connector, None, process="publish")
    return True


def _refresh(
    engine: sa.Engine, connection_id: int, connector: Connector, actor: Actor | None, *, process: str = "schedule"
) -> RefreshReport:
    with transaction(engine) as session:
        _connection(session, connection_id)
    fetched = connector.list_categories()
    now = utcnow()
    with transaction(engine) as session:
        existing = {
            row.category_id: row
            for row in session.scalars(
                sa.select(RemoteCategoryRow).where(RemoteCategoryRow.connection_id == connection_id)
            )
        }
        seen: set[str] = set()
        for category in fetched:
            seen.add(category.category_id)
            row = existing.get(category.category_id)
            if row is None:
                row = RemoteCategoryRow(connection_id=connection_id, category_id=category.category_id)
                session.add(row)
            row.name, row.parent_id, row.is_leaf, row.fetched_at = (
                category.name[:255],
                category.parent_id,
                category.is_leaf,
                now,
            )
        gone = [category_id for category_id in existing if category_id not in seen]
        for start in range(0, len(gone), 500):
            chunk = gone[start : start + 500]
            for model in (RemoteCategoryRow, RemoteAttributeRow, RemoteBrandRow):
                session.execute(
                    sa.delete(model).where(model.connection_id == connection_id, model.category_id.in_(chunk))
                )
        used = [cid for cid, row in existing.items() if cid in seen and row.attributes_fetched_at is not None]
        change = {"categories": len(fetched), "removed": len(gone)}
        if actor is None:
            audit.record_system(session, process, "categories.refresh", "platform_connection", connection_id,
                                after=change)  # fmt: skip
        else:
            audit.record(session, actor, "categories.refresh", "platform_connection", connection_id, after=change)
    attributes = sum(len(ensure_category_details(engine, connection_id, connector, cid, force=True)) for cid in used)
    return RefreshReport(connection_id, len(fetched), attributes, now)


def fresh_attributes(session: Session, connection_id: int, category_id: str) -> list[AttributeView] | None:
    """The category's cached attributes while younger than MAX_AGE; None when they must be fetched."""
    fetched = session.scalar(
        sa.select(RemoteCategoryRow.attributes_fetched_at).where(
            RemoteCategoryRow.connection_id == connection_id, RemoteCategoryRow.category_id == category_id
        )
    )
    if fetched is None or utcnow() - fetched >= MAX_AGE:
        return None
    return category_attributes(session, connection_id, category_id)


def attributes_for_platform(
    engine: sa.Engine,
    platform: str,
    category_id: str,
    connectors: Callable[[int], Connector],
    *,
    force: bool = False,
) -> list[AttributeView]:
    """A platform category's attributes, from the cache while fresh, else fetched through the first connected
    shop of the platform whose cached tree has the category (NotFoundError when none has: refresh first)."""
    with transaction(engine) as session:
        shop = session.scalar(
            sa.select(RemoteCategoryRow.connection_id)
            .join(PlatformConnection, PlatformConnection.id == RemoteCategoryRow.connection_id)
            .where(PlatformConnection.platform == platform, PlatformConnection.status == "connected",
                   RemoteCategoryRow.category_id == category_id)
            .order_by(RemoteCategoryRow.connection_id)
            .limit(1)
        )  # fmt: skip
        if shop is None:
            raise NotFoundError(
                "no connected {platform} shop has category {category_id}: refresh the categories",
                platform=platform,
                category_id=category_id,
            )
        cached = None if force else fresh_attributes(session, shop, category_id)
    if cached is not None:
        return cached
    return ensure_category_details(engine, shop, connectors(shop), category_id, force=force)


def ensure_category_details(
    engine: sa.Engine, connection_id: int, connector: Connector, category_id: str, *, force: bool = False
) -> list[AttributeView]:
    """The category's attributes, fetched (with its brands) when not cached, older than MAX_AGE, or forced."""
    with transaction(engine) as session:
        row = session.scalar(
            sa.select(RemoteCategoryRow).where(
                RemoteCategoryRow.connection_id == connection_id, RemoteCategoryRow.category_id == category_id
            )
        )
        if row is None:
            raise NotFoundError(
                "category {category_id} is not in shop {connection_id}'s category tree; refresh it",
                category_id=category_id,
                connection_id=connection_id,
            )
        fresh = row.attributes_fetched_at is not None and utcnow() - row.attributes_fetched_at < MAX_AGE
        if fresh and not force:
            return category_attributes(session, connection_id, category_id)
    attributes, brands = connector.get_category_attributes(category_id), connector.list_brands(category_id)
    with transaction(engine) as session:
        store_category_details(session, connection_id, category_id, attributes, brands)
        return category_attributes(session, connection_id, category_id)


def store_category_details(
    session: Session,
    connection_id: int,
    category_id: str,
    attributes: Sequence[RemoteAttribute],
    brands: Sequence[RemoteBrand],
) -> None:
    """Replace the cached attributes and brands of one category of a shop."""
    now = utcnow()
    for model in (RemoteAttributeRow, RemoteBrandRow):
        session.execute(sa.delete(model).where(model.connection_id == connection_id, model.category_id == category_id))
    for attribute in attributes:
        session.add(
            RemoteAttributeRow(
                connection_id=connection_id, category_id=category_id, attribute_id=attribute.attribute_id,
                name=attribute.name[:255], mandatory=attribute.mandatory, input_type=attribute.input_type,
                values=[{"value_id": v.value_id, "name": v.name} for v in attribute.values],
                custom_allowed=attribute.custom_allowed, fetched_at=now,
            )
        )  # fmt: skip
    unique_brands = {brand.brand_id: brand for brand in brands}
    for brand in unique_brands.values():
        session.add(RemoteBrandRow(connection_id=connection_id, category_id=category_id, brand_id=brand.brand_id,
                                   name=brand.name[:255], fetched_at=now))  # fmt: skip
    row = session.scalar(
        sa.select(RemoteCategoryRow).where(
            RemoteCategoryRow.connection_id == connection_id, RemoteCategoryRow.category_id == category_id
        )
    )
    if row is not None:
        row.attributes_fetched_at = now
    session.flush()


# --- reads ------------------------------------------------------------------------------------


def _shops_of(session: Session, platform: str) -> list[int]:
    return list(session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.platform == platform)
                                .order_by(PlatformConnection.id)))  # fmt: skip


def list_remote_categories(
    session: Session,
    *,
    connection_id: int | None = None,
    platform: str | None = None,
    search: str = "",
    leaves_only: bool = False,
    limit: int = 200,
) -> list[CategoryView]:
    """Cached categories of a shop (or of every shop of a platform), by name (case-insensitive `search`)."""
    query = sa.select(RemoteCategoryRow).order_by(RemoteCategoryRow.name, RemoteCategoryRow.category_id)
    if connection_id is not None:
        query = query.where(RemoteCategoryRow.connection_id == connection_id)
    elif platform is not None:
        query = query.where(RemoteCategoryRow.connection_id.in_(_shops_of(session, platform)))
    if search.strip():
        query = query.where(sa.func.lower(RemoteCategoryRow.name).contains(search.strip().lower()))
    if leaves_only:
        query = query.where(RemoteCategoryRow.is_leaf.is_(True))
    seen: set[str] = set()
    views = []
    for row in session.scalars(query.limit(limit * 4)):
        if row.category_id in seen:
            continue
        seen.add(row.category_id)
        views.append(CategoryView(row.connection_id, row.category_id, row.name, row.parent_id, row.is_leaf,
                                  row.fetched_at))  # fmt: skip
        if len(views) >= limit:
            break
    return views


def _attribute_view(row: RemoteAttributeRow) -> AttributeView:
    values = tuple((str(v.get("value_id", "")), str(v.get("name", ""))) for v in row.values or [])
    return AttributeView(row.attribute_id, row.name, row.mandatory, row.input_type, values, row.custom_allowed)


def category_attributes(session: Session, connection_id: int, category_id: str) -> list[AttributeView]:
    """The cached attributes of a shop's category (mandatory ones first, then by name)."""
    rows = session.scalars(
        sa.select(RemoteAttributeRow)
        .where(RemoteAttributeRow.connection_id == connection_id, RemoteAttributeRow.category_id == category_id)
        .order_by(RemoteAttributeRow.mandatory.desc(), RemoteAttributeRow.name, RemoteAttributeRow.attribute_id)
    )
    return [_attribute_view(row) for row in rows]


def platform_category_attributes(session: Session, platform: str, category_id: str) -> list[AttributeView] | None:
    """The attributes of a platform category from the first shop of that platform that cached them; None if none did."""
    for connection_id in _shops_of(session, platform):
        fetched = session.scalar(
            sa.select(RemoteCategoryRow.attributes_fetched_at).where(
                RemoteCategoryRow.connection_id == connection_id, RemoteCategoryRow.category_id == category_id
            )
        )
        if fetched is not None:
            return category_attributes(session, connection_id, category_id)
    return None


def category_brands(session: Session, connection_id: int, category_id: str) -> list[BrandView]:
    rows = session.scalars(
        sa.select(RemoteBrandRow)
        .where(RemoteBrandRow.connection_id == connection_id, RemoteBrandRow.category_id == category_id)
        .order_by(RemoteBrandRow.name)
    )
    return [BrandView(row.brand_id, row.name) for row in rows]


def category_name(session: Session, platform: str, category_id: str) -> str | None:
    """A platform category's cached name (from any shop of the platform), if known."""
    return session.scalar(
        sa.select(RemoteCategoryRow.name)
        .where(RemoteCategoryRow.connection_id.in_(_shops_of(session, platform)),
               RemoteCategoryRow.category_id == category_id)
        .limit(1)
    )  # fmt: skip
