# App sessions: the server-side rows, the cookie route's answers, and the app shell signing a tab in and out by them.
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from streamlit_app import app as app_module
from streamlit_app import session_cookie
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, User, UserSession
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput
from syncstore.security import auth, sessions
from syncstore.security.auth import Actor, Role
from syncstore.settings import get_settings
from tests.streamlit_app.conftest import APP_PATH, PASSWORD, RUN_TIMEOUT, SeededDatabase


def _user(engine: sa.Engine, email: str, role: Role = Role.EDITOR) -> Actor:
    with transaction(engine) as session:
        user = auth.create_user(Actor.command_line(), session, email=email, role=role, password=PASSWORD)
        return Actor.from_user(user)


def _start(engine: sa.Engine, actor: Actor, hours: float = 12) -> sessions.Started:
    with transaction(engine) as session:
        return sessions.start(session, actor, hours=hours, source="127.0.0.1")


def _redeem(engine: sa.Engine, ticket: str) -> str | None:
    with transaction(engine) as session:
        redeemed = sessions.redeem_ticket(session, ticket)
    return redeemed[0] if redeemed else None


def _resolve(engine: sa.Engine, token: str | None) -> sessions.Resolved | None:
    with transaction(engine) as session:
        return sessions.resolve(session, token)


def test_a_ticket_gives_one_cookie_value_that_finds_the_user_and_is_stored_only_as_a_digest(
    engine: sa.Engine,
) -> None:
    actor = _user(engine, "ana@example.com")
    started = _start(engine, actor)
    token = _redeem(engine, started.ticket)
    assert token is not None
    assert _redeem(engine, started.ticket) is None  # once only
    resolved = _resolve(engine, token)
    assert resolved is not None and resolved.actor == actor and resolved.session_id == started.session_id
    with engine.connect() as conn:
        row = conn.execute(sa.select(UserSession.__table__)).one()._mapping
    assert token not in {str(value) for value in row.values()}
    assert started.ticket not in {str(value) for value in row.values()}
    assert _resolve(engine, token + "x") is None and _resolve(engine, "") is None


def test_expired_tickets_and_sessions_sign_no_one_in(engine: sa.Engine) -> None:
    actor = _user(engine, "ben@example.com")
    stale = _start(engine, actor)
    with transaction(engine) as session:
        late = utcnow() + sessions.TICKET_TTL + timedelta(seconds=1)
        assert sessions.redeem_ticket(session, stale.ticket, now=late) is None
    started = _start(engine, actor, hours=1)
    token = _redeem(engine, started.ticket)
    with transaction(engine) as session:
        assert sessions.resolve(session, token, now=utcnow() + timedelta(minutes=59)) is not None
        assert sessions.resolve(session, token, now=utcnow() + timedelta(hours=1, seconds=1)) is None
    with pytest.raises(InvalidInput), transaction(engine) as session:
        sessions.start(session, Actor.command_line(), hours=1)
    # A sign-in a day after they ended removes the rows of the expired sessions; the live one stays.
    with transaction(engine) as session:
        fresh = sessions.start(session, actor, hours=1, now=utcnow() + timedelta(days=1, hours=13))
        left = session.scalars(sa.select(UserSession.id).where(UserSession.user_id == actor.user_id)).all()
    assert left == [fresh.session_id]


def test_sign_out_ends_that_session_only_and_is_audited(engine: sa.Engine) -> None:
    actor = _user(engine, "cai@example.com")
    first, second = _start(engine, actor), _start(engine, actor)
    tokens = [_redeem(engine, first.ticket), _redeem(engine, second.ticket)]
    with transaction(engine) as session:
        assert sessions.end(session, actor, first.session_id)
        assert not sessions.end(session, actor, first.session_id)
    assert _resolve(engine, tokens[0]) is None
    assert _resolve(engine, tokens[1]) is not None
    with transaction(engine) as session:
        actions = session.scalars(sa.select(AuditLog.action).where(AuditLog.actor_id == actor.user_id)).all()
    assert actions.count("user.sign_out") == 1


def test_deactivating_a_user_ends_every_session_at_once(engine: sa.Engine) -> None:
    admin = _user(engine, "root@example.com", Role.ADMIN)
    actor = _user(engine, "dee@example.com")
    tokens = [_redeem(engine, _start(engine, actor).ticket) for _ in range(2)]
    with transaction(engine) as session:
        auth.deactivate_user(admin, session, actor.user_id)
    assert [_resolve(engine, token) for token in tokens] == [None, None]
    with transaction(engine) as session:
        auth.activate_user(admin, session, actor.user_id)
    # Activated again, the old cookies stay ended: the user signs in afresh.
    assert [_resolve(engine, token) for token in tokens] == [None, None]


def test_a_role_change_shows_on_the_next_reload(engine: sa.Engine) -> None:
    admin = _user(engine, "boss@example.com", Role.ADMIN)
    actor = _user(engine, "eve@example.com")
    token = _redeem(engine, _start(engine, actor).ticket)
    with transaction(engine) as session:
        auth.set_role(admin, session, actor.user_id, Role.VIEWER)
    resolved = _resolve(engine, token)
    assert resolved is not None and resolved.actor.role is Role.VIEWER


@pytest.fixture
def cookie_client(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SYNCSTORE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield TestClient(Starlette(routes=session_cookie.routes), base_url="http://app.test")
    get_settings.cache_clear()


def test_the_route_answers_a_ticket_with_an_httponly_strict_cookie(
    engine: sa.Engine, cookie_client: TestClient
) -> None:
    actor = _user(engine, "fay@example.com")
    ticket = _start(engine, actor).ticket
    refused = cookie_client.post(session_cookie.SESSION_PATH, content=ticket, headers={"Origin": "http://evil.test"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    answer = cookie_client.post(session_cookie.SESSION_PATH, content=ticket, headers={"Origin": "http://app.test"})
    assert answer.status_code == 200
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{session_cookie.COOKIE_NAME}=")
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    assert "Secure" not in header  # http://127.0.0.1:8501, the default app URL
    token = header.split(";")[0].split("=", 1)[1]
    resolved = _resolve(engine, token)
    assert resolved is not None and resolved.actor.label == "fay@example.com"
    again = cookie_client.post(session_cookie.SESSION_PATH, content=ticket)
    assert again.status_code == 403 and "set-cookie" not in again.headers
    assert cookie_client.post(session_cookie.SESSION_PATH, content="").status_code == 400
    cleared = cookie_client.post(session_cookie.END_PATH)
    assert cleared.status_code == 200 and 'syncstore_session=""' in cleared.headers["set-cookie"]


def test_the_cookie_is_secure_behind_https(
    engine: sa.Engine, cookie_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCSTORE_APP_URL", "https://shop.example.com")
    get_settings.cache_clear()
    ticket = _start(engine, _user(engine, "gus@example.com")).ticket
    assert "Secure" in cookie_client.post(session_cookie.SESSION_PATH, content=ticket).headers["set-cookie"]
    monkeypatch.setenv("SYNCSTORE_SESSION_COOKIE_SECURE", "false")
    get_settings.cache_clear()
    assert not session_cookie.cookie_secure(get_settings())


def test_signing_in_starts_a_session_and_ending_it_elsewhere_signs_the_tab_out(seeded_db: SeededDatabase) -> None:
    at = AppTest.from_file(str(APP_PATH), default_timeout=RUN_TIMEOUT).run()
    at.text_input(key="login_email").input("editor@example.com")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    assert not at.exception
    session_id = at.session_state[app_module.SESSION_ID_KEY]
    engine = seeded_db.engine()
    try:
        with transaction(engine) as session:
            row = session.get(UserSession, session_id)
            assert row is not None and row.ticket_hash is not None and row.revoked_at is None
            user = session.scalars(sa.select(User).where(User.email == "editor@example.com")).one()
            assert row.user_id == user.id
            sessions.end(session, Actor.from_user(user), session_id)  # signed out in another tab
    finally:
        engine.dispose()
    at.run()
    assert [t.label for t in at.text_input][:2] == ["E-mail", "Password"]
    assert "Sign out" not in [b.label for b in at.button]
