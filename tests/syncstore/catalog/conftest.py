# Shared fixtures of the SKU-mapping tests: two shops with orphan listings and a master product with two variants.
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from syncstore.catalog.commands import create_product
from syncstore.catalog.sku_keys import sku_key
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, PlatformListingSku
from syncstore.security.auth import Actor, Role

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)


@dataclass(frozen=True)
class Shop:
    shopee: int
    tiktok: int
    variants: dict[str, int]  # master SKU -> variant id
    skus: dict[str, int]  # seller SKU (shopee) -> listing SKU id


def _shop(session: sa.orm.Session, platform: str, shop_id: str, name: str) -> PlatformConnection:
    shop = PlatformConnection(platform=platform, shop_id=shop_id, shop_name=name, status="connected")
    session.add(shop)
    session.flush()
    return shop


def add_listing(
    session: sa.orm.Session, shop: PlatformConnection, item: str, title: str, skus: list[tuple[str | None, str, int]]
) -> list[PlatformListingSku]:
    """An orphan listing; skus are (seller SKU, price, stock)."""
    listing = PlatformListing(connection_id=shop.id, platform=shop.platform, remote_item_id=item,
                              remote_status="active", remote_title=title, remote_description=f"{title} description",
                              remote_images=["https://img.example.com/a.jpg", "shopee-image-id-1"])  # fmt: skip
    session.add(listing)
    session.flush()
    rows = []
    for index, (seller, price, stock) in enumerate(skus):
        row = PlatformListingSku(
            listing_id=listing.id, connection_id=shop.id, remote_sku_id=f"{item}-{index}", seller_sku=seller,
            sku_key=sku_key(seller, shop.sku_prefix, shop.sku_suffix), currency="MYR",
            remote_price=Decimal(price), remote_stock=stock,
        )  # fmt: skip
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def seed_world(engine: sa.Engine) -> Shop:
    """A product (LIN-S stock 12, LIN-M stock 4); two shops; orphans "lin s", "OTHER-1" (Shopee), "MUG-1" (TikTok)."""
    cli = Actor.command_line()
    with transaction(engine) as session:
        product = create_product(cli, session, {
            "title": "Linen shirt", "category": "Shirts", "base_price": "12.90", "currency": "MYR",
            "variants": [{"sku": "LIN-S", "name": "S", "stock": 12}, {"sku": "LIN-M", "name": "M", "stock": 4}],
        })  # fmt: skip
        shopee = _shop(session, "shopee", "1001", "My Shopee")
        tiktok = _shop(session, "tiktokshop", "7001", "My TikTok")
        skus = add_listing(session, shopee, "9001", "Old linen shirt", [("lin s", "10.00", 7), ("OTHER-1", "5.00", 1)])
        add_listing(session, tiktok, "8001", "Mug", [("MUG-1", "3.00", 2)])
        variants = {v.sku: v.id for v in product.variants}
        return Shop(shopee.id, tiktok.id, variants, {s.seller_sku or "": s.id for s in skus})


@pytest.fixture
def world(engine: sa.Engine) -> Shop:
    return seed_world(engine)
