# The TikTok Shop simulator's authorization: the seller's authorization page and the token endpoints.
"""`AuthRoutesMixin` serves the authorization page, token get/refresh and the authorized shops, and the token
shortcut tests use."""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from connectors.tiktokshop.simulator.codes import (
    AUTH_CODE_TTL_S,
    AUTHORIZE_PATH,
    E_AUTH_CODE,
    E_ENVELOPE,
    E_NO_AUTH_RECORD,
    E_REFRESH_EXPIRED,
)
from connectors.tiktokshop.simulator.core import SimulatorCore
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    SimError,
)
from connectors.tiktokshop.simulator.state import (
    SimAuthCode,
    SimToken,
)


class AuthRoutesMixin(SimulatorCore):
    """Authorization and tokens of `TikTokShopSimulator`."""

    def issue_tokens(
        self, shop_id: str, *, access_ttl_s: int | None = None, refresh_ttl_s: int | None = None
    ) -> tuple[str, str]:
        """Test shortcut for the authorization flow: (access_token, refresh_token) of the shop's seller."""
        with self._lock:
            data = self._issue_tokens(shop_id, access_ttl_s=access_ttl_s, refresh_ttl_s=refresh_ttl_s)
            return data["access_token"], data["refresh_token"]

    def _issue_tokens(
        self, shop_id: str, *, access_ttl_s: int | None = None, refresh_ttl_s: int | None = None
    ) -> dict[str, Any]:
        now = self.now()
        shop = self.state.shops[shop_id]
        access, refresh = "TTP_at_" + secrets.token_urlsafe(24), "TTP_rt_" + secrets.token_urlsafe(24)
        access_expiry = now + (self.token_ttl_s if access_ttl_s is None else access_ttl_s)
        refresh_expiry = now + (self.refresh_ttl_s if refresh_ttl_s is None else refresh_ttl_s)
        self.state.access_tokens[access] = SimToken(shop.seller_id, access_expiry)
        self.state.refresh_tokens[refresh] = SimToken(shop.seller_id, refresh_expiry)
        return {
            "access_token": access,
            "access_token_expire_in": access_expiry,
            "refresh_token": refresh,
            "refresh_token_expire_in": refresh_expiry,
            "open_id": f"open-{shop.seller_id}",
            "seller_name": shop.name,
            "seller_base_region": shop.region,
            "user_type": 0,
            "granted_scopes": ["seller.product.basic", "seller.order.info", "seller.authorization.info"],
        }

    def _grant_code(self, shop_id: str) -> str:
        with self._lock:
            code = "TTP_code_" + secrets.token_urlsafe(18)
            self.state.auth_codes[code] = SimAuthCode(shop_id, self.now() + AUTH_CODE_TTL_S)
            return code

    def _redirect(self, code: str, state: str) -> Response:
        if self.redirect_url is None:
            return HTMLResponse(f"<p>Authorized. Code: <code>{html.escape(code)}</code></p>")
        joiner = "&" if "?" in self.redirect_url else "?"
        return RedirectResponse(f"{self.redirect_url}{joiner}{urlencode({'code': code, 'state': state})}", 302)

    async def _authorize_page(self, request: Request) -> Response:
        service_id, state = request.query_params.get("service_id"), request.query_params.get("state", "")
        if service_id != self.state.service_id:
            return HTMLResponse("<p>Unknown service_id.</p>", status_code=400)
        with self._lock:
            shops = list(self.state.shops.values())
        if not shops:
            return HTMLResponse("<p>No shop to authorize.</p>", status_code=400)
        if self.auto_approve:
            shop_id = self.authorize_shop_id or shops[0].id
            return self._redirect(self._grant_code(shop_id), state)
        links = "".join(
            f'<li><a href="{AUTHORIZE_PATH}/approve?'
            f'{html.escape(urlencode({"service_id": service_id, "state": state, "shop_id": shop.id}))}">'
            f"Authorize {html.escape(shop.name)}</a></li>"
            for shop in shops
        )
        return HTMLResponse(f"<h1>TikTok Shop (simulator)</h1><p>Authorize the app for:</p><ul>{links}</ul>")

    async def _authorize_approve(self, request: Request) -> Response:
        params = request.query_params
        if params.get("service_id") != self.state.service_id or params.get("shop_id") not in self.state.shops:
            return HTMLResponse("<p>Unknown service or shop.</p>", status_code=400)
        return self._redirect(self._grant_code(params["shop_id"]), params.get("state", ""))

    def _check_app(self, query: Mapping[str, str]) -> None:
        key_ok = query.get("app_key") == self.state.app_key
        secret_ok = hmac.compare_digest(query.get("app_secret", "").encode(), self.state.app_secret.encode())
        if not (key_ok and secret_ok):
            raise SimError(E_ENVELOPE, "Invalid credentials. Invalid `app_key` or `app_secret` query parameter.")

    def _token_get(self, query: dict[str, str]) -> Mapping[str, Any]:
        self._check_app(query)
        if query.get("grant_type") != "authorized_code":
            raise SimError(E_ENVELOPE, "Parameter 'grant_type' is invalid. Expected: authorized_code.")
        grant = self.state.auth_codes.pop(query.get("auth_code", ""), None)
        if grant is None or self.clock.now() >= grant.expires_at:
            raise SimError(E_AUTH_CODE, "Invalid auth code.")
        shop = self.state.shops[grant.shop_id]
        for other in self.state.shops.values():
            if other.seller_id == shop.seller_id:
                other.authorized = True
        return self._issue_tokens(grant.shop_id)

    def _token_refresh(self, query: dict[str, str]) -> Mapping[str, Any]:
        self._check_app(query)
        if query.get("grant_type") != "refresh_token":
            raise SimError(E_ENVELOPE, "Parameter 'grant_type' is invalid. Expected: refresh_token.")
        token = self.state.refresh_tokens.get(query.get("refresh_token", ""))
        shops = [s for s in self.state.shops.values() if token is not None and s.seller_id == token.seller_id]
        live = [s for s in shops if s.authorized]
        if token is None or not token.alive or not live:
            raise SimError(E_NO_AUTH_RECORD, "Can not find the related auth record (refresh token invalid).")
        if self.clock.now() >= token.expires_at:
            raise SimError(E_REFRESH_EXPIRED, "The refresh token has expired.")
        token.alive = False
        return self._issue_tokens(live[0].id)

    def _authorized_shops(self, ctx: Ctx) -> Mapping[str, Any]:
        shops = [s for s in self.state.shops.values() if s.seller_id == ctx.seller_id and s.authorized]
        return {
            "shops": [
                {
                    "id": s.id,
                    "name": s.name,
                    "region": s.region,
                    "seller_type": s.options.seller_type,
                    "cipher": s.cipher,
                    "code": f"SIM{s.id[-6:]}",
                }
                for s in sorted(shops, key=lambda s: s.id)
            ]
        }
