# Two simulated shops (Shopee and TikTok Shop) connected to a SyncStore database, for the sync and fault tests.
"""A merchant with one Shopee shop and one TikTok Shop shop, both served by the local simulators.

`MarketplaceWorld.start(engine)` starts both simulators, adds a shop to each, connects them the way
the OAuth callback would (tokens issued by the simulators, stored encrypted) and maps the master
category "Fashion" on both platforms. `connector(connection_id)` is the ConnectorFactory the sync takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from connectors.base import Connector
from connectors.retry import DEFAULT_POLICY, RetryPolicy
from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.simulator.common import FaultPlan
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from demo.images import SampleImageServer
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformListing, PlatformListingSku
from syncstore.plan.changes import PlannedChange
from syncstore.security import crypto
from syncstore.security.auth import Actor, Role
from syncstore.settings import Settings
from syncstore.shops import connections, marketplaces
from syncstore.sync import engine as sync

APP_KEY, APP_SECRET = "sim-app-key", "sim-app-secret-0123456789"
PARTNER_ID, PARTNER_KEY = 2001887, "sim-partner-key-0123456789"
SHOPEE_SHOP, TIKTOK_SHOP = 7001, "7494000000000000777"
# The keyring spec travels to worker processes (the O3 test) in SYNCSTORE_TEST_KEYRING.
KEY_SPEC = crypto.generate_key("test")
KEYRING = crypto.Keyring.parse(KEY_SPEC)
EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
ADMIN = Actor.command_line()
SHOPEE_CATEGORY, TIKTOK_CATEGORY = "100017", "600001"


@dataclass
class MarketplaceWorld:
    engine: sa.Engine
    shopee: ShopeeSimulator
    tiktok: TikTokShopSimulator
    settings: Settings
    shopee_connection: int
    tiktok_connection: int
    tokens: tuple[str, ...]
    policy: RetryPolicy = DEFAULT_POLICY
    # A client with a short timeout lets a simulated "timeout" fault really time out.
    client: httpx.Client | None = None
    # Serves the products' images (real JPEGs the create uploads), started with the world.
    images: SampleImageServer | None = None

    @classmethod
    def start(cls, engine: sa.Engine, *, faults: FaultPlan | None = None, currency: str = "MYR") -> MarketplaceWorld:
        shopee = ShopeeSimulator(PARTNER_ID, PARTNER_KEY, faults=faults)
        tiktok = TikTokShopSimulator(app_key=APP_KEY, app_secret=APP_SECRET, faults=faults)
        shopee_url, tiktok_url = shopee.start(), tiktok.start()
        shopee.add_shop(SHOPEE_SHOP, "Shopee demo shop", currency=currency)
        cipher = tiktok.add_shop(TIKTOK_SHOP, "TikTok demo shop", currency=currency)
        settings = Settings(
            shopee_partner_id=PARTNER_ID, shopee_partner_key=PARTNER_KEY, shopee_host=shopee_url,
            tiktokshop_app_key=APP_KEY, tiktokshop_app_secret=APP_SECRET, tiktokshop_api_host=tiktok_url,
            tiktokshop_auth_host=tiktok_url, tiktokshop_authorize_host=tiktok_url,
        )  # fmt: skip
        shopee_tokens, tiktok_tokens = shopee.issue_tokens(SHOPEE_SHOP), tiktok.issue_tokens(TIKTOK_SHOP)
        expires = datetime.now(UTC) + timedelta(hours=3)
        with transaction(engine) as session:
            first = connections.save_connection(
                ADMIN, session, platform="shopee", shop_id=str(SHOPEE_SHOP), shop_name="Shopee demo shop",
                access_token=shopee_tokens[0], refresh_token=shopee_tokens[1], access_token_expires_at=expires,
                refresh_token_expires_at=None, keyring=KEYRING,
            )  # fmt: skip
            second = connections.save_connection(
                ADMIN, session, platform="tiktokshop", shop_id=TIKTOK_SHOP, shop_name="TikTok demo shop",
                access_token=tiktok_tokens[0], refresh_token=tiktok_tokens[1], access_token_expires_at=expires,
                refresh_token_expires_at=None, shop_cipher=cipher, keyring=KEYRING,
            )  # fmt: skip
            sync.set_category_mapping(EDITOR, session, "shopee", "Fashion", SHOPEE_CATEGORY)
            sync.set_category_mapping(EDITOR, session, "tiktokshop", "Fashion", TIKTOK_CATEGORY)
        images = SampleImageServer()
        images.start()
        return cls(
            engine, shopee, tiktok, settings, first.id, second.id,
            tokens=(*shopee_tokens, *tiktok_tokens, PARTNER_KEY, APP_SECRET), images=images,
        )  # fmt: skip

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.shopee.stop()
        self.tiktok.stop()
        if self.images is not None:
            self.images.stop()

    def image_url(self, path: str = "p/1.jpg") -> str:
        """A real image of the world's image server (a product's cover by default)."""
        assert self.images is not None
        return f"{self.images.base}/{path}"

    @property
    def connection_ids(self) -> tuple[int, int]:
        return self.shopee_connection, self.tiktok_connection

    def connector(self, connection_id: int) -> Connector:
        return marketplaces.connector_for(
            self.engine, connection_id, settings=self.settings, keyring=KEYRING, policy=self.policy, client=self.client
        )

    # -- the master catalog --

    def product(self, sku: str, *, title: str = "Linen shirt", price: str = "59.90", stock: int = 10,
                variants: int = 1, category: str = "Fashion", **fields: Any) -> MasterProduct:  # fmt: skip
        rows = [{"sku": sku if variants == 1 else f"{sku}-{i}", "name": f"V{i}", "price": price, "stock": stock}
                for i in range(1, variants + 1)]  # fmt: skip
        data = {"title": title, "category": category, "base_price": price, "weight_kg": "0.3",
                "images": [self.image_url()], "description": "<p>Soft linen</p>",
                "variants": rows, **fields}  # fmt: skip
        with transaction(self.engine) as session:
            product = catalog.create_product(EDITOR, session, data)
            session.expunge(product)
            return product

    # -- what the shops show --

    def remote_item(self, connection_id: int, variant_id: int) -> tuple[str, str]:
        """(remote item id, remote SKU id) a variant is bound to in a shop."""
        with transaction(self.engine) as session:
            row = session.execute(
                sa.select(PlatformListing.remote_item_id, PlatformListingSku.remote_sku_id)
                .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
                .where(PlatformListingSku.connection_id == connection_id, PlatformListingSku.variant_id == variant_id)
            ).one()
        return str(row[0]), str(row[1])

    def shown(self, connection_id: int, variant_id: int) -> Mapping[str, Any]:
        """Title, price and stock the marketplace itself holds for a variant (read from the simulator)."""
        item_id, sku_id = self.remote_item(connection_id, variant_id)
        if connection_id == self.shopee_connection:
            item = self.shopee.state.items[int(item_id)]
            return {"title": item.name, "price": self.shopee.price_of(int(item_id), int(sku_id)),
                    "stock": self.shopee.stock_of(int(item_id), int(sku_id))}  # fmt: skip
        product = self.tiktok.product(item_id)
        sku = product.sku(sku_id)
        assert sku is not None
        return {"title": product.title, "price": Decimal(sku.price), "stock": sku.available}

    def pending_pushes(self) -> dict[int, list[PlannedChange]]:
        """Per shop, the changes a dry run still plans (empty: every listing is in sync)."""
        return {plan.connection_id: list(plan.changes) for plan in sync.dry_run(self.engine)}

    def listings_created(self) -> dict[str, int]:
        """How many listings each simulator holds (a duplicate create shows here)."""
        return {"shopee": len(self.shopee.state.items), "tiktokshop": len(self.tiktok.state.products)}
