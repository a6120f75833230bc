# TikTok Shop's authorization as the core asks for it: the neutral PlatformApp over TikTokShopApp.
"""`TikTokShopOAuth`: one code covers every shop of the seller, listed after the exchange."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.base import CallbackRefused, ConnectorError, GrantedShop, TokenGrant
from connectors.tiktokshop.app import TikTokShopApp

if TYPE_CHECKING:
    import httpx


class TikTokShopOAuth:
    """`PlatformApp` over `TikTokShopApp`: the code is exchanged, then the seller's shops are listed."""

    def __init__(self, settings: Any, client: httpx.Client | None = None) -> None:
        self._app = TikTokShopApp(
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
