# Shopee's partner-level calls: the authorization link, tokens, push configuration and lost pushes.
"""`ShopeeApp` is what SyncStore does as the partner app rather than as one shop."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from connectors.base import (
    ConnectorError,
    MarketplaceEvent,
    ShopProfile,
    Subscription,
    TokenGrant,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries
from connectors.shopee.codes import PLATFORM, PUSH_CODES
from connectors.shopee.limits import REFRESH_TOKEN_LIFETIME
from connectors.shopee.transport import (
    PATH_AUTH_PARTNER,
    PATH_CONFIRM_LOST_PUSH,
    PATH_LOST_PUSH,
    PATH_PUSH_CONFIG,
    PATH_SHOP_INFO,
    PATH_TOKEN_GET,
    PATH_TOKEN_REFRESH,
    Wire,
)
from connectors.shopee.values import Json, as_dict, expiry_at, objects, wire_int_id
from connectors.shopee.webhooks import lost_push_event

# --- the app (partner-level calls) ----------------------------------------------------------


class ShopeeApp:
    """Partner-level calls: the authorization link, token exchange and refresh, push configuration."""

    def __init__(
        self,
        partner_id: int,
        partner_key: str,
        host: str,
        *,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._wire = Wire(partner_id, partner_key, host, client, timeout_s, clock)
        self._policy, self._clock = policy, clock

    def __repr__(self) -> str:
        return f"ShopeeApp(partner_id={self._wire.partner_id}, host={self._wire.host!r})"

    def close(self) -> None:
        self._wire.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Json:
        return call_with_retries(lambda: self._wire.send(method, path, **kwargs), policy=self._policy)

    def authorization_url(self, redirect_url: str) -> str:
        """The link a seller opens to authorize this app (valid 5 minutes); it redirects back with code and shop_id."""
        query = {**self._wire.signed_query(PATH_AUTH_PARTNER), "redirect": redirect_url}
        return f"{self._wire.host}{PATH_AUTH_PARTNER}?{urlencode(query)}"

    def exchange_code(self, code: str, shop_id: str | int) -> TokenGrant:
        """POST /api/v2/auth/token/get: the authorization code (single use, 10 minutes) for a token pair."""
        body = {"code": code, "partner_id": self._wire.partner_id, "shop_id": wire_int_id(str(shop_id), "shop_id")}
        payload = self._call("POST", PATH_TOKEN_GET, body=body, token_call=True)
        return self._grant(payload, str(shop_id))

    def refresh(self, refresh_token: str, shop_id: str | int) -> TokenGrant:
        """POST /api/v2/auth/access_token/get: a NEW access token AND a NEW refresh token; store both.

        The old refresh token stops working (single use). A refresh whose answer is lost in a timeout
        is retried; if the first one had landed, the retry is refused and AuthRevoked is raised.
        """
        body = {"refresh_token": refresh_token, "partner_id": self._wire.partner_id}
        body["shop_id"] = wire_int_id(str(shop_id), "shop_id")
        payload = self._call("POST", PATH_TOKEN_REFRESH, body=body, token_call=True)
        return self._grant(payload, str(shop_id))

    def _grant(self, payload: Json, shop_id: str) -> TokenGrant:
        access, refresh = payload.get("access_token"), payload.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise ConnectorError("token answer without access_token/refresh_token", platform=PLATFORM)
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        return TokenGrant(
            access_token=access,
            refresh_token=refresh,
            access_token_expires_at=expiry_at(payload.get("expire_in"), now),
            refresh_token_expires_at=now + REFRESH_TOKEN_LIFETIME,
            shop_id=shop_id,
        )

    def register_webhook(self, callback_url: str, codes: Sequence[int] = PUSH_CODES) -> list[Subscription]:
        """POST /api/v2/push/set_app_push_config (public sign), one call per push code.

        One callback URL serves the whole app. Each code is switched on by its own call, so a code
        Shopee refuses (22 is unconfirmed) is reported as `Subscription(ok=False, message=...)` and the
        others go on.
        """
        subscriptions: list[Subscription] = []
        for code in codes:
            body = {"callback_url": callback_url, "set_push_config_on": [code]}
            try:
                self._call("POST", PATH_PUSH_CONFIG, body=body)
            except ConnectorError as error:
                subscriptions.append(Subscription(topic=str(code), ok=False, message=str(error)))
            else:
                subscriptions.append(Subscription(topic=str(code), ok=True))
        return subscriptions

    def get_shop_profile(self, access_token: str, shop_id: str | int) -> ShopProfile:
        """GET /api/v2/shop/get_shop_info with a fresh grant: what the OAuth flow needs to accept a shop
        (the region decides price decimals; a cross-border CNSC/KRSC shop is refused by the core)."""
        shop = wire_int_id(str(shop_id), "shop_id")
        payload = self._call("GET", PATH_SHOP_INFO, access_token=access_token, shop_id=shop)
        return shop_profile(str(shop_id), payload)

    def get_lost_pushes(self) -> tuple[list[MarketplaceEvent], int | None, bool]:
        """GET /api/v2/push/get_lost_push_message: up to 100 undelivered pushes of the last 3 days.

        Returns (events, last_message_id, has_next_page). Lost pushes are per app, for every shop.
        """
        response = as_dict(self._call("GET", PATH_LOST_PUSH).get("response"))
        events = [event for entry in objects(response.get("push_message_list")) if (event := lost_push_event(entry))]
        last = response.get("last_message_id")
        last_id = int(last) if isinstance(last, int) and not isinstance(last, bool) else None
        return events, last_id, bool(response.get("has_next_page"))

    def confirm_lost_pushes(self, last_message_id: int) -> None:
        """POST /api/v2/push/confirm_consumed_lost_push_message: forget pushes up to this id."""
        self._call("POST", PATH_CONFIRM_LOST_PUSH, body={"last_message_id": last_message_id})

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """Every lost push, 100 at a time, each page confirmed before the next one is asked for.

        Confirming here means a crash between this call and storing the events loses them; callers
        that need at-least-once use get_lost_pushes + confirm_lost_pushes around their own commit.
        """
        events: list[MarketplaceEvent] = []
        while True:
            page, last_id, has_next = self.get_lost_pushes()
            events.extend(page)
            if last_id is None or not page:
                return events
            self.confirm_lost_pushes(last_id)
            if not has_next:
                return events


def shop_profile(shop_id: str, payload: Json) -> ShopProfile:
    """get_shop_info answers at the top level (no `response` object)."""
    info = as_dict(payload.get("response")) or payload
    cross_border = any(info.get(flag) is True for flag in ("is_cb", "is_cnsc", "is_upgraded_cbsc", "is_direct_shop"))
    return ShopProfile(
        shop_id=shop_id,
        name=str(info.get("shop_name") or ""),
        region=str(info.get("region") or "").upper(),
        cross_border=cross_border,
    )
