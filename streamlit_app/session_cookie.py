# The app's session cookie: the same-origin HTTP route that sets and clears it, and the page-side hand-over.
"""The session cookie that keeps a user signed in across reloads and new tabs.

Why this shape: Streamlit talks to the browser over a websocket, so a script cannot answer an HTTP
request, and a cookie written by JavaScript cannot be HttpOnly. Streamlit's ASGI server (`st.App`,
Streamlit >= 1.53) mounts extra Starlette routes beside the app on the SAME origin, port and process:
`streamlit_app/syncstore_app.py` is `st.App("app.py", routes=session_cookie.routes)`, which
`streamlit run streamlit_app/syncstore_app.py` serves (the demo and the README's deployment run it
so). Nothing else has to run, be proxied or share a domain: the cookie is set by the app's own
origin, so it works on `127.0.0.1:8501` in `make demo` and behind a TLS proxy in production alike
(a route on the webhook receiver would need the receiver on the app's host, and a Tornado handler
patched into Streamlit's server would depend on its private internals).

The flow: a successful sign-in creates a server-side session (`syncstore.security.sessions.start`)
with a one-time ticket (one minute). The signed-in page posts that ticket once to
`POST /_syncstore/session` (`hand_over_html`); the route redeems it for a fresh random token and
answers `Set-Cookie: syncstore_session=<token>; HttpOnly; SameSite=Lax; Path=/; Max-Age=...`
(`Secure` when `SYNCSTORE_SESSION_COOKIE_SECURE` is true, or unset and `SYNCSTORE_APP_URL` is https).
SameSite=Lax, not Strict: the return from a marketplace's authorization page is a navigation that
began on another site, and Lax still keeps the cookie off every cross-site request but a top-level
GET (which only loads the page; the websocket that acts is same-site). JavaScript never sees the
cookie value, only the single-use ticket. On a reload the websocket's
handshake carries the cookie, `st.context.cookies` reads it and `sessions.resolve` finds the user.
`POST /_syncstore/session/end` clears the cookie after a sign-out; the server-side revocation has
already ended the session, so a cookie left behind signs no one in. Both routes refuse a request
whose `Origin` is another site's (no signing a victim into someone else's account).
"""

from __future__ import annotations

import html
import json
import logging
from typing import Final
from urllib.parse import urlsplit

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncstore.db.engine import create_engine, transaction
from syncstore.db.types import utcnow
from syncstore.security import sessions
from syncstore.settings import Settings, get_settings

logger = logging.getLogger(__name__)

COOKIE_NAME: Final = "syncstore_session"
SESSION_PATH: Final = "/_syncstore/session"
END_PATH: Final = "/_syncstore/session/end"
_MAX_TICKET: Final = 200
_HEADERS: Final = {"Cache-Control": "no-store"}
_engines: dict[str, sa.Engine] = {}


def _engine(settings: Settings) -> sa.Engine:
    url = settings.resolved_database_url
    if url not in _engines:
        _engines[url] = create_engine(url)
    return _engines[url]


def cookie_secure(settings: Settings) -> bool:
    """Whether the cookie carries `Secure`: the setting, else whether the app's URL is https."""
    if settings.session_cookie_secure is not None:
        return settings.session_cookie_secure
    return settings.app_url.lower().startswith("https://")


def _same_origin(request: Request) -> bool:
    """A browser's POST names its page's origin: it must be this host (absent: not a browser's cross-site call)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def _refused(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status, headers=_HEADERS)


def _redeem(settings: Settings, ticket: str) -> tuple[str, int] | None:
    with transaction(_engine(settings)) as db:
        redeemed = sessions.redeem_ticket(db, ticket)
    if redeemed is None:
        return None
    token, expires_at = redeemed
    return token, max(int((expires_at - utcnow()).total_seconds()), 1)


async def set_cookie(request: Request) -> Response:
    """Redeem a one-time ticket (the body, plain text) for the HttpOnly session cookie."""
    if not _same_origin(request):
        return _refused(403, "cross_site")
    ticket = (await request.body()).decode("utf-8", "replace").strip()
    if not ticket or len(ticket) > _MAX_TICKET:
        return _refused(400, "no_ticket")
    settings = get_settings()
    try:
        redeemed = await run_in_threadpool(_redeem, settings, ticket)
    except Exception:  # the database is down: the tab stays signed in, only a reload will ask again
        logger.exception("could not redeem a session ticket")
        return _refused(503, "unavailable")
    if redeemed is None:
        return _refused(403, "invalid_ticket")
    token, max_age = redeemed
    response = JSONResponse({"ok": True}, headers=_HEADERS)
    response.set_cookie(
        COOKIE_NAME, token, max_age=max_age, path="/", secure=cookie_secure(settings), httponly=True, samesite="lax"
    )
    return response


async def clear_cookie(request: Request) -> Response:
    """Delete the session cookie (after a sign-out, which already ended the session server side)."""
    if not _same_origin(request):
        return _refused(403, "cross_site")
    response = JSONResponse({"ok": True}, headers=_HEADERS)
    secure = cookie_secure(get_settings())
    response.delete_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="lax")
    return response


routes: Final = [
    Route(SESSION_PATH, set_cookie, methods=["POST"]),
    Route(END_PATH, clear_cookie, methods=["POST"]),
]


def _post_script(path: str, body: str) -> str:
    """A page snippet that POSTs `body` to the app's own `path` once (same origin, cookies included)."""
    request = json.dumps({"method": "POST", "credentials": "same-origin", "body": body})
    return (
        f'<span data-syncstore-session="{html.escape(path)}"></span>'
        f"<script>fetch(new URL({json.dumps(path.lstrip('/'))}, document.baseURI), {request});</script>"
    )


def hand_over_html(ticket: str) -> str:
    """What the signed-in page renders once: the ticket posted to the session route, which sets the cookie."""
    return _post_script(SESSION_PATH, ticket)


def clear_html() -> str:
    """What the sign-in page renders after a sign-out: the cookie deleted."""
    return _post_script(END_PATH, "")
