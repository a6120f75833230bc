# Fixtures of the order tests: two connected shops and a catalog whose SKUs their order lines name.
from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformListing, PlatformListingSku
from syncstore.security import crypto
from syncstore.security.auth import Actor, Role
from syncstore.shops import connections

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
KEYRING = crypto.Keyring.parse(crypto.generate_key("ord"))


@dataclass(frozen=True)
class Shops:
    shopee: int  # connection ids
    tiktok: int
    variants: dict[str, int]  # master SKU -> variant id (TEE-S, TEE-M with 20 on hand; MUG-1 with 5)


@pytest.fixture
def shops(engine: sa.Engine) -> Shops:
    """A Shopee shop "Kedai A" (MY) and a TikTok shop "Toko B" (ID); Shopee item 900/model 901 is bound to MUG-1."""
    with transaction(engine) as session:
        tee = catalog.create_product(
            EDITOR,
            session,
            {
                "title": "Tee",
                "category": "Fashion",
                "base_price": "19.90",
                "variants": [{"sku": "TEE-S", "name": "S", "stock": 20}, {"sku": "TEE-M", "name": "M", "stock": 20}],
            },
        )
        mug = catalog.create_product(
            EDITOR,
            session,
            {
                "title": "Mug",
                "category": "Home",
                "base_price": "9.90",
                "variants": [{"sku": "MUG-1", "name": "One", "stock": 5}],
            },
        )
        made = [
            connections.save_connection(
                Actor.command_line(),
                session,
                platform=platform,
                shop_id=shop_id,
                shop_name=name,
                region=region,
                access_token="a",
                refresh_token="r",
                access_token_expires_at=None,
                refresh_token_expires_at=None,
                keyring=KEYRING,
            )
            for platform, shop_id, name, region in (
                ("shopee", "100001", "Kedai A", "MY"),
                ("tiktokshop", "7001", "Toko B", "ID"),
            )
        ]
        listing = PlatformListing(connection_id=made[0].id, product_id=mug.id, platform="shopee", remote_item_id="900")
        session.add(listing)
        session.flush()
        session.add(
            PlatformListingSku(
                listing_id=listing.id,
                connection_id=made[0].id,
                variant_id=mug.variants[0].id,
                remote_sku_id="901",
                seller_sku="OLD-MUG",
            )
        )
        variants = {v.sku: v.id for v in [*tee.variants, *mug.variants]}
        return Shops(made[0].id, made[1].id, variants)


# The marketplace world of the dispatch tests (both simulators over HTTP, a product in sync on both shops).
from tests.syncstore.test_dispatch import mug, world  # noqa: E402, F401
