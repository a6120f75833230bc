# The Lazada simulator's authorization: the authorize page (auto-approved), token create and refresh with rotation.
"""Codes are single use and live 30 minutes; access tokens 30 days, refresh tokens 180 days from the ORIGINAL
authorization (a refresh rotates both tokens and never moves that end). Answers are top level, not in `data`;
create names the countries `country_user_info`, refresh `country_user_info_list` (as the two doc pages do)."""

from __future__ import annotations

import secrets
from html import escape
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from connectors.lazada.simulator.codes import (
    ACCESS_TTL_S,
    AUTHORIZE_PATH,
    CODE_TTL_S,
    E_CODE,
    E_REFRESH_TOKEN,
    REFRESH_TTL_S,
)
from connectors.lazada.simulator.orders import OrdersMixin
from connectors.lazada.simulator.requests import Ctx, SimError, ok, required
from connectors.lazada.simulator.state import SimCode, SimRefresh, SimToken


class AuthRoutesMixin(OrdersMixin):
    """`/oauth/authorize`, `/rest/auth/token/create`, `/rest/auth/token/refresh`."""

    redirect_url: str | None
    auto_approve: bool
    authorize_account: str | None

    async def authorize_page(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != self.state.app_key or query.get("response_type") != "code":
            return HTMLResponse("<h1>Invalid client_id or response_type</h1>", status_code=400)
        redirect = query.get("redirect_uri") or ""
        if not redirect or (self.redirect_url and redirect != self.redirect_url):
            return HTMLResponse("<h1>redirect_uri does not match the app's callback</h1>", status_code=400)
        if not self.auto_approve:
            return self._login_page(redirect, query.get("state") or "")
        with self._lock:
            accounts = self.state.accounts()
            account = self.authorize_account or next(iter(accounts), None)
            if account is None:
                return HTMLResponse("<h1>No seller to log in</h1>", status_code=400)
        return self._redirect_with_code(account, redirect, query.get("state") or "")

    def _login_page(self, redirect: str, state: str) -> Response:
        """The seller picks a country shop and logs in: one link per seller (`?shop_id=`)."""
        with self._lock:
            sellers = list(self.state.sellers.values())

        def link(seller_id: str) -> str:
            query = urlencode({"shop_id": seller_id, "redirect_uri": redirect, "state": state})
            return escape(f"{AUTHORIZE_PATH}/approve?{query}")

        links = "".join(
            f'<li><a href="{link(seller.seller_id)}">{escape(seller.name)} ({seller.country.upper()})</a></li>'
            for seller in sellers
        )
        return HTMLResponse(f"<h1>Lazada Seller Center: authorize the app</h1><ul>{links}</ul>")

    async def authorize_approve(self, request: Request) -> Response:
        """The seller's click on the login page: a code for that seller's account."""
        query = request.query_params
        redirect = query.get("redirect_uri") or ""
        seller = self.state.sellers.get(query.get("shop_id") or "")
        if seller is None or not redirect or (self.redirect_url and redirect != self.redirect_url):
            return HTMLResponse("<h1>Unknown seller or redirect_uri</h1>", status_code=400)
        return self._redirect_with_code(seller.account or seller.seller_id, redirect, query.get("state") or "")

    def _redirect_with_code(self, account: str, redirect: str, state: str) -> Response:
        code = self.issue_code(account)
        back = {"code": code}
        if state:
            back["state"] = state
        separator = "&" if "?" in redirect else "?"
        return RedirectResponse(f"{redirect}{separator}{urlencode(back)}", status_code=302)

    def issue_code(self, account: str) -> str:
        """A code for `account`, as the authorize page would redirect with (tests)."""
        with self._lock:
            code = f"0_{self.state.app_key}_{secrets.token_urlsafe(18)}"
            self.state.codes[code] = SimCode(account=account, expires_at=self.clock.now() + CODE_TTL_S)
            return code

    def _grant(self, account: str, refresh_expires_at: float, countries_key: str) -> dict[str, Any]:
        now = self.clock.now()
        access, refresh = "50000" + secrets.token_hex(20), "50001" + secrets.token_hex(20)
        self.state.access_tokens[access] = SimToken(account=account, expires_at=now + ACCESS_TTL_S)
        self.state.refresh_tokens[refresh] = SimRefresh(account=account, expires_at=refresh_expires_at)
        sellers = self.state.accounts().get(account, [])
        for seller in sellers:
            seller.authorized = True
        first = sellers[0] if sellers else None
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": str(ACCESS_TTL_S),  # the doc example has a string
            "refresh_expires_in": max(int(refresh_expires_at - now), 0),
            "country": "cb" if first is not None and first.cross_border else (first.country if first else ""),
            "account_platform": "seller_center",
            "account": account,
            "account_id": None,
            countries_key: [
                {"country": s.country, "seller_id": s.seller_id, "user_id": s.seller_id, "short_code": s.short_code}
                for s in sellers
            ],
        }

    def h_token_create(self, ctx: Ctx) -> Response:
        code = required(ctx.params, "code")
        grant = self.state.codes.get(code)
        if grant is None or grant.used or self.clock.now() >= grant.expires_at:
            raise SimError(E_CODE, "Invalid authorization code")
        grant.used = True
        body = self._grant(grant.account, self.clock.now() + REFRESH_TTL_S, "country_user_info")
        return ok(None, **body)

    def h_token_refresh(self, ctx: Ctx) -> Response:
        presented = required(ctx.params, "refresh_token")
        refresh = self.state.refresh_tokens.get(presented)
        if refresh is None or not refresh.alive or self.clock.now() >= refresh.expires_at:
            raise SimError(E_REFRESH_TOKEN, "The specified refresh token is invalid or expired")
        refresh.alive = False
        body = self._grant(refresh.account, refresh.expires_at, "country_user_info_list")
        return ok(None, **body)

    def revoke(self, seller_id: str) -> None:
        """The seller withdraws the app: its tokens die, its pushes stop."""
        with self._lock:
            seller = self.state.sellers[seller_id]
            seller.authorized = False
            account = seller.account or seller.seller_id
            for token in self.state.access_tokens.values():
                if token.account == account:
                    token.alive = False
            for refresh in self.state.refresh_tokens.values():
                if refresh.account == account:
                    refresh.alive = False

    def token_for(self, seller_id: str) -> tuple[str, str]:
        """A fresh (access, refresh) pair for the seller's account, without the browser (tests, the demo)."""
        with self._lock:
            seller = self.state.sellers[seller_id]
            body = self._grant(
                seller.account or seller.seller_id, self.clock.now() + REFRESH_TTL_S, "country_user_info"
            )
            return body["access_token"], body["refresh_token"]
