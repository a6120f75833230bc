# S1 sign-in: throttling per account and per source, lockout, audit, same answers for unknown e-mails, password rules.
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, User
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, PermissionDenied
from syncstore.security import auth
from syncstore.security.auth import Actor, Role

ADMIN = Actor(user_id=None, label="root@example.com", role=Role.ADMIN)
PASSWORD = "tall-green-lantern-7"


def _add(engine: sa.Engine, email: str = "ann@example.com", role: str = "editor") -> int:
    with transaction(engine) as session:
        return auth.create_user(ADMIN, session, email=email, role=role, password=PASSWORD).id


def _try(engine: sa.Engine, email: str, password: str, **kwargs: Any) -> auth.SignInResult:
    with transaction(engine) as session:
        return auth.sign_in(session, email, password, **kwargs)


def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in(engine: sa.Engine) -> None:
    _add(engine)
    for _ in range(30):
        with transaction(engine) as session:
            assert auth.authenticate(session, "ann@example.com", "wrong password guess") is None
    with transaction(engine) as session:
        assert auth.authenticate(session, "ann@example.com", PASSWORD) is None


def test_five_failures_start_a_growing_delay_and_a_success_resets_it(engine: sa.Engine) -> None:
    _add(engine)
    now = utcnow()
    for _ in range(auth.SIGN_IN_FREE_FAILURES):
        result = _try(engine, "ann@example.com", "wrong password guess", source="10.0.0.1", now=now)
        assert result.actor is None and result.message == auth.WRONG_CREDENTIALS
    # Refused before the next allowed time, even with the right password: no sleeping, no checking.
    refused = _try(engine, "ann@example.com", PASSWORD, source="10.0.0.1", now=now)
    assert refused.actor is None and refused.retry_at == now + auth.SIGN_IN_FIRST_DELAY
    assert "Too many failed sign-ins" in (refused.message or "")
    later = now + auth.SIGN_IN_FIRST_DELAY
    assert _try(engine, "ann@example.com", "wrong password guess", source="10.0.0.1", now=later).actor is None
    refused = _try(engine, "ann@example.com", PASSWORD, source="10.0.0.2", now=later + auth.SIGN_IN_FIRST_DELAY)
    assert refused.actor is None and refused.retry_at == later + 2 * auth.SIGN_IN_FIRST_DELAY  # doubled
    ok = _try(engine, "ann@example.com", PASSWORD, source="10.0.0.2", now=later + 2 * auth.SIGN_IN_FIRST_DELAY)
    assert ok.actor is not None and ok.actor.label == "ann@example.com"
    # The account's counter starts again: one more wrong password is not delayed.
    again = _try(engine, "ann@example.com", "wrong password guess", source="10.0.0.3", now=later + timedelta(hours=1))
    assert again.retry_at is None and again.message == auth.WRONG_CREDENTIALS


def test_a_source_guessing_many_accounts_is_throttled_and_others_are_not(engine: sa.Engine) -> None:
    _add(engine)
    now = utcnow()
    for n in range(auth.SIGN_IN_FREE_FAILURES):
        _try(engine, f"guess{n}@example.com", "Summer2026!", source="203.0.113.9", now=now)
    from_there = _try(engine, "ann@example.com", PASSWORD, source="203.0.113.9", now=now)
    assert from_there.actor is None and "Too many failed sign-ins" in (from_there.message or "")
    elsewhere = _try(engine, "ann@example.com", PASSWORD, source="198.51.100.7", now=now)
    assert elsewhere.actor is not None


def test_twenty_failures_lock_the_account_until_an_admin_unlocks_it(engine: sa.Engine) -> None:
    user_id = _add(engine)
    now = utcnow()
    results = []
    for n in range(auth.SIGN_IN_LOCKOUT_FAILURES):
        retry = results[-1].retry_at if results and results[-1].retry_at else now
        results.append(_try(engine, "ann@example.com", "wrong password guess", source=f"10.1.0.{n}", now=retry))
    assert results[-1].locked and "locked" in (results[-1].message or "")
    half_an_hour = now + timedelta(minutes=30) + auth.SIGN_IN_MAX_DELAY * 3
    locked = _try(engine, "ann@example.com", PASSWORD, source="10.2.0.1", now=half_an_hour)
    assert locked.actor is None and locked.locked and "Ask an admin to unlock it" in (locked.message or "")
    with transaction(engine) as session:
        assert "ann@example.com" in auth.sign_in_locks(session, now=half_an_hour)
        auth.unlock_sign_in(ADMIN, session, user_id)
    assert _try(engine, "ann@example.com", PASSWORD, source="10.2.0.1", now=half_an_hour).actor is not None


def test_unknown_e_mails_get_the_same_answers_and_the_same_work(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(engine)
    verified: list[str] = []
    real = auth._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_[:9])
            return real.verify(hash_, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(auth, "_hasher", CountingHasher())

    def attempts(email: str, source: str) -> list[tuple[str | None, bool, bool]]:
        now = utcnow()
        seen = []
        for _ in range(auth.SIGN_IN_LOCKOUT_FAILURES + 2):
            result = _try(engine, email, "wrong password guess", source=source, now=now)
            seen.append((result.message, result.retry_at is not None, result.locked))
        return seen

    known = attempts("ann@example.com", "10.3.0.1")
    known_work = len(verified)
    verified.clear()
    unknown = attempts("nobody@example.com", "10.3.0.2")
    assert known == unknown
    assert len(verified) == known_work and set(verified) == {"$argon2id"}
    with transaction(engine) as session:
        rows = session.scalars(sa.select(AuditLog).where(AuditLog.action.like("user.sign_in%"))).all()
    assert {r.action for r in rows} == {"user.sign_in_failed", "user.sign_in_refused"}


def test_every_failure_and_success_is_audited_without_the_password(engine: sa.Engine) -> None:
    user_id = _add(engine)
    _try(engine, "ann@example.com", "wrong password guess", source="192.0.2.4")
    _try(engine, "nobody@example.com", "another wrong guess", source="192.0.2.4")
    _try(engine, "ann@example.com", PASSWORD, source="192.0.2.4")
    with transaction(engine) as session:
        rows = session.scalars(
            sa.select(AuditLog).where(AuditLog.action.like("user.sign_in%")).order_by(AuditLog.id)
        ).all()
        stored = repr([(r.actor_label, r.action, r.entity_id, r.before, r.after) for r in rows])
    assert [(r.action, r.entity_id) for r in rows] == [
        ("user.sign_in_failed", str(user_id)),
        ("user.sign_in_failed", None),
        ("user.sign_in", str(user_id)),
    ]
    assert all(r.after["source"] == "192.0.2.4" for r in rows)
    assert rows[1].after["email"] == "nobody@example.com" and rows[2].actor_label == "ann@example.com"
    for secret in ("wrong password guess", "another wrong guess", PASSWORD, "argon2"):
        assert secret not in stored


@pytest.mark.parametrize(
    "password",
    ["eleven char", "aaaaaaaaaaaaaaaa", " " * 16, "\t" * 14, "password1234", "Qwertyuiop123", "iloveyouiloveyou"],
)
def test_weak_passwords_are_refused_on_create_change_and_reset(engine: sa.Engine, password: str) -> None:
    user_id = _add(engine)
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        auth.create_user(ADMIN, session, email="weak@example.com", role="viewer", password=password)
    assert set(raised.value.errors) == {"password"}
    with pytest.raises(InvalidInput, match="password"), transaction(engine) as session:
        auth.reset_password(ADMIN, session, user_id, password)
    with transaction(engine) as session:
        actor = Actor.from_user(session.get_one(User, user_id))
    with pytest.raises(InvalidInput, match="password"), transaction(engine) as session:
        auth.change_password(session, actor, PASSWORD, password)
    assert _try(engine, "ann@example.com", PASSWORD).actor is not None


def test_a_user_changes_their_password_knowing_the_current_one(engine: sa.Engine) -> None:
    user_id = _add(engine)
    with transaction(engine) as session:
        actor = Actor.from_user(session.get_one(User, user_id))
    with transaction(engine) as session:
        assert auth.change_password(session, actor, "not my password!", "a brand new passphrase") is not None
    with transaction(engine) as session:
        assert auth.change_password(session, actor, PASSWORD, "a brand new passphrase") is None
    assert _try(engine, "ann@example.com", PASSWORD).actor is None
    assert _try(engine, "ann@example.com", "a brand new passphrase").actor is not None
    with transaction(engine) as session:
        actions = session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "user.password_change_failed" in actions and "user.change_password" in actions


def test_an_admin_reset_forces_a_change_before_anything_else(engine: sa.Engine) -> None:
    user_id = _add(engine)
    with transaction(engine) as session:
        temporary = auth.reset_password(ADMIN, session, user_id)
    assert auth.password_problem(temporary) is None
    result = _try(engine, "ann@example.com", temporary)
    assert result.actor is not None and result.must_change_password
    with pytest.raises(PermissionDenied, match="new password"):
        auth.require(result.actor, auth.Permission.CATALOG_WRITE)
    with transaction(engine) as session:
        assert auth.change_password(session, result.actor, temporary, "my own new passphrase") is None
    after = _try(engine, "ann@example.com", "my own new passphrase")
    assert after.actor is not None and not after.must_change_password
    assert auth.require(after.actor, auth.Permission.CATALOG_WRITE) is after.actor
