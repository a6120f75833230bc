# Connectors for connected shops, built through the platform registry, and their token refresh.
"""Connectors for connected shops.

Every platform is reached through its `PlatformSpec` (`connectors.registry`): its connector
factory, its app-level calls (`platform_app`) and whether it issues one token pair per seller.

`connector_for` builds the platform's connector for one `platform_connections` row: decrypted
tokens, the shop's rate-limit gate, and a refresh callback. `refresh_access_token` is that
callback: single flight across every worker and process, because refresh tokens are single use.
It locks the connection row; if another worker refreshed while this one waited, it returns that
worker's token instead of spending the (already used) refresh token again.

TikTok Shop grants ONE token pair per seller (`PlatformSpec.token_per_seller`), and the authorization
stores it on the row of every shop of that seller. Refreshing is therefore per seller: the refresh locks
every row of that platform (in id order, so two refreshes never deadlock), spends the refresh token
once and stores the new pair on every row that held the old refresh token. A sibling row's worker
then finds a token it has not seen and uses it. Shopee pairs are per shop.

`connector_factory` is what pipelines and the app hand to `syncstore.sync.engine`: connectors cached per
connection, all sharing one rate limiter (Redis when configured, the database otherwise).
`refresh_expiring` is the scheduled refresh of tokens about to expire.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import (
    AuthRevoked,
    Connector,
    ConnectorError,
    PlatformApp,
    PlatformSpec,
    ShopCredentials,
    ShopProfile,
    TokenGrant,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, ShopPublishing
from syncstore.db.types import utcnow
from syncstore.errors import NotFoundError, SyncStoreError
from syncstore.ratelimit.failover import make_rate_limiter
from syncstore.ratelimit.gate import ShopGate
from syncstore.ratelimit.limits import RateLimiter
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.security.crypto import CryptoError, Keyring, load_keyring
from syncstore.settings import Settings, get_settings
from syncstore.shops import connections

logger = logging.getLogger(__name__)

# connection id -> that shop's connector (the type syncstore.sync.engine calls ConnectorFactory).
ConnectorFactory = Callable[[int], Connector]


class MarketplaceNotConfigured(SyncStoreError):
    """The app credentials of a platform are not set."""


def _configured_spec(platform: str, settings: Settings) -> PlatformSpec:
    """The platform's spec; MarketplaceNotConfigured when its app credentials are not set."""
    spec = registry.spec(platform)
    if not spec.is_configured(settings):
        raise MarketplaceNotConfigured(
            "{label} is not configured: set {required_settings}",
            label=spec.label,
            required_settings=" and ".join(spec.required_settings),
        )
    return spec


def platform_app(platform: str, settings: Settings | None = None, *, client: httpx.Client | None = None) -> PlatformApp:
    """The platform's app-level calls (authorization link, code exchange, refresh); close it after use.

    MarketplaceNotConfigured when the platform's app credentials are not set.
    """
    settings = settings or get_settings()
    return _configured_spec(platform, settings).app(settings, client)


def check_configured(platform: str, settings: Settings | None = None) -> None:
    """MarketplaceNotConfigured unless the platform's app credentials are set."""
    _configured_spec(platform, settings or get_settings())


def _refresh_grant(platform: str, shop_id: str, refresh_token: str, settings: Settings) -> TokenGrant:
    app = platform_app(platform, settings)
    try:
        return app.refresh(refresh_token, shop_id)
    finally:
        app.close()


def _holders_of(
    session: Session, connection: PlatformConnection, refresh_token: str, keyring: Keyring | None
) -> list[PlatformConnection]:
    """The rows that hold `refresh_token`: the connection itself, and for TikTok Shop the seller's other shops.

    The caller has locked them (see `_lock_rows`).
    """
    if not registry.spec(connection.platform).token_per_seller:
        return [connection]
    holders = [connection]
    siblings = session.scalars(
        sa.select(PlatformConnection)
        .where(
            PlatformConnection.platform == connection.platform,
            PlatformConnection.id != connection.id,
            PlatformConnection.refresh_token.is_not(None),
        )
        .order_by(PlatformConnection.id)
    ).all()
    for sibling in siblings:
        try:
            if connections.read_tokens(session, sibling.id, keyring).refresh_token == refresh_token:
                holders.append(sibling)
        except (CryptoError, SyncStoreError) as error:  # a row we cannot read holds no token we could share
            logger.warning("connection %s: stored tokens unreadable (%s)", sibling.id, type(error).__name__)
    return holders


def _lock_rows(session: Session, connection_id: int) -> PlatformConnection:
    """Lock the connection's row, and where one token pair serves a seller's shops (TikTok Shop) every row
    of that platform, always in id order."""
    platform = session.scalar(sa.select(PlatformConnection.platform).where(PlatformConnection.id == connection_id))
    if platform is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    if registry.spec(platform).token_per_seller:
        session.scalars(
            sa.select(PlatformConnection)
            .where(PlatformConnection.platform == platform)
            .order_by(PlatformConnection.id)
            .with_for_update()
        ).all()
    connection = session.get(PlatformConnection, connection_id, with_for_update=True, populate_existing=True)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    return connection


def refresh_access_token(
    engine: sa.Engine,
    connection_id: int,
    *,
    stale_access_token: str | None,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
) -> str:
    """A fresh access token for the shop, refreshing at most once however many workers ask at once.

    `stale_access_token` is the token the caller saw expire. When the stored token differs,
    another worker already refreshed: that token is returned and no refresh is spent.
    A TikTok Shop refresh stores the new pair on every shop row that held the spent refresh token.
    A refused refresh marks those connections `expired` (the merchant must connect the shop again).
    """
    settings = settings or get_settings()
    revoked: AuthRevoked | None = None
    with transaction(engine) as session:
        # The row locks (BEGIN IMMEDIATE on SQLite) make concurrent refreshes queue here.
        connection = _lock_rows(session, connection_id)
        tokens = connections.read_tokens(session, connection_id, keyring)
        if stale_access_token is not None and tokens.access_token != stale_access_token:
            return tokens.access_token
        holders = _holders_of(session, connection, tokens.refresh_token, keyring)
        try:
            grant = _refresh_grant(connection.platform, connection.shop_id, tokens.refresh_token, settings)
        except AuthRevoked as error:
            for holder in holders:
                holder.status = "expired"
                holder.last_error = f"token refresh refused: {error}"
            revoked = error
        else:
            for holder in holders:
                connections.store_refreshed_tokens(
                    session,
                    holder,
                    access_token=grant.access_token,
                    refresh_token=grant.refresh_token,
                    access_token_expires_at=grant.access_token_expires_at,
                    refresh_token_expires_at=grant.refresh_token_expires_at,
                    keyring=keyring,
                )
            return grant.access_token
    # Raised after the commit, so the `expired` status is kept.
    assert revoked is not None
    raise revoked


@requires(Permission.CONNECTIONS_MANAGE)
def refresh_connection(actor: Actor | None, engine: sa.Engine, connection_id: int) -> None:
    """Refresh a shop's access token now, on a person's request (the app's Refresh button).

    The shop's name and region are read again from the platform with the new token (its shop-info
    call), so a shop renamed in its seller centre, or stored nameless, shows its real name.
    """
    access_token = refresh_access_token(engine, connection_id, stale_access_token=None)
    profile = _profile_after_refresh(engine, connection_id, access_token)
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id)
        if connection is not None:
            _apply_profile(connection, profile)
            after = {"platform": connection.platform, "shop_id": connection.shop_id, "shop_name": connection.shop_name}
            audit.record(session, actor, "connection.refresh_token", "platform_connections", connection_id, after=after)


def _apply_profile(connection: PlatformConnection, profile: ShopProfile | None) -> None:
    """Keep the platform's current name of the shop (and its region when none was known)."""
    if profile is None:
        return
    if profile.name.strip():
        connection.shop_name = profile.name.strip()[:255]
    if profile.region.strip() and not connection.region:
        connection.region = profile.region.strip().upper()[:10]


def _profile_after_refresh(
    engine: sa.Engine, connection_id: int, access_token: str, settings: Settings | None = None
) -> ShopProfile | None:
    """What the platform now says of the shop, or None when it cannot say (the refresh itself stands)."""
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id)
        if connection is None:
            return None
        platform, shop_id, cipher = connection.platform, connection.shop_id, connection.shop_cipher
    try:
        return shop_profile(platform, shop_id, access_token, shop_cipher=cipher, settings=settings)
    except (ConnectorError, SyncStoreError, httpx.HTTPError) as error:
        logger.warning("reading the %s shop profile of %s after a refresh failed: %s", platform, shop_id, error)
        return None


@dataclass(frozen=True)
class RefreshSummary:
    """What a scheduled token refresh did (connection ids)."""

    refreshed: tuple[int, ...]
    already_fresh: tuple[int, ...]
    revoked: tuple[int, ...]
    failed: tuple[tuple[int, str], ...]


def expiring_connections(session: Session, within: timedelta, *, now: datetime | None = None) -> list[int]:
    """Connected shops whose access token expires within `within` (a token with no known expiry is left alone)."""
    limit = (now or utcnow()) + within
    return list(
        session.scalars(
            sa.select(PlatformConnection.id)
            .where(
                PlatformConnection.status == "connected",
                PlatformConnection.access_token.is_not(None),
                PlatformConnection.access_token_expires_at.is_not(None),
                PlatformConnection.access_token_expires_at < limit,
            )
            .order_by(PlatformConnection.id)
        )
    )


def refresh_expiring(
    engine: sa.Engine,
    *,
    within: timedelta = timedelta(hours=2),
    settings: Settings | None = None,
    keyring: Keyring | None = None,
) -> RefreshSummary:
    """Refresh every connected shop's token that expires within `within`, once per token pair.

    A TikTok Shop seller's shops share one pair: after the first of them is refreshed the others
    are no longer expiring and are reported as `already_fresh`.
    """
    with transaction(engine) as session:
        candidates = expiring_connections(session, within)
    refreshed: list[int] = []
    fresh: list[int] = []
    revoked: list[int] = []
    failed: list[tuple[int, str]] = []
    for connection_id in candidates:
        with transaction(engine) as session:
            if connection_id not in expiring_connections(session, within):
                fresh.append(connection_id)
                continue
            current = connections.read_tokens(session, connection_id, keyring).access_token
        try:
            fresh_token = refresh_access_token(
                engine, connection_id, stale_access_token=current, settings=settings, keyring=keyring
            )
        except AuthRevoked:
            revoked.append(connection_id)
        except (ConnectorError, SyncStoreError, httpx.HTTPError) as error:
            failed.append((connection_id, f"{type(error).__name__}: {error}"))
        else:
            refreshed.append(connection_id)
            _rename_if_nameless(engine, connection_id, fresh_token, settings)
    return RefreshSummary(tuple(refreshed), tuple(fresh), tuple(revoked), tuple(failed))


def _rename_if_nameless(engine: sa.Engine, connection_id: int, access_token: str, settings: Settings | None) -> None:
    """A scheduled refresh reads the profile only of a shop stored without a name (one call, not one per refresh)."""
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id)
        if connection is None or connection.shop_name.strip():
            return
    profile = _profile_after_refresh(engine, connection_id, access_token, settings)
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id)
        if connection is not None:
            _apply_profile(connection, profile)


def connector_for(
    engine: sa.Engine,
    connection_id: int,
    *,
    limiter: RateLimiter | None = None,
    settings: Settings | None = None,
    keyring: Keyring | None = None,
    client: httpx.Client | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> Connector:
    """The connector of one connected shop, rate limited by `limiter` when given."""
    settings = settings or get_settings()
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, connection_id)
        if connection is None:
            raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
        platform = connection.platform
        tokens = connections.read_tokens(session, connection_id, keyring)
        publishing = session.get(ShopPublishing, connection_id)  # the Admin's choice of platform location
        credentials = ShopCredentials(
            shop_id=connection.shop_id,
            access_token=tokens.access_token,
            shop_cipher=connection.shop_cipher,
            stock_location_id=publishing.location_id if publishing is not None else None,
        )
    gate = ShopGate(limiter, platform, connection.shop_id) if limiter is not None else None
    current = {"token": tokens.access_token}

    def refresh() -> str:
        current["token"] = refresh_access_token(
            engine, connection_id, stale_access_token=current["token"], settings=settings, keyring=keyring
        )
        return current["token"]

    return _build(platform, credentials, settings, gate=gate, refresh=refresh, client=client, policy=policy,
                  region=connection.region or "")  # fmt: skip


def _build(
    platform: str,
    credentials: ShopCredentials,
    settings: Settings,
    *,
    gate: ShopGate | None = None,
    refresh: Callable[[], str] | None = None,
    client: httpx.Client | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    region: str = "",
) -> Connector:
    spec = _configured_spec(platform, settings)
    return spec.connector(
        settings, credentials, gate=gate, refresh=refresh, client=client, policy=policy, region=region
    )


def shop_profile(
    platform: str, shop_id: str, access_token: str, *, shop_cipher: str | None = None, settings: Settings | None = None
) -> ShopProfile:
    """What the platform says of a shop just authorized (region, cross-border), read with its new token."""
    settings = settings or get_settings()
    credentials = ShopCredentials(shop_id=shop_id, access_token=access_token, shop_cipher=shop_cipher)
    connector = _build(platform, credentials, settings)
    try:
        return connector.get_shop_profile()
    finally:
        _close(connector)


class CachedConnectors:
    """A `ConnectorFactory`: one connector per connection id, built on first use, all behind one rate limiter.

    Thread safe. `close()` releases the connectors' HTTP clients and the limiter.
    """

    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings | None = None,
        *,
        limiter: RateLimiter | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings or get_settings()
        self._limiter = limiter if limiter is not None else make_rate_limiter(self._settings, engine)
        # Explicit settings bring their own keys; without them, the process-wide keyring is read per use.
        self._keyring = keyring if keyring is not None or settings is None else load_keyring(settings)
        self._connectors: dict[int, Connector] = {}
        self._lock = threading.Lock()

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def __call__(self, connection_id: int) -> Connector:
        with self._lock:
            found = self._connectors.get(connection_id)
            if found is None:
                found = connector_for(
                    self._engine, connection_id, limiter=self._limiter, settings=self._settings, keyring=self._keyring
                )
                self._connectors[connection_id] = found
            return found

    def forget(self, connection_ids: Sequence[int] | None = None) -> None:
        """Drop cached connectors (all, or these), e.g. after a shop was connected again."""
        with self._lock:
            ids = list(self._connectors) if connection_ids is None else list(connection_ids)
            for connection_id in ids:
                connector = self._connectors.pop(connection_id, None)
                if connector is not None:
                    _close(connector)

    def close(self) -> None:
        self.forget()
        self._limiter.close()


def _close(connector: Connector) -> None:
    close = getattr(connector, "close", None)
    if callable(close):
        close()


def connector_factory(engine: sa.Engine, settings: Settings | None = None) -> CachedConnectors:
    """The connectors of connected shops, cached per connection and rate limited.

    The limiter is Redis (with database failover) when `SYNCSTORE_REDIS_URL` is set, else the database.
    """
    return CachedConnectors(engine, settings)
