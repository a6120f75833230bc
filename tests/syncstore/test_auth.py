# Access control: deny by default (A1), the role matrix (A2), audit rows (A3), and password sign-in.
from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

import syncstore
from syncstore.catalog import commands as catalog
from syncstore.db.engine import transaction
from syncstore.db.models import AuditLog, Base, User
from syncstore.errors import InvalidInput, PermissionDenied
from syncstore.security import auth
from syncstore.security.auth import MUTATIONS, ROLE_PERMISSIONS, Actor, Permission, Role

ADMIN = Actor(user_id=None, label="admin@example.com", role=Role.ADMIN)
EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)
ACTORS: dict[str, Actor | None] = {"anonymous": None, "viewer": VIEWER, "editor": EDITOR, "admin": ADMIN}


# The permission check itself takes an actor but changes nothing.
THE_CHECK = {"syncstore.security.auth.can", "syncstore.security.auth.require"}


def _service_modules() -> list[Any]:
    names = [m.name for m in pkgutil.walk_packages(syncstore.__path__, "syncstore.")]
    skipped = ("syncstore.db.migrations", "syncstore.data.generate_sample")
    return [importlib.import_module(n) for n in names if not n.startswith(skipped)]


def _functions_taking_an_actor() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module in _service_modules():
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or func.__module__ != module.__name__:
                continue
            params = list(inspect.signature(func).parameters)
            qualified = f"{module.__name__}.{name}"
            if params and params[0] == "actor" and qualified not in THE_CHECK:
                found[qualified] = func
    return found


def test_a1_every_function_taking_an_actor_is_a_checked_mutation() -> None:
    functions = _functions_taking_an_actor()
    assert len(functions) >= 8  # catalog, users, outbox, connections, keys, import
    unchecked = [name for name, func in functions.items() if not hasattr(func, "required_permission")]
    assert unchecked == []
    assert set(functions) <= set(MUTATIONS)


@pytest.mark.parametrize("name", sorted(_functions_taking_an_actor()))
def test_a1_anonymous_is_refused_before_any_work(name: str) -> None:
    func = _functions_taking_an_actor()[name]
    # No other argument is given: the check must come before anything touches them.
    with pytest.raises(PermissionDenied, match="sign in"):
        func(None)


@pytest.mark.parametrize("role", ["anonymous", "viewer", "editor", "admin"])
def test_a2_role_matrix_over_every_mutation(role: str) -> None:
    actor = ACTORS[role]
    for name, permission in MUTATIONS.items():
        module_name, func_name = name.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        allowed = actor is not None and permission in ROLE_PERMISSIONS[actor.role]
        if allowed:
            # Past the check, the missing arguments fail: proof the check let the actor through.
            with pytest.raises(TypeError):
                func(actor)
        else:
            with pytest.raises(PermissionDenied):
                func(actor)


def test_a2_only_admins_manage_users_connections_and_keys() -> None:
    admin_only = {Permission.USERS_MANAGE, Permission.CONNECTIONS_MANAGE, Permission.KEYS_MANAGE}
    assert admin_only.isdisjoint(ROLE_PERMISSIONS[Role.EDITOR])
    assert ROLE_PERMISSIONS[Role.VIEWER] == frozenset()
    assert admin_only <= ROLE_PERMISSIONS[Role.ADMIN]


def _row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.scalar(sa.select(sa.func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
        }


def test_a2_a_viewer_changes_nothing_in_the_database(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        product = catalog.create_product(
            EDITOR, session, {"title": "Mug", "category": "Home", "base_price": "12.00",
                              "variants": [{"sku": "MUG-1", "name": "White"}]},
        )  # fmt: skip
        user = auth.create_user(ADMIN, session, email="v@example.com", role="viewer", password="long enough pw")
    before = _row_counts(engine)
    attempts: list[Callable[[Any], Any]] = [
        lambda s: catalog.update_product(VIEWER, s, product.id, expected_version=1, changes={"title": "x"}),
        lambda s: catalog.delete_product(VIEWER, s, product.id, expected_version=1),
        lambda s: catalog.create_product(VIEWER, s, {"title": "y"}),
        lambda s: auth.create_user(VIEWER, s, email="x@example.com", role="admin", password="long enough pw"),
        lambda s: auth.set_role(VIEWER, s, user.id, "admin"),
        lambda s: auth.set_role(EDITOR, s, user.id, "admin"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            attempt(session)
    assert _row_counts(engine) == before


def test_a3_sensitive_actions_write_who_what_before_after_when(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        user = auth.create_user(ADMIN, session, email="Ed@Example.com", role="editor", password="correct horse 1")
    with transaction(engine) as session:
        auth.set_role(ADMIN, session, user.id, "viewer")
    with transaction(engine) as session:
        auth.deactivate_user(ADMIN, session, user.id)
    with transaction(engine) as session:
        rows = session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["user.create", "user.set_role", "user.deactivate"]
    assert all(r.actor_label == "admin@example.com" and r.created_at is not None for r in rows)
    assert rows[1].before["role"] == "editor" and rows[1].after["role"] == "viewer"
    assert rows[2].after["is_active"] is False
    assert all("password" not in str(r.after) and "argon2" not in str(r.after) for r in rows)


def test_passwords_are_argon2_hashes_and_sign_in_works(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        auth.create_user(ADMIN, session, email="ann@example.com", role="editor", password="s3cret-enough")
    with transaction(engine) as session:
        stored = session.scalars(sa.select(User.password_hash)).one()
        assert stored is not None and stored.startswith("$argon2id$") and "s3cret" not in stored
        actor = auth.authenticate(session, " ANN@example.com ", "s3cret-enough")
        assert actor is not None and actor.role is Role.EDITOR and actor.label == "ann@example.com"
        assert auth.authenticate(session, "ann@example.com", "wrong password") is None
        assert auth.authenticate(session, "nobody@example.com", "s3cret-enough") is None


def test_inactive_users_cannot_sign_in_and_bad_input_is_named(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        user = auth.create_user(ADMIN, session, email="bob@example.com", role="viewer", password="long enough pw")
        auth.deactivate_user(ADMIN, session, user.id)
    with transaction(engine) as session:
        assert auth.authenticate(session, "bob@example.com", "long enough pw") is None
    with pytest.raises(InvalidInput) as raised, transaction(engine) as session:
        auth.create_user(ADMIN, session, email="not-an-email", role="viewer", password="short")
    assert set(raised.value.errors) == {"email", "password"}
    with pytest.raises(InvalidInput, match="already exists"), transaction(engine) as session:
        auth.create_user(ADMIN, session, email="BOB@example.com", role="viewer", password="long enough pw")
