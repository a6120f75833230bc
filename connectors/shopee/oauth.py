# Shopee's authorization as the core asks for it: the neutral PlatformApp over ShopeeApp.
"""`ShopeeOAuth`: the callback carries the one authorized shop's `shop_id` (a main account is refused)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from connectors.base import CallbackRefused, GrantedShop, TokenGrant
from connectors.shopee.app import ShopeeApp

if TYPE_CHECKING:
    import httpx

_SHOP_ID: Final = re.compile(r"[0-9]{1,20}")
MAX_PARAM_LENGTH: Final = 2048


def _app(settings: Any, client: httpx.Client | None = None) -> ShopeeApp:
    return ShopeeApp(
        settings.shopee_partner_id, settings.shopee_partner_key.get_secret_value(), settings.shopee_host, client=client
    )


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    if len(value) > MAX_PARAM_LENGTH or not value.isprintable():
        raise CallbackRefused("invalid_request", f"the callback's {name} parameter is malformed")
    return value


class ShopeeOAuth:
    """`PlatformApp` over `ShopeeApp`: the callback carries the one authorized shop's `shop_id`."""

    def __init__(self, settings: Any, client: httpx.Client | None = None) -> None:
        self._app = _app(settings, client)

    def authorization_url(self, callback_url: str, state: str) -> str:
        # Shopee hands the redirect URL back as given: the state rides in it.
        return self._app.authorization_url(f"{callback_url}?{urlencode({'state': state})}")

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        shop_id = _param(params, "shop_id")
        if not shop_id and params.get("main_account_id"):
            raise CallbackRefused("main_account_unsupported", "authorize a shop, not a main (merchant) account")
        if not _SHOP_ID.fullmatch(shop_id):
            raise CallbackRefused("invalid_request", "the Shopee callback carries no valid shop_id")
        grant = self._app.exchange_code(code, shop_id)
        return grant, [GrantedShop(shop_id=shop_id, name=grant.shop_name or "", region=grant.region or "")]

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        return self._app.refresh(refresh_token, shop_id)

    def close(self) -> None:
        self._app.close()
