# Fixtures of the inventory tests: a catalog of plain variants, two shops, and order helpers.
"""Inventory fixtures (SQLite and PostgreSQL through the `engine` fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from connectors.base import OrderLine, OrderStatus, RemoteOrder
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from syncstore.inventory import ledger
from syncstore.security import crypto
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
ADMIN = Actor(user_id=None, label="admin@example.com", role=Role.ADMIN)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)
KEYRING = crypto.Keyring.parse(crypto.generate_key("inv"))


@dataclass(frozen=True)
class Store:
    """Variants by SKU and two shops (Shopee 100001, TikTok Shop 200002)."""

    engine: sa.Engine
    variants: dict[str, int]
    shopee: int
    tiktok: int


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    """CUP (20 on hand), LID (9), STRAW (50), KIT (a variant to become a bundle, 5 on hand of its own)."""
    with transaction(engine) as session:
        product = catalog.create_product(
            EDITOR, session,
            {"title": "Travel cup", "category": "Home", "base_price": "19.90",
             "variants": [{"sku": "CUP", "name": "Cup", "stock": 20}, {"sku": "LID", "name": "Lid", "stock": 9},
                          {"sku": "STRAW", "name": "Straw", "stock": 50}, {"sku": "KIT", "name": "Kit", "stock": 5}]},
        )  # fmt: skip
        shops = [
            connections.save_connection(
                Actor.command_line(),
                session,
                platform=platform,
                shop_id=shop_id,
                access_token="a",
                refresh_token="r",
                access_token_expires_at=None,
                refresh_token_expires_at=None,
                keyring=KEYRING,
            )
            for platform, shop_id in (("shopee", "100001"), ("tiktokshop", "200002"))
        ]
        variants = {v.sku: v.id for v in product.variants}
    return Store(engine, variants, shops[0].id, shops[1].id)


def order(
    order_id: str,
    status: OrderStatus,
    *lines: tuple[str, int],
    cancelled: dict[str, int] | None = None,
    platform: str = "shopee",
    shop_id: str = "100001",
) -> RemoteOrder:
    """An order with one line per (seller SKU, quantity); the line id is the SKU."""
    return RemoteOrder(
        platform=platform, shop_id=shop_id, order_id=order_id, status=status,
        lines=tuple(
            OrderLine(line_id=sku, item_id="1", sku_id=sku, seller_sku=sku, quantity=quantity,
                      cancelled_quantity=(cancelled or {}).get(sku, 0))
            for sku, quantity in lines
        ),
        updated_at=datetime.now(UTC),
    )  # fmt: skip


def apply(engine: sa.Engine, connection_id: int, remote: RemoteOrder) -> ledger.OrderEffect:
    with transaction(engine) as session:
        return ledger.apply_order(session, session.get_one(PlatformConnection, connection_id), remote)


def totals(engine: sa.Engine, variant_id: int) -> tuple[int, int]:
    """(on hand, reserved) totals of a variant."""
    with transaction(engine) as session:
        [level] = ledger.levels(session, [variant_id])
        return level.on_hand, level.reserved
