# Connecting a shop: the authorization link, its signed state, and the callback that stores the tokens.
"""Shop authorization (OAuth-like) for Shopee and TikTok Shop.

An Admin asks for a link (`start_authorization`); the seller approves on the platform, which sends
the browser back to the receiver's callback with a code (`complete_authorization`): the code is
exchanged for tokens, each authorized shop is stored with its tokens encrypted
(`connections.save_connection`, audited), and then the platform is told where to send webhooks.

The state
---------
The `state` carried through the platform is sealed with the keyring (`Keyring.encrypt`: AES-256-GCM,
the key id travels with it, so a state minted just before a key rotation still opens). Its plaintext
is `{"u": user id, "n": random nonce, "x": expiry}`; the associated data binds it to the platform
(`oauth_state:<platform>:state`), which makes it single purpose: it is no token ciphertext, a state
of one platform does not open on the other's callback, and any altered character fails to open.
Nothing is stored when a link is made, and the link shows no secret (the user id is encrypted
too). A state lives 10 minutes (`STATE_TTL_S`).

Bound to the browser (S7): the Admin's link is the receiver's `/oauth/<platform>/start?state=...`,
which checks the state, sets an HttpOnly, SameSite=Lax cookie (`browser_cookie_name`, path
`/oauth/<platform>/`, 10 minutes) holding `browser_binding(state)` (a keyring-sealed digest of the
state: unforgeable, revealing nothing) and redirects to the platform's page. The callback refuses a
state whose cookie is missing or belongs to another state (`state_not_this_browser`): a state that
leaked (a shared link, a log) cannot be completed from another browser, and an attacker cannot
make a merchant's browser complete an authorization it did not start.

Single use: completing an authorization writes an audit row `connection.authorize` whose entity is
`("oauth_state", nonce)`, in the same transaction as the connections. A state whose nonce already has
that row is refused (`OAuthStateError`, reason `state_reused`): checked before the code exchange, and
again under a lock in the storing transaction (SQLite's BEGIN IMMEDIATE, or a PostgreSQL advisory
lock on the nonce), so two callbacks racing with one state store once. The database is the truth;
a Redis fast path would add nothing here (one callback per connect, not a flood), so there is none.
A failed completion does not use the nonce up, but the platform's code is single use anyway.

The acting user is the one who made the link, looked up again at completion: a user deleted,
deactivated or no longer an Admin by then is refused (PermissionDenied) before the code is spent.

Webhooks are registered after the tokens are committed, through the shop's connector
(`marketplaces.connector_for`): Shopee's one app-level push URL, or every TikTok Shop event type
the connector subscribes, per shop. A registration failure keeps the connection; it is written to
the connection's `last_error` and logged, and the result says so.

No error raised or message logged here carries a token, the code or the state.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import Any, Final
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import AuthExpired, AuthRevoked, CallbackRefused, ConnectorError, InvalidRequest, TokenGrant
from syncstore.db.engine import is_postgres, transaction
from syncstore.db.models import AuditLog, PlatformConnection, User
from syncstore.errors import InvalidInput, PermissionDenied, SyncStoreError, msg
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, Role, requires
from syncstore.security.crypto import CryptoError, Keyring, load_keyring
from syncstore.settings import Settings, get_settings
from syncstore.shops import connections, marketplaces

logger = logging.getLogger(__name__)

# The platforms registered at import; the checks below ask the registry itself.
STATE_TTL_S: Final = 600
STATE_TABLE: Final = "oauth_state"
STATE_COLUMN: Final = "state"
BROWSER_TABLE: Final = "oauth_browser"
BROWSER_COOKIE_PREFIX: Final = "syncstore_oauth_"
AUTHORIZE_ACTION: Final = "connection.authorize"
# Longest state and code accepted from a callback (ours are about 120 characters).
MAX_PARAM_LENGTH: Final = 2048

Clock = Callable[[], float]


# --- errors ---------------------------------------------------------------------------------


class OAuthError(SyncStoreError):
    """An authorization could not be completed. `reason` is a short code a redirect may carry."""

    def __init__(self, reason: str, message: str, /, **params: Any) -> None:
        self.reason = reason
        super().__init__(message, **params)


class OAuthStateError(OAuthError):
    """The state is missing, altered, expired, for another platform, or already used."""


def failure_reason(error: BaseException) -> str:
    """The short reason for a failed callback (for `?error=`): never a secret, never input echoed back."""
    if isinstance(error, OAuthError):
        return error.reason
    if isinstance(error, PermissionDenied):
        return "permission_denied"
    if isinstance(error, marketplaces.MarketplaceNotConfigured):
        return "not_configured"
    return "internal_error"


# --- URLs -----------------------------------------------------------------------------------


def callback_url(settings: Settings, platform: str) -> str:
    """Where the platform sends the seller back: `{public_url}/oauth/<platform>/callback`."""
    return f"{settings.public_url.rstrip('/')}/oauth/{platform}/callback"


def webhook_url(settings: Settings, platform: str) -> str:
    """Where the platform posts events: `{public_url}/webhooks/<platform>`."""
    return f"{settings.public_url.rstrip('/')}/webhooks/{platform}"


# --- the state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateClaims:
    """What a verified state says."""

    platform: str
    user_id: int
    nonce: str
    expires_at: int


def mint_state(platform: str, user_id: int, keyring: Keyring, *, now: float) -> str:
    """A sealed state for `platform` and `user_id`, valid STATE_TTL_S seconds from `now`."""
    claims = {"u": user_id, "n": secrets.token_urlsafe(16), "x": int(now) + STATE_TTL_S}
    plaintext = json.dumps(claims, separators=(",", ":"))
    return keyring.encrypt(plaintext, table=STATE_TABLE, row_id=platform, column=STATE_COLUMN)


def verify_state(state: str | None, platform: str, keyring: Keyring, *, now: float) -> StateClaims:
    """The claims of a state made by `mint_state` for this platform; OAuthStateError otherwise."""
    if not state or len(state) > MAX_PARAM_LENGTH:
        raise OAuthStateError("invalid_state", "the authorization state is missing or malformed; start again")
    try:
        plaintext = keyring.decrypt(state, table=STATE_TABLE, row_id=platform, column=STATE_COLUMN)
    except CryptoError:
        raise OAuthStateError(
            "invalid_state",
            "the authorization state does not open for {platform}: it was altered, made for "
            "another platform or installation, or its key was retired; start again",
            platform=platform,
        ) from None
    try:
        raw = json.loads(plaintext)
        claims = StateClaims(platform, user_id=int(raw["u"]), nonce=str(raw["n"]), expires_at=int(raw["x"]))
    except (ValueError, TypeError, KeyError):
        raise OAuthStateError("invalid_state", "the authorization state is not one this version made") from None
    if now >= claims.expires_at:
        raise OAuthStateError("expired_state", "the authorization took longer than 10 minutes; start again")
    if claims.expires_at > now + STATE_TTL_S + 300:
        raise OAuthStateError("invalid_state", "the authorization state expires too far ahead (clock skew?)")
    return claims


# --- starting -------------------------------------------------------------------------------


def _check_platform(platform: str) -> None:
    if not registry.is_platform(platform):
        raise InvalidInput({"platform": msg("must be one of {choices}", choices=", ".join(registry.names()))})


def _keyring(settings: Settings | None, keyring: Keyring | None) -> Keyring:
    if keyring is not None:
        return keyring
    # The process-wide (cached) keyring, unless the caller brought settings of its own.
    return load_keyring(None if settings is None or settings is get_settings() else settings)


def start_url(settings: Settings, platform: str, state: str) -> str:
    """The receiver's route that marks the browser, then sends it to the platform: `/oauth/<platform>/start`."""
    return f"{settings.public_url.rstrip('/')}/oauth/{platform}/start?{urlencode({'state': state})}"


def platform_authorization_url(platform: str, state: str, settings: Settings) -> str:
    """The platform's own authorization page for `state` (MarketplaceNotConfigured without app credentials)."""
    app = marketplaces.platform_app(platform, settings)
    try:
        return app.authorization_url(callback_url(settings, platform), state)
    finally:
        app.close()


@requires(Permission.CONNECTIONS_MANAGE)
def start_authorization(
    actor: Actor | None,
    platform: str,
    *,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
    clock: Clock = time.time,
) -> str:
    """The link an Admin opens to connect a shop of `platform` (state valid 10 minutes).

    The link is the receiver's `/oauth/<platform>/start?state=...` (`start_url`): it sets the browser
    cookie the callback checks (S7, `begin_in_browser`) and redirects to the platform's page: Shopee's
    signed `auth_partner` link, redirecting to the Shopee callback with `?state=...` (Shopee hands the
    redirect URL back as given), or TikTok Shop's authorize link with `state`.
    Raises MarketplaceNotConfigured when the platform's app credentials are not set.
    """
    assert actor is not None  # @requires refused anonymous callers
    _check_platform(platform)
    if actor.user_id is None:
        raise PermissionDenied("connecting a shop needs a signed-in Admin (the command line has no user to return to)")
    settings = settings or get_settings()
    marketplaces.check_configured(
        platform, settings
    )  # an unconfigured platform says so now, on the page, not after a click
    state = mint_state(platform, actor.user_id, _keyring(settings, keyring), now=clock())
    return start_url(settings, platform, state)


# --- the browser binding (S7) ---------------------------------------------------------------


def browser_cookie_name(platform: str) -> str:
    """The cookie holding the browser binding of an authorization of `platform` (one per platform)."""
    return f"{BROWSER_COOKIE_PREFIX}{platform}"


def _state_digest(state: str) -> str:
    return sha256(f"oauth-browser:{state}".encode()).hexdigest()


def browser_binding(state: str, platform: str, keyring: Keyring) -> str:
    """The cookie value that ties `state` to the browser it is set in: sealed (AES-GCM) digest of the state.

    Without the keyring nobody can make one for a state, and it reveals nothing of the state or its nonce.
    """
    return keyring.encrypt(_state_digest(state), table=BROWSER_TABLE, row_id=platform, column=STATE_COLUMN)


def check_browser(state: str, platform: str, binding: str | None, keyring: Keyring) -> None:
    """OAuthStateError `state_not_this_browser` unless `binding` is the browser binding of `state`."""
    refused = OAuthStateError(
        "state_not_this_browser",
        "this authorization was started in another browser (or its cookie was lost): start again from "
        "the Connections page in this browser",
    )
    if not binding or len(binding) > MAX_PARAM_LENGTH:
        raise refused
    try:
        digest = keyring.decrypt(binding, table=BROWSER_TABLE, row_id=platform, column=STATE_COLUMN)
    except CryptoError:
        raise refused from None
    if not hmac.compare_digest(digest, _state_digest(state)):
        raise refused


def begin_in_browser(
    platform: str,
    state: str | None,
    *,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
    clock: Clock = time.time,
) -> tuple[str, str]:
    """For the receiver's start route: (the platform's authorization URL, the browser binding to set as cookie).

    The state must be valid (OAuthStateError otherwise): a link that would fail anyway sets no cookie.
    """
    if not registry.is_platform(platform):
        raise OAuthError("unknown_platform", "unknown platform {platform!r}", platform=platform)
    settings = settings or get_settings()
    keyring = _keyring(settings, keyring)
    verify_state(state, platform, keyring, now=clock())
    assert state is not None  # verify_state refused a missing one
    return platform_authorization_url(platform, state, settings), browser_binding(state, platform, keyring)


# --- completing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shop:
    shop_id: str
    name: str
    region: str
    cipher: str | None
    cross_border: bool = False


def _nonce_used(session: Session, nonce: str) -> bool:
    query = sa.select(AuditLog.id).where(AuditLog.entity_type == STATE_TABLE, AuditLog.entity_id == nonce).limit(1)
    return session.scalar(query) is not None


def _lock_nonce(session: Session, nonce: str) -> None:
    """Serialize completions of one state. SQLite's BEGIN IMMEDIATE already serializes every writer."""
    if is_postgres(session.connection()):
        key = int.from_bytes(sha256(f"oauth-state:{nonce}".encode()).digest()[:8], "big", signed=True)
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _admin(session: Session, user_id: int) -> Actor:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise PermissionDenied("the user who started this authorization no longer exists or is deactivated")
    actor = Actor.from_user(user)
    if actor.role is not Role.ADMIN:
        raise PermissionDenied(
            "the user who started this authorization is now {role}, not admin", role=actor.role.value
        )
    return actor


def _scrub(text: str, secrets_: Iterable[str]) -> str:
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return text


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    if len(value) > MAX_PARAM_LENGTH or not value.isprintable():
        raise OAuthError("invalid_request", "the callback's {name} parameter is malformed", name=name)
    return value


def _exchange(
    platform: str, params: Mapping[str, str], settings: Settings, code: str
) -> tuple[TokenGrant, list[_Shop]]:
    """The code's token pair and the shops it covers; OAuthError when the platform says no."""
    try:
        app = marketplaces.platform_app(platform, settings)
        try:
            grant, granted = app.exchange_code(code, params)
        finally:
            app.close()
    except CallbackRefused as refused:
        raise OAuthError(refused.reason, str(refused)) from None
    except (OAuthError, marketplaces.MarketplaceNotConfigured):
        raise
    except (AuthRevoked, AuthExpired, InvalidRequest) as error:
        # The connectors scrub tokens and app secrets from their messages; the code is scrubbed here.
        text = _scrub(str(error), (code,))
        raise OAuthError(
            "code_rejected", "{platform} refused the authorization code: {text}", platform=platform, text=text
        ) from None
    except ConnectorError as error:
        text = _scrub(str(error), (code,))
        raise OAuthError(
            "platform_error", "{platform} did not complete the code exchange: {text}", platform=platform, text=text
        ) from None
    except Exception as error:  # a malformed answer: say what kind, never the text (it may hold a token)
        raise OAuthError(
            "platform_error",
            "{platform} answered the code exchange oddly: {kind}",
            platform=platform,
            kind=type(error).__name__,
        ) from None
    return grant, [_Shop(shop.shop_id, shop.name, shop.region, shop.shop_cipher) for shop in granted]


def _with_profile(platform: str, grant: TokenGrant, shop: _Shop, settings: Settings) -> _Shop:
    """The shop with what the platform says of it; a Shopee cross-border (CNSC/KRSC) shop is refused.

    Cross-border Shopee shops must write stock through `v2.global_product.*`, which SyncStore does not
    implement: connecting one would fail every stock write, so it is refused with the reason.
    """
    try:
        profile = marketplaces.shop_profile(
            platform, shop.shop_id, grant.access_token, shop_cipher=shop.cipher, settings=settings
        )
    except ConnectorError as error:
        logger.warning("reading the %s shop profile of %s failed: %s", platform, shop.shop_id, error)
        return shop
    spec = registry.spec(platform)
    if profile.cross_border and spec.cross_border_refusal is not None:
        raise OAuthError(
            "cross_border_unsupported",
            "{label} shop {shop_id} {cross_border_refusal}",
            label=spec.label,
            shop_id=shop.shop_id,
            cross_border_refusal=spec.cross_border_refusal,
        )
    return replace(
        shop,
        name=shop.name or profile.name,
        region=(profile.region or shop.region).upper(),
        cross_border=profile.cross_border,
    )


def _store(
    engine: sa.Engine,
    claims: StateClaims,
    grant: TokenGrant,
    shops: list[_Shop],
    keyring: Keyring,
) -> list[int]:
    """Save every shop's connection and the nonce's audit row in one transaction; the connection ids."""
    with transaction(engine) as session:
        _lock_nonce(session, claims.nonce)
        if _nonce_used(session, claims.nonce):
            raise OAuthStateError("state_reused", "this authorization state was already used; start again")
        actor = _admin(session, claims.user_id)
        ids: list[int] = []
        for shop in shops:
            connection = connections.save_connection(
                actor,
                session,
                platform=claims.platform,
                shop_id=shop.shop_id,
                shop_name=shop.name[:255],
                region=shop.region[:10],
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                access_token_expires_at=grant.access_token_expires_at,
                refresh_token_expires_at=grant.refresh_token_expires_at,
                shop_cipher=shop.cipher,
                keyring=keyring,
            )
            connection.cross_border = shop.cross_border
            ids.append(connection.id)
        after: dict[str, Any] = {
            "platform": claims.platform,
            "shop_ids": [shop.shop_id for shop in shops],
            "connection_ids": ids,
        }
        audit.record(session, actor, AUTHORIZE_ACTION, STATE_TABLE, claims.nonce, after=after)
    return ids


def _register_webhooks(
    engine: sa.Engine, connection_id: int, platform: str, settings: Settings, keyring: Keyring
) -> str | None:
    """Point the platform's webhooks at this receiver, one push code / event type at a time.

    Each topic's outcome is stored on the connection (the Connections page shows each refusal with
    the platform's words); one refused topic never stops the others (Shopee's code 22 is not in its
    official list, for one). Returns what failed when no topic took at all, else None.
    """
    url = webhook_url(settings, platform)
    try:
        connector = marketplaces.connector_for(engine, connection_id, settings=settings, keyring=keyring)
        try:
            subscriptions = list(connector.register_webhook(url) or [])
        finally:
            close = getattr(connector, "close", None)
            if callable(close):
                close()
    except (ConnectorError, SyncStoreError) as error:
        return f"webhook registration failed: {type(error).__name__}: {error}"
    except Exception as error:  # unexpected: keep the connection, report the kind
        logger.exception("webhook registration for connection %s raised unexpectedly", connection_id)
        return f"webhook registration failed: {type(error).__name__}"
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id, with_for_update=True)
        if connection is not None:
            connection.webhook_subscriptions = [
                {"topic": item.topic, "ok": item.ok, "message": item.message[:500]} for item in subscriptions
            ]
    refused = [item for item in subscriptions if not item.ok]
    if refused:
        names = ", ".join(f"{item.topic} ({item.message})" if item.message else item.topic for item in refused)
        logger.info("connection %s: %s refused webhook topic(s) %s", connection_id, platform, names)
    if subscriptions and len(refused) == len(subscriptions):
        # Not one topic took: no webhook will come (order polling still recovers orders, W9).
        return f"webhook registration failed: {platform} refused every webhook topic: {names}"
    return None


def _record_error(engine: sa.Engine, connection_id: int, message: str) -> None:
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id, with_for_update=True)
        if connection is not None:
            connection.last_error = message


def complete_authorization(
    engine: sa.Engine,
    platform: str,
    params: Mapping[str, str],
    *,
    browser_binding: str | None,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
    clock: Clock = time.time,
) -> list[PlatformConnection]:
    """Finish an authorization from the callback's query `params` (`state`, `code`, Shopee's `shop_id`).

    `browser_binding` is the cookie the start route set in the browser (`begin_in_browser`); the
    callback of a browser that did not start this authorization is refused (`state_not_this_browser`).

    Returns the stored connections (one per authorized shop; Shopee always one). A connection
    whose webhook registration failed is returned with `last_error` set. Raises OAuthStateError
    (bad, expired, other-platform or reused state), PermissionDenied (the user who started it may no
    longer connect shops), OAuthError (no code, the platform refused it or failed), or
    MarketplaceNotConfigured; nothing is stored then.
    """
    if not registry.is_platform(platform):
        raise OAuthError("unknown_platform", "unknown platform {platform!r}", platform=platform)
    settings = settings or get_settings()
    keyring = _keyring(settings, keyring)
    claims = verify_state(params.get("state"), platform, keyring, now=clock())
    check_browser(params.get("state") or "", platform, browser_binding, keyring)
    with transaction(engine) as session:
        if _nonce_used(session, claims.nonce):
            raise OAuthStateError("state_reused", "this authorization state was already used; start again")
        _admin(session, claims.user_id)
    code = _param(params, "code")
    if not code:
        raise OAuthError(
            "missing_code", "{platform} sent no authorization code (the seller may have declined)", platform=platform
        )

    grant, shops = _exchange(platform, params, settings, code)
    shops = [_with_profile(platform, grant, shop, settings) for shop in shops]
    try:
        ids = _store(engine, claims, grant, shops, keyring)
    except (OAuthError, PermissionDenied):
        raise
    except Exception as error:
        # Messages of storage errors may quote parameters; the tokens are scrubbed out before logging.
        text = _scrub(f"{type(error).__name__}: {error}", (grant.access_token, grant.refresh_token, code))
        logger.error("storing the %s authorization failed: %s", platform, text)
        raise OAuthError("storage_error", "the {platform} connection could not be stored", platform=platform) from None
    shop_ids = ", ".join(shop.shop_id for shop in shops)
    logger.info("authorized %s shop(s) %s (connections %s)", platform, shop_ids, ids)

    for connection_id in ids:
        failure = _register_webhooks(engine, connection_id, platform, settings, keyring)
        if failure is not None:
            failure = _scrub(failure, (grant.access_token, grant.refresh_token, code))
            logger.warning("connection %s (%s): %s", connection_id, platform, failure)
            _record_error(engine, connection_id, failure)

    with transaction(engine) as session:
        stored = [session.get(PlatformConnection, connection_id) for connection_id in ids]
    return [connection for connection in stored if connection is not None]
