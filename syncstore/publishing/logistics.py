# Per shop logistics channels and stock location: what the platform offers, and the Admin's choice.
"""Logistics and warehouses per shop (the Connections page).

`refresh_shop_logistics` fetches a shop's logistics channels (`Connector.list_logistics_channels`,
[] where listings take none) and its stock locations / warehouses (`Connector.list_locations`).
`set_shop_logistics` stores the Admin's choice: the channels new listings are created with, and the
location that receives stock. `shop_logistics` reads one shop's; `list_shop_logistics` every shop's.
Without a choice, the channels the platform marks enabled are used, and a shop's only (or default)
location; a shop with several locations and no choice gets a dry-run issue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import Connector, ConnectorError
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, ShopPublishing
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, Message, NotFoundError, msg
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channel:
    channel_id: str
    name: str
    enabled: bool  # enabled on the platform for this shop


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    is_default: bool


@dataclass(frozen=True)
class ShopLogistics:
    """One shop's offer and choice; `channel_ids` and `location_id` are what new listings are created with."""

    connection_id: int
    platform: str
    shop_name: str
    channels: tuple[Channel, ...]
    locations: tuple[Location, ...]
    chosen_channel_ids: tuple[str, ...]  # the Admin's choice (empty: none made)
    chosen_location_id: str | None
    fetched_at: datetime | None
    needs_channel: bool  # the platform creates a listing only with a channel (its rules)

    @property
    def channel_ids(self) -> tuple[str, ...]:
        """Chosen channels, else the ones the platform has enabled for the shop."""
        return self.chosen_channel_ids or tuple(c.channel_id for c in self.channels if c.enabled)

    @property
    def location_id(self) -> str | None:
        """The chosen location, else the shop's only one, else the one the platform marks as the default;
        None when there are several, none is chosen and none is the default."""
        if self.chosen_location_id:
            return self.chosen_location_id
        if len(self.locations) == 1:
            return self.locations[0].location_id
        defaults = [location.location_id for location in self.locations if location.is_default]
        return defaults[0] if len(defaults) == 1 else None

    @property
    def needs_location_choice(self) -> bool:
        return len(self.locations) > 1 and self.location_id is None


def _needs_channel(platform: str) -> bool:
    return registry.is_platform(platform) and registry.spec(platform).rules.needs_logistics_channel


def _view(connection: PlatformConnection, row: ShopPublishing | None) -> ShopLogistics:
    channels = tuple(Channel(str(c.get("channel_id", "")), str(c.get("name", "")), bool(c.get("enabled", True)))
                     for c in (row.channels if row else []))  # fmt: skip
    locations = tuple(
        Location(str(loc.get("location_id", "")), str(loc.get("name", "")), bool(loc.get("is_default", False)))
        for loc in (row.locations if row else [])
    )
    return ShopLogistics(
        connection.id, connection.platform, connection.shop_name, channels, locations,
        tuple(row.logistics_channel_ids or ()) if row else (), row.location_id if row else None,
        row.fetched_at if row else None, _needs_channel(connection.platform),
    )  # fmt: skip


def shop_logistics(session: Session, connection_id: int) -> ShopLogistics:
    connection = session.get(PlatformConnection, connection_id)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    return _view(connection, session.get(ShopPublishing, connection_id))


def list_shop_logistics(session: Session, connection_ids: Sequence[int] | None = None) -> list[ShopLogistics]:
    """Every shop's (or the given shops') channels, locations and choice, by connection id."""
    query = sa.select(PlatformConnection).order_by(PlatformConnection.id)
    if connection_ids is not None:
        query = query.where(PlatformConnection.id.in_(list(connection_ids)))
    connections = session.scalars(query).all()
    rows = {
        row.connection_id: row
        for row in session.scalars(
            sa.select(ShopPublishing).where(ShopPublishing.connection_id.in_([c.id for c in connections]))
        )
    }
    return [_view(connection, rows.get(connection.id)) for connection in connections]


def _row(session: Session, connection_id: int) -> ShopPublishing:
    if session.get(PlatformConnection, connection_id) is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    row = session.get(ShopPublishing, connection_id)
    if row is None:
        row = ShopPublishing(connection_id=connection_id, channels=[], locations=[], logistics_channel_ids=[])
        session.add(row)
    return row


@requires(Permission.CONNECTIONS_MANAGE)
def refresh_shop_logistics(
    actor: Actor | None, engine: sa.Engine, connection_id: int, connector: Connector
) -> ShopLogistics:
    """Fetch the shop's logistics channels and locations; a choice no longer offered is dropped."""
    return fetch_shop_logistics(engine, connection_id, connector, actor=actor)


def fetch_shop_logistics(
    engine: sa.Engine, connection_id: int, connector: Connector, *, actor: Actor | None = None
) -> ShopLogistics:
    """What `refresh_shop_logistics` does, for the system (a publish to a shop never fetched); no choice is made."""
    channels = connector.list_logistics_channels()
    locations = connector.list_locations()
    with transaction(engine) as session:
        row = _row(session, connection_id)
        row.channels = [{"channel_id": c.channel_id, "name": c.name, "enabled": c.enabled} for c in channels]
        row.locations = [{"location_id": loc.location_id, "name": loc.name, "is_default": loc.is_default}
                         for loc in locations]  # fmt: skip
        row.fetched_at = utcnow()
        offered = {c.channel_id for c in channels}
        row.logistics_channel_ids = [c for c in row.logistics_channel_ids or [] if c in offered]
        if row.location_id and row.location_id not in {loc.location_id for loc in locations}:
            row.location_id = None
        change = {"channels": len(channels), "locations": len(locations)}
        if actor is None:
            audit.record_system(session, "publish", "shop.logistics.refresh", "platform_connection", connection_id,
                                after=change)  # fmt: skip
        else:
            audit.record(session, actor, "shop.logistics.refresh", "platform_connection", connection_id, after=change)
        session.flush()
        return shop_logistics(session, connection_id)


def ensure_fetched(engine: sa.Engine, connection_id: int, connector: Connector) -> None:
    """Fetch a shop's channels and locations once, before its first plan: until an Admin chooses, a
    listing is created with the channels the platform has enabled and the shop's only (or default)
    location, instead of every create waiting for a visit to the Connections page. A failed fetch is
    logged: the plan then names what is missing, and the sync's own calls report a shop-wide failure."""
    with transaction(engine) as session:
        if shop_logistics(session, connection_id).fetched_at is not None:
            return
    try:
        fetch_shop_logistics(engine, connection_id, connector)
    except ConnectorError as error:
        log.warning("shop %s: logistics not fetched: %s", connection_id, error)


@requires(Permission.CONNECTIONS_MANAGE)
def set_shop_logistics(
    actor: Actor | None,
    session: Session,
    connection_id: int,
    channel_ids: Sequence[str] | None = None,
    location_id: str | None = None,
) -> ShopLogistics:
    """Store the Admin's choice (None leaves that part as it is, [] / "" clears it); checked against the offer."""
    row = _row(session, connection_id)
    errors: dict[str, Message] = {}
    before: dict[str, Any] = {"channel_ids": list(row.logistics_channel_ids or []), "location_id": row.location_id}
    if channel_ids is not None:
        offered = {str(c.get("channel_id")) for c in row.channels or []}
        unknown = [c for c in channel_ids if c not in offered]
        if unknown:
            errors["channel_ids"] = msg(
                "{unknown} is not a logistics channel of this shop (refresh the shop's channels)", unknown=unknown[0]
            )
        else:
            row.logistics_channel_ids = list(dict.fromkeys(channel_ids))
    if location_id is not None:
        offered_locations = {str(loc.get("location_id")) for loc in row.locations or []}
        if location_id and location_id not in offered_locations:
            errors["location_id"] = msg(
                "{location_id} is not a warehouse/location of this shop (refresh the shop)", location_id=location_id
            )
        else:
            row.location_id = location_id or None
    if errors:
        raise InvalidInput(errors)
    session.flush()
    audit.record(session, actor, "shop.logistics.set", "platform_connection", connection_id, before=before,
                 after={"channel_ids": list(row.logistics_channel_ids), "location_id": row.location_id})  # fmt: skip
    return shop_logistics(session, connection_id)
