# Service functions for connected shops: saving and reading encrypted tokens, disconnecting, key rotation.
"""Platform connections.

Faces (CLI, app, connectors) call these functions, never SQL on `platform_connections`.
Tokens are stored only encrypted (`syncstore.security.crypto`), each bound to its row id and column,
and never appear in audit rows, log lines or error messages.

Key rotation (`rotate_keys`) re-encrypts every token that is not under the primary key, a batch
per transaction: an interrupted run resumes where it stopped and a second run changes nothing.
A key may be retired once `check_retirable` finds no row still using it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from syncstore.errors import InvalidInput, Message, NotFoundError, SyncStoreError, msg
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires
from syncstore.security.crypto import CryptoError, Keyring, key_id_of, load_keyring

logger = logging.getLogger(__name__)

TABLE = PlatformConnection.__tablename__
TOKEN_COLUMNS = ("access_token", "refresh_token")
# The platforms registered at import; `_validate` asks the registry itself.
# key_usage's bucket for stored values that are not tokens at all.
MALFORMED = "<malformed>"

ProgressCallback = Callable[[int, int], None]


class NotConnectedError(SyncStoreError):
    """The connection holds no tokens (it was disconnected); connect the shop again."""


class KeyInUseError(SyncStoreError):
    """A key cannot be retired: stored tokens still use it, or it is the primary key."""


@dataclass(frozen=True)
class Tokens:
    """A connection's decrypted tokens. Its repr shows only the connection and expiry times."""

    connection_id: int
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None


@dataclass(frozen=True)
class RotationFailure:
    """A token rotation could not re-encrypt (it stays as it was)."""

    connection_id: int
    column: str
    reason: str


@dataclass(frozen=True)
class RotationReport:
    """What one `rotate_keys` run did."""

    primary_key_id: str
    rows_total: int
    rows_reencrypted: int
    rows_current: int
    tokens_reencrypted: int
    failures: tuple[RotationFailure, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every stored token is now under the primary key."""
        return not self.failures


# --- saving, reading, disconnecting ---------------------------------------------------------


def _view(connection: PlatformConnection) -> dict[str, Any]:
    """What an audit row may show about a connection: never a token."""
    return {
        "platform": connection.platform,
        "shop_id": connection.shop_id,
        "shop_name": connection.shop_name,
        "region": connection.region,
        "status": connection.status,
        "access_token_expires_at": connection.access_token_expires_at,
        "refresh_token_expires_at": connection.refresh_token_expires_at,
    }


def _validate(
    *,
    platform: str,
    shop_id: str,
    shop_name: str,
    region: str,
    access_token: str,
    refresh_token: str,
    access_token_expires_at: datetime | None,
    refresh_token_expires_at: datetime | None,
    shop_cipher: str | None,
) -> None:
    # Messages name the field and the rule, never the token value.
    errors: dict[str, Message] = {}
    if not registry.is_platform(platform):
        errors["platform"] = msg("must be one of {choices}", choices=", ".join(registry.names()))
    if not shop_id.strip() or len(shop_id) > 64:
        errors["shop_id"] = msg("must be 1 to 64 characters")
    if len(shop_name) > 255:
        errors["shop_name"] = msg("must be at most 255 characters")
    if len(region) > 10:
        errors["region"] = msg("must be at most 10 characters")
    if shop_cipher is not None and len(shop_cipher) > 255:
        errors["shop_cipher"] = msg("must be at most 255 characters")
    for name, token in (("access_token", access_token), ("refresh_token", refresh_token)):
        if not isinstance(token, str) or not token.strip():
            errors[name] = msg("must be a non-empty string")
    for name, moment in (
        ("access_token_expires_at", access_token_expires_at),
        ("refresh_token_expires_at", refresh_token_expires_at),
    ):
        if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
            errors[name] = msg("must be a timezone-aware datetime")
    if errors:
        raise InvalidInput(errors)


@requires(Permission.CONNECTIONS_MANAGE)
def save_connection(
    actor: Actor | None,
    session: Session,
    *,
    platform: str,
    shop_id: str,
    shop_name: str = "",
    region: str = "",
    access_token: str,
    refresh_token: str,
    access_token_expires_at: datetime | None,
    refresh_token_expires_at: datetime | None,
    shop_cipher: str | None = None,
    keyring: Keyring | None = None,
) -> PlatformConnection:
    """Create or update the connection of (platform, shop_id) and store its tokens encrypted."""
    _validate(
        platform=platform,
        shop_id=shop_id,
        shop_name=shop_name,
        region=region,
        access_token=access_token,
        refresh_token=refresh_token,
        access_token_expires_at=access_token_expires_at,
        refresh_token_expires_at=refresh_token_expires_at,
        shop_cipher=shop_cipher,
    )
    keyring = keyring or load_keyring()
    connection = session.scalar(
        sa.select(PlatformConnection)
        .where(PlatformConnection.platform == platform, PlatformConnection.shop_id == shop_id)
        .with_for_update()
    )
    before = None if connection is None else _view(connection)
    if connection is None:
        connection = PlatformConnection(platform=platform, shop_id=shop_id)
        session.add(connection)
    connection.shop_name = shop_name
    connection.region = region
    connection.shop_cipher = shop_cipher
    connection.status = "connected"
    connection.last_error = None
    connection.access_token_expires_at = access_token_expires_at
    connection.refresh_token_expires_at = refresh_token_expires_at
    # The row id is part of what each token is bound to, so a new row is flushed first.
    session.flush()
    _encrypt_tokens(connection, access_token, refresh_token, keyring)
    session.flush()
    audit.record(
        session, actor, "connection.save", "platform_connection", connection.id,
        before=before, after=_view(connection),
    )  # fmt: skip
    logger.info("saved connection %s (%s shop %s)", connection.id, platform, shop_id)
    return connection


def _encrypt_tokens(connection: PlatformConnection, access_token: str, refresh_token: str, keyring: Keyring) -> None:
    connection.access_token = keyring.encrypt(access_token, table=TABLE, row_id=connection.id, column="access_token")
    connection.refresh_token = keyring.encrypt(refresh_token, table=TABLE, row_id=connection.id, column="refresh_token")


def store_refreshed_tokens(
    session: Session,
    connection: PlatformConnection,
    *,
    access_token: str,
    refresh_token: str,
    access_token_expires_at: datetime | None,
    refresh_token_expires_at: datetime | None,
    keyring: Keyring | None = None,
) -> None:
    """Store the pair a token refresh returned (a system action: the caller holds the row lock).

    Both tokens are replaced: platforms hand out single-use refresh tokens.
    """
    before = _view(connection)
    _encrypt_tokens(connection, access_token, refresh_token, keyring or load_keyring())
    connection.access_token_expires_at = access_token_expires_at
    if refresh_token_expires_at is not None:
        connection.refresh_token_expires_at = refresh_token_expires_at
    connection.status = "connected"
    connection.last_error = None
    session.flush()
    audit.record_system(
        session, "token-refresh", "connection.refresh", "platform_connection", connection.id,
        before=before, after=_view(connection),
    )  # fmt: skip


def read_tokens(session: Session, connection_id: int, keyring: Keyring | None = None) -> Tokens:
    """The decrypted tokens of a connection (for connectors). Raises NotFoundError,
    NotConnectedError, or a CryptoError if a stored token cannot be decrypted."""
    connection = session.get(PlatformConnection, connection_id)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    if connection.access_token is None or connection.refresh_token is None:
        raise NotConnectedError(
            "connection {connection_id} ({platform} shop {shop_id}) holds no tokens (status "
            "{status}); connect the shop again",
            connection_id=connection_id,
            platform=connection.platform,
            shop_id=connection.shop_id,
            status=connection.status,
        )
    keyring = keyring or load_keyring()
    return Tokens(
        connection_id=connection.id,
        access_token=keyring.decrypt(connection.access_token, table=TABLE, row_id=connection.id, column="access_token"),
        refresh_token=keyring.decrypt(
            connection.refresh_token, table=TABLE, row_id=connection.id, column="refresh_token"
        ),
        access_token_expires_at=connection.access_token_expires_at,
        refresh_token_expires_at=connection.refresh_token_expires_at,
    )


@requires(Permission.CONNECTIONS_MANAGE)
def disconnect(actor: Actor | None, session: Session, connection_id: int) -> PlatformConnection:
    """Forget a connection's tokens and mark it disconnected (its listings and history stay)."""
    connection = session.get(PlatformConnection, connection_id, with_for_update=True)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    before = _view(connection)
    connection.access_token = None
    connection.refresh_token = None
    connection.access_token_expires_at = None
    connection.refresh_token_expires_at = None
    connection.status = "disconnected"
    session.flush()
    audit.record(
        session, actor, "connection.disconnect", "platform_connection", connection.id,
        before=before, after=_view(connection),
    )  # fmt: skip
    return connection


def list_connections(session: Session) -> Sequence[PlatformConnection]:
    """Every connection, by platform then shop id."""
    query = sa.select(PlatformConnection).order_by(PlatformConnection.platform, PlatformConnection.shop_id)
    return session.scalars(query).all()


# --- keys -----------------------------------------------------------------------------------


def _stored_tokens(session: Session) -> list[tuple[int, str, str]]:
    rows = session.execute(
        sa.select(PlatformConnection.id, PlatformConnection.access_token, PlatformConnection.refresh_token)
    ).all()
    return [
        (row_id, column, token)
        for row_id, access, refresh in rows
        for column, token in zip(TOKEN_COLUMNS, (access, refresh), strict=True)
        if token is not None
    ]


def key_usage(session: Session, keyring: Keyring | None = None) -> dict[str, int]:
    """How many stored tokens each key id encrypts.

    Every key of `keyring` is listed (0 when unused), plus any other key id found in the rows;
    values that are not tokens at all count under MALFORMED.
    """
    keyring = keyring or load_keyring()
    usage = dict.fromkeys(keyring.key_ids, 0)
    for _, _, token in _stored_tokens(session):
        try:
            kid = key_id_of(token)
        except CryptoError:
            kid = MALFORMED
        usage[kid] = usage.get(kid, 0) + 1
    return usage


@requires(Permission.KEYS_MANAGE)
def check_retirable(actor: Actor | None, session: Session, kid: str, *, keyring: Keyring | None = None) -> None:
    """Raise KeyInUseError unless no stored token uses `kid` (and it is not the primary key)."""
    keyring = keyring or load_keyring()
    if kid == keyring.primary_key_id:
        raise KeyInUseError(
            "key {kid!r} is the primary key: put a new key first in SYNCSTORE_ENCRYPTION_KEYS, rotate, then retire it",
            kid=kid,
        )
    in_use = key_usage(session, keyring).get(kid, 0)
    if in_use:
        raise KeyInUseError(
            (
                "key {kid!r} still encrypts {in_use} stored token; run the key rotation "
                "(syncstore keys rotate) before retiring it"
                if in_use == 1
                else "key {kid!r} still encrypts {in_use} stored tokens; run the key rotation "
                "(syncstore keys rotate) before retiring it"
            ),
            kid=kid,
            in_use=in_use,
        )


def _count_rows_with_tokens(engine: sa.Engine) -> int:
    with transaction(engine) as session:
        return (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(PlatformConnection)
                .where(
                    sa.or_(
                        PlatformConnection.access_token.is_not(None),
                        PlatformConnection.refresh_token.is_not(None),
                    )
                )
            )
            or 0
        )


@requires(Permission.KEYS_MANAGE)
def rotate_keys(
    actor: Actor | None,
    engine: sa.Engine,
    *,
    keyring: Keyring | None = None,
    batch_size: int = 100,
    progress: ProgressCallback | None = None,
) -> RotationReport:
    """Re-encrypt under the primary key every stored token that is under another key.

    Rows are visited in id order, `batch_size` rows per transaction, so an interrupted run keeps
    the batches it committed and the next run only does what is left; a run with nothing left
    re-encrypts nothing. Tokens that cannot be decrypted are left as they are and listed in
    the report's failures. `progress(done, total)` is called with 0 first and after each batch.
    One audit row ("keys.rotate") is written per run, also for a run that stopped half way.
    """
    if batch_size < 1:
        raise InvalidInput({"batch_size": "must be at least 1"})
    keyring = keyring or load_keyring()
    primary = keyring.primary_key_id
    total = _count_rows_with_tokens(engine)
    done = rows_reencrypted = rows_current = tokens_reencrypted = 0
    failures: list[RotationFailure] = []
    completed = False
    try:
        if progress is not None:
            progress(0, total)
        last_id = 0
        while True:
            with transaction(engine) as session:
                batch = session.scalars(
                    sa.select(PlatformConnection)
                    .where(
                        PlatformConnection.id > last_id,
                        sa.or_(
                            PlatformConnection.access_token.is_not(None),
                            PlatformConnection.refresh_token.is_not(None),
                        ),
                    )
                    .order_by(PlatformConnection.id)
                    .limit(batch_size)
                    .with_for_update()
                ).all()
                if not batch:
                    break
                for connection in batch:
                    changed = _reencrypt_row(connection, keyring, failures)
                    tokens_reencrypted += changed
                    if changed:
                        rows_reencrypted += 1
                    elif not any(f.connection_id == connection.id for f in failures):
                        rows_current += 1
                last_id = batch[-1].id
            done += len(batch)
            if progress is not None:
                progress(done, max(total, done))
        completed = True
    finally:
        after = {
            "primary_key_id": primary,
            "completed": completed,
            "rows_total": max(total, done),
            "rows_reencrypted": rows_reencrypted,
            "rows_current": rows_current,
            "tokens_reencrypted": tokens_reencrypted,
            "failures": [{"connection_id": f.connection_id, "column": f.column, "reason": f.reason} for f in failures],
        }
        try:
            with transaction(engine) as session:
                audit.record(session, actor, "keys.rotate", "keyring", primary, after=after)
        except Exception:
            # Never hide the error that stopped the run behind one about its audit row.
            if completed:
                raise
            logger.exception("could not write the audit row of an interrupted key rotation")
    logger.info(
        "key rotation to %s: %d rows re-encrypted, %d already current, %d failed",
        primary, rows_reencrypted, rows_current, len(failures),
    )  # fmt: skip
    return RotationReport(
        primary_key_id=primary,
        rows_total=max(total, done),
        rows_reencrypted=rows_reencrypted,
        rows_current=rows_current,
        tokens_reencrypted=tokens_reencrypted,
        failures=tuple(failures),
    )


def _reencrypt_row(connection: PlatformConnection, keyring: Keyring, failures: list[RotationFailure]) -> int:
    """Re-encrypt this row's tokens that are not under the primary key; the number changed."""
    changed = 0
    for column in TOKEN_COLUMNS:
        token: str | None = getattr(connection, column)
        if token is None:
            continue
        try:
            if keyring.is_current(token):
                # Still authenticate it: a current-looking but broken token must not count as done.
                keyring.decrypt(token, table=TABLE, row_id=connection.id, column=column)
                continue
            plaintext = keyring.decrypt(token, table=TABLE, row_id=connection.id, column=column)
        except CryptoError as error:
            failures.append(RotationFailure(connection.id, column, str(error)))
            continue
        setattr(connection, column, keyring.encrypt(plaintext, table=TABLE, row_id=connection.id, column=column))
        changed += 1
    return changed
