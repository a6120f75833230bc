# TikTok Shop as the core sees it: the PlatformSpec built from connectors.tiktokshop (settings, OAuth, webhooks).
"""TikTok Shop's `PlatformSpec`.

Everything the core, the receiver and the app need of TikTok Shop, without importing
`connectors.tiktokshop`: the connector factory (app key, secret and API host read from the app's
settings by attribute), the app-level OAuth calls behind the neutral `PlatformApp` (one code covers
every shop of the seller, listed after the exchange), webhook verification (HMAC over
`app_key + raw body` with the app secret) and parsing, and the webhook types that say an
authorization was withdrawn (6) or expires soon (7). One token pair per seller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from connectors import tiktokshop
from connectors.base import (
    CallbackRefused,
    Connector,
    ConnectorError,
    GrantedShop,
    MarketplaceEvent,
    PlatformSpec,
    RefreshCallback,
    RequestGate,
    ShopCredentials,
    TokenGrant,
)
from connectors.retry import DEFAULT_POLICY
from connectors.rules import PlatformRules

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from connectors.retry import RetryPolicy


def is_configured(settings: Any) -> bool:
    return bool(settings.tiktokshop_app_key) and settings.tiktokshop_app_secret is not None


def connector(
    settings: Any,
    credentials: ShopCredentials,
    *,
    gate: RequestGate | None = None,
    refresh: RefreshCallback | None = None,
    client: httpx.Client | None = None,
    policy: RetryPolicy | None = None,
    region: str = "",
) -> Connector:
    # The region is not needed: TikTok Shop states each product's currency itself.
    return tiktokshop.TikTokShopConnector(
        app_key=settings.tiktokshop_app_key,
        app_secret=settings.tiktokshop_app_secret.get_secret_value(),
        api_host=settings.tiktokshop_api_host,
        credentials=credentials,
        gate=gate,
        refresh=refresh,
        client=client,
        policy=policy or DEFAULT_POLICY,
    )


class TikTokShopOAuth:
    """`PlatformApp` over `TikTokShopApp`: the code is exchanged, then the seller's shops are listed."""

    def __init__(self, settings: Any, client: httpx.Client | None = None) -> None:
        self._app = tiktokshop.TikTokShopApp(
            settings.tiktokshop_app_key,
            settings.tiktokshop_app_secret.get_secret_value(),
            service_id=settings.tiktokshop_service_id,
            api_host=settings.tiktokshop_api_host,
            auth_host=settings.tiktokshop_auth_host,
            authorize_host=settings.tiktokshop_authorize_host,
            client=client,
        )

    def authorization_url(self, callback_url: str, state: str) -> str:
        # The callback URL is registered with the app in TikTok's console; only the state travels.
        return self._app.authorization_url(state)

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        grant = self._app.exchange_code(code)
        try:
            authorized = self._app.authorized_shops(grant.access_token)
        except ConnectorError as error:  # the code was good: this is no reason to blame it
            raise CallbackRefused("platform_error", f"listing the authorized TikTok shops failed: {error}") from None
        shops = [
            GrantedShop(
                shop_id=shop.shop_id,
                name=shop.name or grant.shop_name or "",
                region=shop.region or grant.region or "",
                shop_cipher=shop.shop_cipher,
            )
            for shop in authorized
        ]
        if not shops:
            raise CallbackRefused("no_shops", "TikTok Shop granted access to no shop")
        return grant, shops

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        return self._app.refresh(refresh_token)  # one pair per seller: the shop is not named

    def close(self) -> None:
        self._app.close()


def verify_webhook(keys: Mapping[str, str], raw_body: bytes, authorization: str | None) -> bool:
    return tiktokshop.verify_webhook(keys["app_key"], keys["app_secret"], raw_body, authorization)


def parse_webhook(text: str) -> MarketplaceEvent:
    return tiktokshop.parse_webhook(text)


def webhook_keys(settings: Any, callback_url: str) -> Mapping[str, str | None]:
    """TikTok Shop signs `app_key + body` with the app secret; the callback URL plays no part."""
    secret = settings.tiktokshop_app_secret
    return {"app_key": settings.tiktokshop_app_key, "app_secret": secret.get_secret_value() if secret else None}


def run_simulator(
    port: int, state_file: Path | None, *, orders_every_s: float | None = None, redirect_url: str | None = None
) -> None:
    """TikTok Shop's simulator; `redirect_url` is the app's registered OAuth redirect."""
    from connectors.simulator import tiktokshop as simulator  # the oracle, loaded only to serve it

    simulator.run(port, state_file, order_interval_s=orders_every_s, redirect_url=redirect_url)


def rate_limits(settings: Any) -> tuple[int, int]:
    return settings.ratelimit_tiktokshop_per_minute, settings.ratelimit_tiktokshop_per_day


# Reference "Products": titles up to 255 characters (at least 25 outside the US and the UK), 9 images,
# stock below 99,999; one product per price/stock call, 20 products per status call, one product per
# detail call; a listing needs a description; categories are opaque ids; one call creates a listing.
RULES: Final = PlatformRules(
    platform=tiktokshop.PLATFORM, label="TikTok Shop", title_max=255, description_max=10_000, images_min=1,
    images_max=9, stock_max=99_998, skus_per_listing=100, sku_batch=100, status_batch=20, list_page=100,
    detail_batch=1, numeric_category=False, description_required=True, title_min_length=25,
    short_title_regions=frozenset({"US", "GB", "UK"}),
)  # fmt: skip


SPEC: Final = PlatformSpec(
    name=tiktokshop.PLATFORM,
    label="TikTok Shop",
    required_settings=("SYNCSTORE_TIKTOKSHOP_APP_KEY", "SYNCSTORE_TIKTOKSHOP_APP_SECRET"),
    is_configured=is_configured,
    connector=connector,
    app=TikTokShopOAuth,
    token_per_seller=True,
    cross_border_refusal=None,
    webhook_key_names=("app_key", "app_secret"),
    webhook_settings="SYNCSTORE_TIKTOKSHOP_APP_KEY, _APP_SECRET",
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
    revoked_event_types=frozenset({"6"}),
    expiring_event_types=frozenset({"7"}),
    webhook_keys=webhook_keys,
    rules=RULES,
    rate_limits=rate_limits,
    day_start_utc_offset=timedelta(0),  # no reset time is known: the UTC day
    run_simulator=run_simulator,
)
