# The one place SyncStore picks a platform module: connectors for connected shops, and their token refresh.
"""Connectors for connected shops.

`connector_for` builds the platform's connector for one `platform_connections` row: decrypted
tokens, the shop's rate-limit gate, and a refresh callback. `refresh_access_token` is that
callback: single flight across every worker and process, because refresh tokens are single use.
It locks the connection row; if another worker refreshed while this one waited, it returns that
worker's token instead of spending the (already used) refresh token again.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from connectors.base import AuthRevoked, Connector, Platform, ShopCredentials, TokenGrant
from connectors.retry import DEFAULT_POLICY, RetryPolicy
from connectors.shopee import ShopeeApp, ShopeeConnector
from connectors.tiktokshop import TikTokShopApp, TikTokShopConnector
from syncstore import connections
from syncstore.crypto import Keyring
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from syncstore.errors import NotFoundError, SyncStoreError
from syncstore.ratelimit import RateLimiter, ShopGate
from syncstore.settings import Settings, get_settings


class MarketplaceNotConfigured(SyncStoreError):
    """The app credentials of a platform are not set."""


@dataclass(frozen=True)
class ShopeeConfig:
    partner_id: int
    partner_key: str
    host: str


@dataclass(frozen=True)
class TikTokShopConfig:
    app_key: str
    app_secret: str
    service_id: str
    api_host: str
    auth_host: str
    authorize_host: str


def shopee_config(settings: Settings | None = None) -> ShopeeConfig:
    settings = settings or get_settings()
    if settings.shopee_partner_id is None or settings.shopee_partner_key is None:
        raise MarketplaceNotConfigured(
            "Shopee is not configured: set SYNCSTORE_SHOPEE_PARTNER_ID and SYNCSTORE_SHOPEE_PARTNER_KEY"
        )
    return ShopeeConfig(
        settings.shopee_partner_id, settings.shopee_partner_key.get_secret_value(), settings.shopee_host
    )


def tiktokshop_config(settings: Settings | None = None) -> TikTokShopConfig:
    settings = settings or get_settings()
    if not settings.tiktokshop_app_key or settings.tiktokshop_app_secret is None:
        raise MarketplaceNotConfigured(
            "TikTok Shop is not configured: set SYNCSTORE_TIKTOKSHOP_APP_KEY and SYNCSTORE_TIKTOKSHOP_APP_SECRET"
        )
    return TikTokShopConfig(
        app_key=settings.tiktokshop_app_key,
        app_secret=settings.tiktokshop_app_secret.get_secret_value(),
        service_id=settings.tiktokshop_service_id,
        api_host=settings.tiktokshop_api_host,
        auth_host=settings.tiktokshop_auth_host,
        authorize_host=settings.tiktokshop_authorize_host,
    )


def shopee_app(settings: Settings | None = None, *, client: httpx.Client | None = None) -> ShopeeApp:
    config = shopee_config(settings)
    return ShopeeApp(config.partner_id, config.partner_key, config.host, client=client)


def tiktokshop_app(settings: Settings | None = None, *, client: httpx.Client | None = None) -> TikTokShopApp:
    config = tiktokshop_config(settings)
    return TikTokShopApp(
        config.app_key,
        config.app_secret,
        service_id=config.service_id,
        api_host=config.api_host,
        auth_host=config.auth_host,
        authorize_host=config.authorize_host,
        client=client,
    )


def _refresh_grant(platform: str, shop_id: str, refresh_token: str, settings: Settings) -> TokenGrant:
    if platform == "shopee":
        shopee = shopee_app(settings)
        try:
            return shopee.refresh(refresh_token, shop_id)
        finally:
            shopee.close()
    tiktok = tiktokshop_app(settings)
    try:
        return tiktok.refresh(refresh_token)
    finally:
        tiktok.close()


def refresh_access_token(
    engine: sa.Engine,
    connection_id: int,
    *,
    stale_access_token: str | None,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
) -> str:
    """A fresh access token for the shop, refreshing at most once however many workers ask at once.

    `stale_access_token` is the token the caller saw expire. When the stored token differs,
    another worker already refreshed: that token is returned and no refresh is spent.
    A refused refresh marks the connection `expired` (the merchant must connect the shop again).
    """
    settings = settings or get_settings()
    revoked: AuthRevoked | None = None
    with transaction(engine) as session:
        # The row lock (BEGIN IMMEDIATE on SQLite) makes concurrent refreshes queue here.
        connection = session.get(PlatformConnection, connection_id, with_for_update=True)
        if connection is None:
            raise NotFoundError(f"connection {connection_id} not found")
        tokens = connections.read_tokens(session, connection_id, keyring)
        if stale_access_token is not None and tokens.access_token != stale_access_token:
            return tokens.access_token
        try:
            grant = _refresh_grant(connection.platform, connection.shop_id, tokens.refresh_token, settings)
        except AuthRevoked as error:
            connection.status = "expired"
            connection.last_error = f"token refresh refused: {error}"
            revoked = error
        else:
            connections.store_refreshed_tokens(
                session,
                connection,
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                access_token_expires_at=grant.access_token_expires_at,
                refresh_token_expires_at=grant.refresh_token_expires_at,
                keyring=keyring,
            )
            return grant.access_token
    # Raised after the commit, so the `expired` status is kept.
    assert revoked is not None
    raise revoked


def connector_for(
    engine: sa.Engine,
    connection_id: int,
    *,
    limiter: RateLimiter | None = None,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
    client: httpx.Client | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> Connector:
    """The connector of one connected shop, rate limited by `limiter` when given."""
    settings = settings or get_settings()
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id)
        if connection is None:
            raise NotFoundError(f"connection {connection_id} not found")
        platform: Platform = "shopee" if connection.platform == "shopee" else "tiktokshop"
        tokens = connections.read_tokens(session, connection_id, keyring)
        credentials = ShopCredentials(
            shop_id=connection.shop_id, access_token=tokens.access_token, shop_cipher=connection.shop_cipher
        )
    gate = ShopGate(limiter, platform, connection.shop_id) if limiter is not None else None
    current = {"token": tokens.access_token}

    def refresh() -> str:
        current["token"] = refresh_access_token(
            engine, connection_id, stale_access_token=current["token"], settings=settings, keyring=keyring
        )
        return current["token"]

    if platform == "shopee":
        shopee = shopee_config(settings)
        return ShopeeConnector(
            partner_id=shopee.partner_id,
            partner_key=shopee.partner_key,
            host=shopee.host,
            credentials=credentials,
            gate=gate,
            refresh=refresh,
            client=client,
            policy=policy,
        )
    tiktok = tiktokshop_config(settings)
    return TikTokShopConnector(
        app_key=tiktok.app_key,
        app_secret=tiktok.app_secret,
        api_host=tiktok.api_host,
        credentials=credentials,
        gate=gate,
        refresh=refresh,
        client=client,
        policy=policy,
    )
