# Lazada's authorization as the core asks for it: the neutral PlatformApp over LazadaApp.
"""`LazadaOAuth`: one code covers the seller's account; `country_user_info` names its shop per country."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.base import CallbackRefused, GrantedShop, TokenGrant
from connectors.lazada.app import LazadaApp
from connectors.lazada.mapping import grant_from_token, granted_shops

if TYPE_CHECKING:
    import httpx


class LazadaOAuth:
    """`PlatformApp` over `LazadaApp`."""

    def __init__(self, settings: Any, client: httpx.Client | None = None) -> None:
        self._app = LazadaApp(
            settings.lazada_app_key,
            settings.lazada_app_secret.get_secret_value(),
            auth_host=settings.lazada_auth_host,
            authorize_host=settings.lazada_authorize_host,
            client=client,
        )

    def authorization_url(self, callback_url: str, state: str) -> str:
        # The redirect must equal the callback registered on the app; the seller picks the country there.
        return self._app.authorization_url(callback_url, state)

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        envelope = self._app.create_token(code)
        shops = granted_shops(envelope)
        if not shops:
            raise CallbackRefused("no_shops", "Lazada granted access to no seller (no country_user_info)")
        return grant_from_token(envelope, self._app.now()), shops

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        # One token pair per seller account: the shop is not named (a refresh answer may lack the countries).
        return grant_from_token(self._app.refresh_token(refresh_token), self._app.now())

    def close(self) -> None:
        self._app.close()
