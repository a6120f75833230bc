# The OAuth routes: the start binds the Admin's browser, the callback stores the shop and sends the browser on.
"""`GET /oauth/<platform>/start` and `GET /oauth/<platform>/callback`, for each registered platform.

The Admin's link (`syncstore.shops.oauth.start_authorization`) opens `/oauth/<platform>/start?state=...`:
a valid state gets an HttpOnly, SameSite=Lax cookie (path `/oauth/<platform>/`, 10 minutes) binding
it to this browser, and a 302 to the platform's authorization page. The callback hands that cookie
to `complete_authorization`, which refuses a state whose browser did not start it
(`?error=state_not_this_browser`), and clears it. Cookies ignore ports, and both routes live on the
receiver (`SYNCSTORE_PUBLIC_URL`), so the cookie set by the start reaches the callback.

Mount with `Starlette(routes=[*routes, ...])` (`from webhook_receiver.oauth_routes import routes`).
The app may set `app.state.engine` (a SQLAlchemy engine) and `app.state.settings` (syncstore
Settings); without them the configured `get_engine()` and `get_settings()` are used.

Every answer is a 303 to the Streamlit Connections page, `{app_url}/connections`, with
`?connected=<platform>:<shop_id>[,<shop_id>...]` (plus `&warning=webhooks` when the shop was stored
but its webhooks could not be registered) or `?error=<reason>`, a short code from
`syncstore.shops.oauth.failure_reason` (`invalid_state`, `expired_state`, `state_reused`,
`state_not_this_browser`, `permission_denied`, `missing_code`, `code_rejected`, `platform_error`,
`not_configured`, ...). The start route answers a 302 to the platform, or the same 303 with `?error=`.
Never a 5xx, never a token, code or state in the redirect or the log.
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors import registry
from syncstore.db.engine import get_engine
from syncstore.settings import Settings, get_settings
from syncstore.shops.oauth import (
    STATE_TTL_S,
    OAuthError,
    begin_in_browser,
    browser_cookie_name,
    complete_authorization,
    failure_reason,
)

logger = logging.getLogger(__name__)

# Parameters that must appear at most once: a second copy could smuggle a different value past a check.
_SINGLE: Final = ("state", "code", "shop_id", "main_account_id")
_HEADERS: Final = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _engine(request: Request) -> sa.Engine:
    engine = getattr(request.app.state, "engine", None)
    return engine if isinstance(engine, sa.Engine) else get_engine()


def _back_to_app(settings: Settings, **query: str) -> Response:
    url = f"{settings.app_url.rstrip('/')}/connections?{urlencode(query, safe=':,')}"
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def _cookie_path(platform: str) -> str:
    return f"/oauth/{platform}/"


def _misconfigured(platform: str, error: Exception) -> Response:
    logger.error("%s authorization: settings unusable (%s)", platform, type(error).__name__)
    return PlainTextResponse("SyncStore is misconfigured; see the receiver's log.", 503, headers=_HEADERS)


async def _start(request: Request, platform: str) -> Response:
    try:
        settings = _settings(request)
    except Exception as error:  # the settings themselves are broken: there is no app URL to go back to
        return _misconfigured(platform, error)
    query = request.query_params
    try:
        if len(query.getlist("state")) > 1:
            raise OAuthError("invalid_request", "the start link's state appears more than once")
        url, binding = await run_in_threadpool(begin_in_browser, platform, query.get("state"), settings=settings)
    except Exception as error:
        reason = failure_reason(error)
        if reason == "internal_error":
            logger.exception("%s authorization start failed unexpectedly", platform)
        else:
            logger.warning("%s authorization start refused (%s): %s", platform, reason, error)
        return _back_to_app(settings, error=reason)
    response = RedirectResponse(url, status_code=302, headers=_HEADERS)
    response.set_cookie(
        browser_cookie_name(platform),
        binding,
        max_age=STATE_TTL_S,
        path=_cookie_path(platform),
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


async def _callback(request: Request, platform: str) -> Response:
    try:
        settings = _settings(request)
    except Exception as error:  # the settings themselves are broken: there is no app URL to go back to
        return _misconfigured(platform, error)
    query = request.query_params
    binding = request.cookies.get(browser_cookie_name(platform))
    try:
        if any(len(query.getlist(name)) > 1 for name in _SINGLE):
            raise OAuthError("invalid_request", "a callback parameter appears more than once")
        engine = _engine(request)
        stored = await run_in_threadpool(
            lambda: complete_authorization(engine, platform, dict(query), browser_binding=binding, settings=settings)
        )
    except Exception as error:
        reason = failure_reason(error)
        if reason == "internal_error":
            # Unexpected; complete_authorization scrubs tokens from what it raises after the exchange.
            logger.exception("%s authorization callback failed unexpectedly", platform)
        else:
            logger.warning("%s authorization refused (%s): %s", platform, reason, error)
        return _back_to_app(settings, error=reason)  # the cookie stays: the state may still be completed
    shop_ids = ",".join(connection.shop_id for connection in stored)
    answer = {"connected": f"{platform}:{shop_ids}"}
    if any(connection.last_error for connection in stored):
        answer["warning"] = "webhooks"
    response = _back_to_app(settings, **answer)
    response.delete_cookie(browser_cookie_name(platform), path=_cookie_path(platform), httponly=True, samesite="lax")
    return response


def _platform(request: Request) -> str | None:
    """The registered platform the path names, or None (the route then answers 404 as if it did not exist)."""
    platform = str(request.path_params["platform"])
    return platform if registry.is_platform(platform) else None


async def start(request: Request) -> Response:
    platform = _platform(request)
    if platform is None:
        return PlainTextResponse("Not Found", 404, headers=_HEADERS)
    return await _start(request, platform)


async def callback(request: Request) -> Response:
    platform = _platform(request)
    if platform is None:
        return PlainTextResponse("Not Found", 404, headers=_HEADERS)
    return await _callback(request, platform)


# One pair of routes for every registered platform (the path names it): /oauth/<platform>/start, /callback.
routes = [
    Route("/oauth/{platform}/start", start, methods=["GET"]),
    Route("/oauth/{platform}/callback", callback, methods=["GET"]),
]
