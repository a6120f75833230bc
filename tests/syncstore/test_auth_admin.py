# Reads and guards for the Admin page: listing users, (re)activating, never losing the last admin; the audit filters.
from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from syncstore.db.engine import transaction
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput
from syncstore.security import audit, auth
from syncstore.security.auth import Actor, Role

ADMIN = Actor(user_id=None, label="root@example.com", role=Role.ADMIN)


def test_users_are_listed_without_secrets_and_the_last_admin_stays(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        boss = auth.create_user(ADMIN, session, email="boss@example.com", role="admin", password="long enough pw")
        auth.create_user(ADMIN, session, email="sso@example.com", role="viewer", password=None)
    with transaction(engine) as session:
        users = auth.list_users(session)
    assert [(u.email, u.role, u.has_password) for u in users] == [
        ("boss@example.com", Role.ADMIN, True),
        ("sso@example.com", Role.VIEWER, False),
    ]
    assert "argon2" not in repr(users)
    for change in (
        lambda s: auth.set_role(ADMIN, s, boss.id, "editor"),
        lambda s: auth.deactivate_user(ADMIN, s, boss.id),
    ):
        with pytest.raises(InvalidInput, match="last active admin"), transaction(engine) as session:
            change(session)
    with transaction(engine) as session:
        second = auth.create_user(ADMIN, session, email="two@example.com", role="admin", password="long enough pw")
    with transaction(engine) as session:
        auth.deactivate_user(ADMIN, session, boss.id)
    with transaction(engine) as session:
        assert [u.email for u in auth.list_users(session, include_inactive=False)] == [
            "sso@example.com",
            "two@example.com",
        ]
        auth.activate_user(ADMIN, session, boss.id)
        assert second.id
    with transaction(engine) as session:
        assert auth.authenticate(session, "boss@example.com", "long enough pw") is not None


def test_the_audit_log_filters_and_counts(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        user = auth.create_user(ADMIN, session, email="ed@example.com", role="editor", password="long enough pw")
        auth.set_role(ADMIN, session, user.id, "viewer")
        audit.record_system(session, "dagster", "token.refresh", "platform_connection", 7)
    with transaction(engine) as session:
        everything = audit.list_audit(session)
        users = audit.list_audit(session, audit.AuditFilter(action="user."))
        one = audit.list_audit(session, audit.AuditFilter(action="user.set_role", entity_id=str(user.id)))
        system = audit.list_audit(session, audit.AuditFilter(actor_label="system:dagster"))
        future = audit.list_audit(session, audit.AuditFilter(since=utcnow() + timedelta(minutes=1)))
        paged = audit.list_audit(session, limit=1, offset=1)
        actors, actions, entities = audit.audit_choices(session)
    assert everything.total == 3 and everything.rows[0].action == "token.refresh"
    assert users.total == 2 and {r.action for r in users.rows} == {"user.create", "user.set_role"}
    assert [r.action for r in one.rows] == ["user.set_role"]
    assert [r.entity_id for r in system.rows] == ["7"]
    assert future.total == 0 and future.rows == []
    assert (paged.total, [r.action for r in paged.rows]) == (3, ["user.set_role"])
    assert actors == ["root@example.com", "system:dagster"]
    assert actions == ["token.refresh", "user.create", "user.set_role"]
    assert entities == ["platform_connection", "user"]


@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one_admin(engine: sa.Engine, change: str) -> None:
    """S8 with two real transactions: each admin demotes (or deactivates) the other at the same moment."""
    with transaction(engine) as session:
        first = auth.create_user(ADMIN, session, email="one@example.com", role="admin", password="long enough pw")
        second = auth.create_user(ADMIN, session, email="two@example.com", role="admin", password="long enough pw")
        pairs = [(Actor.from_user(first), second.id), (Actor.from_user(second), first.id)]
    start = threading.Barrier(2)
    # Both wait here after their own check, before committing. Without a lock both checks pass
    # (each sees the other still an admin) and both commit; with the lock the second transaction
    # is still blocked inside its check, so the first gives up waiting and commits alone.
    checked = threading.Barrier(2, timeout=3)
    outcomes: dict[int, str] = {}

    def remove(actor: Actor, other_id: int) -> None:
        start.wait()
        try:
            with transaction(engine) as session:
                if change == "demote":
                    auth.set_role(actor, session, other_id, "editor")
                else:
                    auth.deactivate_user(actor, session, other_id)
                with contextlib.suppress(threading.BrokenBarrierError):
                    checked.wait()
            outcomes[other_id] = "done"
        except InvalidInput as error:
            outcomes[other_id] = str(error)
            checked.abort()

    threads = [threading.Thread(target=remove, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values())[0] == "done"
    assert "last active admin" in sorted(outcomes.values())[1]
    with transaction(engine) as session:
        admins = [u.email for u in auth.list_users(session, include_inactive=False) if u.role is Role.ADMIN]
    assert len(admins) == 1
