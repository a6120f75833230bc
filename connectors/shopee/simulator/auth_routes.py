# The Shopee simulator's authorization: the seller's authorization page and the token endpoints.
"""`AuthRoutesMixin` serves auth_partner, token/get and access_token/get, and the token shortcuts tests use."""

from __future__ import annotations

import html
import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from connectors.shopee.simulator.codes import Json
from connectors.shopee.simulator.gateway import GatewayMixin
from connectors.shopee.simulator.push_routes import PushRoutesMixin
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    digits,
    int_param,
    text_param,
    with_query,
)
from connectors.shopee.simulator.state import SimGrant, SimShop


class AuthRoutesMixin(GatewayMixin, PushRoutesMixin):
    """Authorization and tokens of `ShopeeSimulator`."""

    async def _auth_partner(self, request: Request) -> Response:
        """The seller's authorization page; `auto=1` (or auto_approve) approves at once with a 302."""
        query = request.query_params
        with self._lock:
            self.requests[request.url.path] += 1
            try:
                self._verify("public", request.url.path, query, self._now())
            except ApiError as error:
                text = "This authorization link has expired." if "expired" in error.message else error.message
                return HTMLResponse(f"<h1>Authorization failed</h1><p>{html.escape(text)}</p>", status_code=400)
            redirect = query.get("redirect", "")
            if not redirect.startswith(("http://", "https://")):
                return HTMLResponse("<h1>Authorization failed</h1><p>redirect is required.</p>", status_code=400)
            shops = sorted(self.state.shops)
            chosen = int(query["shop_id"]) if digits(query.get("shop_id", "")) else (shops[0] if shops else None)
            if chosen is None or chosen not in self.state.shops:
                return HTMLResponse("<h1>Authorization failed</h1><p>No such shop.</p>", status_code=400)
            if query.get("auto") != "1" and not self.auto_approve:
                links = "".join(
                    f'<li><a href="{html.escape(with_query(str(request.url), {"auto": "1", "shop_id": str(s)}))}">'
                    f"Authorize {html.escape(self.state.shops[s].name)} ({s})</a></li>"
                    for s in shops
                )
                return HTMLResponse(
                    f"<h1>Shopee (simulator): authorize partner {self.state.partner_id}</h1><ul>{links}</ul>"
                )
            self._authorize(self.state.shops[chosen])
            code = self._grant(self.state.codes, chosen, self.code_ttl_s)
        self._push(1, chosen, {"shop_id": chosen, "success": 1})
        return RedirectResponse(with_query(redirect, {"code": code, "shop_id": str(chosen)}), status_code=302)

    def _authorize(self, shop: SimShop) -> None:
        shop.authorized, shop.revoked = True, False
        shop.auth_time = int(self._now())

    def _grant(self, table: dict[str, SimGrant], shop_id: int, ttl_s: float) -> str:
        value = secrets.token_hex(16)
        table[value] = SimGrant(value=value, shop_id=shop_id, expires_at=self._now() + ttl_s)
        return value

    def _token_pair(self, shop_id: int) -> Json:
        return {
            "access_token": self._grant(self.state.access_tokens, shop_id, self.token_ttl_s),
            "refresh_token": self._grant(self.state.refresh_tokens, shop_id, self.refresh_ttl_s),
            "expire_in": int(self.token_ttl_s),
            "partner_id": self.state.partner_id,
            "shop_id": shop_id,
        }

    def _token_get(self, ctx: Ctx) -> Json:
        if int_param(ctx.body.get("partner_id"), "partner_id") != self.state.partner_id:
            raise ApiError("error_param", "partner_id does not match.")
        shop_id = int_param(ctx.body.get("shop_id"), "shop_id")
        code = self.state.codes.get(text_param(ctx.body.get("code"), "code"))
        if code is None or code.used or code.expires_at <= ctx.now or code.shop_id != shop_id:
            raise ApiError("error_auth", "Invalid code: it is unknown, used or expired.", 403)
        code.used = True
        return self._token_pair(shop_id)

    def _token_refresh(self, ctx: Ctx) -> Json:
        if int_param(ctx.body.get("partner_id"), "partner_id") != self.state.partner_id:
            raise ApiError("error_param", "partner_id does not match.")
        shop_id = int_param(ctx.body.get("shop_id"), "shop_id")
        grant = self.state.refresh_tokens.get(text_param(ctx.body.get("refresh_token"), "refresh_token"))
        if grant is None or grant.used or grant.expires_at <= ctx.now or grant.shop_id != shop_id:
            raise ApiError("error_auth", "Invalid refresh_token: it is unknown, used or expired.", 403)
        shop = self.state.shops.get(shop_id)
        if shop is None or shop.revoked or not shop.authorized:
            raise ApiError("error_auth", "The shop has deauthorized this partner: authorization revoked.", 403)
        grant.used = True
        for token in self.state.access_tokens.values():  # the old access token lives a little longer
            if token.shop_id == shop_id:
                token.expires_at = min(token.expires_at, ctx.now + self.refresh_grace_s)
        return self._token_pair(shop_id)

    def issue_tokens(self, shop_id: int) -> tuple[str, str]:
        """Test shortcut for the authorization flow: the shop authorizes, returns (access, refresh)."""
        with self._lock:
            self._authorize(self.state.shops[shop_id])
            pair = self._token_pair(shop_id)
            return pair["access_token"], pair["refresh_token"]

    def expire_access_tokens(self, shop_id: int) -> None:
        with self._lock:
            for token in self.state.access_tokens.values():
                if token.shop_id == shop_id:
                    token.expires_at = min(token.expires_at, self._now() - 1)
