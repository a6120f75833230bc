# TikTok Shop's app-level calls: the authorization link, tokens, authorized shops, webhook subscriptions.
"""`TikTokShopApp` is what SyncStore does as the app rather than as one shop."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode

import httpx

from connectors.base import (
    TokenGrant,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries
from connectors.tiktokshop.mapping import grant_from_token_data
from connectors.tiktokshop.signing import encode_body
from connectors.tiktokshop.transport import (
    API_HOST,
    AUTH_HOST,
    AUTHORIZE_HOST,
    PATH_AUTHORIZE,
    PATH_AUTHORIZED_SHOPS,
    PATH_TOKEN_GET,
    PATH_TOKEN_REFRESH,
    PATH_WEBHOOKS,
    Transport,
)

# =================================================================================================
# The app: authorization, tokens, shops, webhooks
# =================================================================================================


class AuthorizedShop(NamedTuple):
    shop_id: str
    shop_cipher: str
    name: str
    region: str
    # CROSS_BORDER or LOCAL (Authorization202309GetAuthorizedShopsResponseDataShops.seller_type).
    seller_type: str = ""


def authorized_shops_from_wire(data: Mapping[str, Any]) -> list[AuthorizedShop]:
    """GET /authorization/202309/shops `data` -> the shops with their ciphers."""
    return [
        AuthorizedShop(
            str(shop["id"]),
            str(shop["cipher"]),
            str(shop.get("name") or ""),
            str(shop.get("region") or ""),
            str(shop.get("seller_type") or ""),
        )
        for shop in data.get("shops") or []
    ]


class TikTokShopApp:
    """App-level calls: the authorization link, code exchange, refresh, authorized shops, webhooks."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        service_id: str,
        api_host: str = API_HOST,
        auth_host: str = AUTH_HOST,
        authorize_host: str = AUTHORIZE_HOST,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_key, self._app_secret, self.service_id = app_key, app_secret, service_id
        self._api_host, self._auth_host = api_host.rstrip("/"), auth_host.rstrip("/")
        self._authorize_host = authorize_host.rstrip("/")
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._policy = policy
        self._transport = Transport(
            app_key=app_key, app_secret=app_secret, client=self._client, timeout_s=timeout_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"TikTokShopApp(app_key={self.app_key!r}, service_id={self.service_id!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def authorization_url(self, state: str) -> str:
        query = urlencode({"service_id": self.service_id, "state": state})
        return f"{self._authorize_host}{PATH_AUTHORIZE}?{query}"

    def exchange_code(self, auth_code: str) -> TokenGrant:
        """GET /api/v2/token/get (unsigned; app_secret travels in the query, as TikTok requires)."""
        query = {"auth_code": auth_code, "grant_type": "authorized_code"}
        return grant_from_token_data(self._token_call(PATH_TOKEN_GET, query, secret=auth_code))

    def refresh(self, refresh_token: str) -> TokenGrant:
        """GET /api/v2/token/refresh: a NEW access AND refresh token; store both (the old refresh token dies)."""
        query = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        return grant_from_token_data(self._token_call(PATH_TOKEN_REFRESH, query, secret=refresh_token))

    def authorized_shops(self, access_token: str) -> list[AuthorizedShop]:
        """GET /authorization/202309/shops (signed, no shop_cipher): the shops and their ciphers."""
        data = self._signed("GET", PATH_AUTHORIZED_SHOPS, access_token=access_token, shop_cipher=None)
        return authorized_shops_from_wire(data)

    def register_webhook(self, access_token: str, shop_cipher: str, url: str, event_type: str) -> None:
        """PUT /event/202309/webhooks with body {"address": url, "event_type": event_type}."""
        body = encode_body({"address": url, "event_type": event_type})
        self._signed("PUT", PATH_WEBHOOKS, access_token=access_token, shop_cipher=shop_cipher, body=body)

    def _signed(
        self, method: str, path: str, *, access_token: str, shop_cipher: str | None, body: bytes | None = None
    ) -> dict[str, Any]:
        def operation() -> dict[str, Any]:
            return self._transport.signed(
                method, self._api_host, path, access_token=access_token, shop_cipher=shop_cipher, body=body
            )

        return call_with_retries(operation, policy=self._policy)

    def _token_call(self, path: str, query: Mapping[str, str], *, secret: str) -> dict[str, Any]:
        params = {"app_key": self.app_key, "app_secret": self._app_secret, **query}

        def operation() -> dict[str, Any]:
            return self._transport.send("GET", self._auth_host + path, params, None, {}, secrets=(secret,))

        return call_with_retries(operation, policy=self._policy)
