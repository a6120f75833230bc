# The app's sign-in sessions kept server side: start, hand over, resolve, end and revoke (a reload keeps the user).
"""Server-side sessions behind the app's session cookie.

A session is a `user_sessions` row. Signing in (`start`) creates it with a one-time ticket, valid
`TICKET_TTL`, that the signed-in page hands to the app's session route; the route redeems it
(`redeem_ticket`) for the cookie value, a fresh random token, and answers with an HttpOnly cookie
(see `streamlit_app.session_cookie`). Only SHA-256 digests of the ticket and the token are stored,
never either value, a password or a role: each reload resolves the token (`resolve`) to the user as
the users table says now. Sign-out (`end`) and deactivating the user (`revoke_user_sessions`,
called by `auth.deactivate_user`) set `revoked_at`: the cookie then signs no one in, at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import User, UserSession
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput
from syncstore.security import audit
from syncstore.security.auth import Actor

# How long the signed-in page has to hand its ticket to the session route.
TICKET_TTL: Final = timedelta(minutes=1)
# `last_seen_at` is written at most this often (a reload is not a write each time).
SEEN_EVERY: Final = timedelta(minutes=1)
_TOKEN_BYTES: Final = 32


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Started:
    """A new session: its id (kept in the browser tab's state) and the one-time ticket for the cookie."""

    session_id: int
    ticket: str
    expires_at: datetime


@dataclass(frozen=True)
class Resolved:
    """A live session and its user, as the users table says now."""

    session_id: int
    actor: Actor
    expires_at: datetime


def start(session: Session, actor: Actor, *, hours: float, source: str = "", now: datetime | None = None) -> Started:
    """A session for a signed-in user, lasting `hours`; the ticket is returned once and stored only as a digest."""
    if actor.user_id is None:
        raise InvalidInput({"user": "only a signed-in user has an app session"})
    if hours <= 0:
        raise InvalidInput({"hours": "a session must last longer than 0 hours"})
    now = now or utcnow()
    prune(session, actor.user_id, now=now)
    ticket = secrets.token_urlsafe(_TOKEN_BYTES)
    row = UserSession(
        user_id=actor.user_id,
        ticket_hash=_digest(ticket),
        ticket_expires_at=now + TICKET_TTL,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        last_seen_at=now,
        source=source[:320],
    )
    session.add(row)
    session.flush()
    return Started(row.id, ticket, row.expires_at)


def redeem_ticket(session: Session, ticket: str, *, now: datetime | None = None) -> tuple[str, datetime] | None:
    """The cookie value (a new random token) and its expiry for a valid, unused ticket; else None.

    A ticket works once, within `TICKET_TTL`, for a session neither ended nor expired.
    """
    if not ticket:
        return None
    now = now or utcnow()
    row = session.scalar(sa.select(UserSession).where(UserSession.ticket_hash == _digest(ticket)).with_for_update())
    if row is None:
        return None
    row.ticket_hash = None
    expired = row.ticket_expires_at is None or row.ticket_expires_at <= now
    row.ticket_expires_at = None
    if expired or row.revoked_at is not None or row.expires_at <= now or row.token_hash is not None:
        return None
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    row.token_hash = _digest(token)
    return token, row.expires_at


def _live(session: Session, query: sa.Select[UserSession, User], now: datetime) -> Resolved | None:
    found = session.execute(query).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now or not user.is_active:
        return None
    if row.last_seen_at is None or now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
    return Resolved(row.id, Actor.from_user(user), row.expires_at)


def resolve(session: Session, token: str | None, *, now: datetime | None = None) -> Resolved | None:
    """The live session a cookie value belongs to (not ended, not expired, its user active); else None."""
    if not token:
        return None
    query = sa.select(UserSession, User).join(User, User.id == UserSession.user_id)
    return _live(session, query.where(UserSession.token_hash == _digest(token)), now or utcnow())


def check(session: Session, session_id: int, *, now: datetime | None = None) -> Resolved | None:
    """The session `session_id` if it is still live (a browser tab checks its own on every interaction)."""
    query = sa.select(UserSession, User).join(User, User.id == UserSession.user_id)
    return _live(session, query.where(UserSession.id == session_id), now or utcnow())


def end(session: Session, actor: Actor, session_id: int, *, now: datetime | None = None) -> bool:
    """Sign-out: revoke the user's own session `session_id` (audited); whether it was live."""
    now = now or utcnow()
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != actor.user_id or row.revoked_at is not None:
        return False
    row.revoked_at = now
    row.ticket_hash = None
    audit.record(session, actor, "user.sign_out", "user", actor.user_id, after={"session": session_id})
    return True


def revoke_user_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """End every live session of a user (deactivation); how many were ended. The caller audits its action."""
    result = session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), ticket_hash=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def prune(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """Delete a user's sessions that ended or expired over a day ago (each sign-in does); how many."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    result = session.execute(
        sa.delete(UserSession).where(
            UserSession.user_id == user_id, sa.or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
